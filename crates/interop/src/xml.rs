//! A small document tree over quick-xml, for files small enough to hold whole (a RevMan review):
//! elements with their attributes, text and the line they start on.

use metapipe_tables::{Error, Result};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// One element.
#[derive(Debug, Default)]
pub struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
    /// the element's own text (children's not included), trimmed
    pub text: String,
    /// 1-based line of the start tag
    pub line: usize,
}

impl Node {
    pub fn attr(&self, k: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }
    /// The text of a child element ("" when absent).
    pub fn child_text(&self, name: &str) -> &str {
        self.child(name).map_or("", |c| c.text.as_str())
    }
}

/// Text of a file: UTF-8, or ISO-8859-1 when its XML declaration says so (RevMan 5 writes it).
pub fn decode(bytes: &[u8]) -> String {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).to_ascii_lowercase();
    if head.contains("encoding=\"iso-8859-1\"") || head.contains("encoding='iso-8859-1'") {
        bytes.iter().map(|&b| b as char).collect()
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// Parse a document into its root element (errors carry the line).
pub fn parse(text: &str) -> Result<Node> {
    let line_of = |pos: usize| {
        text.as_bytes()[..pos.min(text.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    };
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Node> = vec![Node::default()];
    loop {
        let pos = reader.buffer_position() as usize;
        let ev = reader.read_event().map_err(|e| {
            Error::data(format!("malformed XML: {e}"))
                .line(line_of(reader.error_position() as usize))
        })?;
        match ev {
            Event::Start(e) => stack.push(start(&e, line_of(pos + 1))),
            Event::Empty(e) => {
                let n = start(&e, line_of(pos + 1));
                stack.last_mut().expect("root").children.push(n);
            }
            Event::Text(t) => stack
                .last_mut()
                .expect("root")
                .text
                .push_str(&t.xml10_content()),
            Event::CData(t) => stack.last_mut().expect("root").text.push_str(&t),
            Event::GeneralRef(r) => {
                let c = match r.to_string().as_str() {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    _ => r.resolve_char_ref().ok().flatten(),
                };
                stack.last_mut().expect("root").text.extend(c);
            }
            Event::End(e) => {
                let name = e.name().as_ref().to_string();
                let mut n = stack.pop().expect("open element");
                if n.name != name || stack.is_empty() {
                    return Err(Error::data(format!("</{name}> closes <{}>", n.name))
                        .line(line_of(pos + 1))
                        .field(name));
                }
                n.text = n.text.trim().to_string();
                stack.last_mut().expect("parent").children.push(n);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        let open = &stack.last().expect("open").name;
        return Err(Error::data(format!("truncated: <{open}> is not closed")).field(open.clone()));
    }
    let root = stack.pop().expect("root");
    root.children
        .into_iter()
        .next()
        .ok_or_else(|| Error::data("no root element"))
}

fn start(e: &BytesStart, line: usize) -> Node {
    let attrs = e
        .attributes()
        .flatten()
        .map(|a| {
            let v = a.normalized_value(quick_xml::XmlVersion::Implicit1_0);
            (
                a.key.as_ref().to_string(),
                v.map(|v| v.to_string()).unwrap_or_default(),
            )
        })
        .collect();
    Node {
        name: e.name().as_ref().to_string(),
        attrs,
        line,
        ..Default::default()
    }
}

/// `s` with XML's special characters escaped (attribute values and text).
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            c => o.push(c),
        }
    }
    o
}
