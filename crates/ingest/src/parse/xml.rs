//! XML exports: PubMed XML (`<PubmedArticleSet>`, efetch or "Save as XML"), the WHO ICTRP
//! search portal's export (`<Trials_downloaded_from_ICTRP>`, a register that PRISMA 2020 counts
//! apart from databases) and EndNote XML (`endnote.rs`). One walker over the elements of each
//! record; a mapping per format.

use super::record::{finish, push_text as set, year_of, LineIndex, Record};
use metapipe_tables::{Error, Result};
use quick_xml::events::Event;
use quick_xml::Reader;

/// One element as the walker reports it at its end: its name, the names of its ancestors
/// (innermost last), its attributes, and its text.
pub(crate) struct Element<'a> {
    pub name: &'a str,
    pub ancestors: &'a [String],
    pub attrs: &'a [(String, String)],
    /// the text, its whitespace runs collapsed to one space
    pub value: &'a str,
    /// the text as written (its children's included)
    pub raw: &'a str,
    /// no child elements
    pub leaf: bool,
}

impl Element<'_> {
    pub(crate) fn parent(&self) -> &str {
        self.ancestors.last().map(String::as_str).unwrap_or("")
    }
    fn within(&self, name: &str) -> bool {
        self.ancestors.iter().any(|a| a == name)
    }
    fn attr(&self, k: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.as_str())
    }
}

/// Walk `text`, one record per `record_tag` element; `field` maps each element ending inside a
/// record (and may set the record's id).
pub(crate) fn records(
    text: &str,
    file: &str,
    database: &str,
    record_tag: &str,
    mut field: impl FnMut(&mut Record, &mut Option<String>, &Element),
) -> Result<Vec<Record>> {
    let mut reader = Reader::from_str(text);
    let lines = LineIndex::new(text);
    let mut w = Walk {
        record_tag,
        database,
        stack: vec![],
        names: vec![],
        out: vec![],
        cur: None,
        bufs: vec![String::new()],
    };
    loop {
        let pos = reader.buffer_position() as usize;
        let ev = reader.read_event().map_err(|e| {
            Error::data(format!("malformed XML: {e}"))
                .line(lines.line(reader.error_position() as usize))
        })?;
        let line = || lines.line(pos + 1);
        match ev {
            Event::Start(e) => {
                let name = e.name().as_ref().to_string();
                if name == record_tag {
                    let r = Record {
                        database: database.into(),
                        source_file: file.into(),
                        source_line: line(),
                        ..Default::default()
                    };
                    w.cur = Some((r, None));
                }
                w.start(name, attributes(&e));
            }
            Event::Text(t) => w.text().push_str(&t.xml10_content()),
            Event::CData(t) => w.text().push_str(&t),
            Event::GeneralRef(r) => w.text().extend(entity(&r)),
            Event::End(e) => w.end(e.name().as_ref().to_string(), line, &mut field)?,
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some((open, _, _)) = w.stack.last() {
        return Err(Error::data(format!("truncated: <{open}> is not closed"))
            .line(text.lines().count())
            .field(open.clone()));
    }
    Ok(w.out)
}

/// An element's attributes (name, normalized value).
fn attributes(e: &quick_xml::events::BytesStart) -> Vec<(String, String)> {
    e.attributes()
        .flatten()
        .map(|a| {
            let v = a.normalized_value(quick_xml::XmlVersion::Implicit1_0);
            (
                a.key.as_ref().to_string(),
                v.map(|v| v.to_string()).unwrap_or_default(),
            )
        })
        .collect()
}

/// The state of a walk through an XML export.
struct Walk<'a> {
    record_tag: &'a str,
    database: &'a str,
    /// open elements: name, attributes, whether a child element has started
    stack: Vec<(String, Vec<(String, String)>, bool)>,
    names: Vec<String>,
    out: Vec<Record>,
    cur: Option<(Record, Option<String>)>,
    /// one text buffer per open element; an element's text includes its children's (inline
    /// markup such as <i> inside a title)
    bufs: Vec<String>,
}

impl Walk<'_> {
    fn text(&mut self) -> &mut String {
        self.bufs.last_mut().expect("root buffer")
    }

    fn start(&mut self, name: String, attrs: Vec<(String, String)>) {
        self.bufs.push(String::new());
        self.names.push(name.clone());
        if let Some(parent) = self.stack.last_mut() {
            parent.2 = true;
        }
        self.stack.push((name, attrs, false));
    }

    /// An element's end: the record finished, or the element given to `field`.
    fn end(
        &mut self,
        name: String,
        line: impl Fn() -> usize,
        field: &mut impl FnMut(&mut Record, &mut Option<String>, &Element),
    ) -> Result<()> {
        let Some((open, attrs, has_children)) = self.stack.pop() else {
            return Err(Error::data(format!("</{name}> without an opening tag"))
                .line(line())
                .field(name));
        };
        self.names.pop();
        let text = self.bufs.pop().unwrap_or_default();
        if let Some(parent) = self.bufs.last_mut() {
            parent.push_str(&text);
        }
        if open != name {
            return Err(Error::data(format!("</{name}> closes <{open}>"))
                .line(line())
                .field(name));
        }
        if name == self.record_tag {
            if let Some((r, id)) = self.cur.take() {
                self.out.push(finish(r, id, self.database));
            }
        } else if let Some((r, id)) = self.cur.as_mut() {
            let v = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let element = Element {
                name: &name,
                ancestors: &self.names,
                attrs: &attrs,
                value: &v,
                raw: &text,
                leaf: !has_children,
            };
            field(r, id, &element);
        }
        Ok(())
    }
}

/// The character an entity or character reference stands for (`&amp;`, `&#233;`, …); `None`
/// for an entity XML does not predefine.
pub(crate) fn entity(r: &quick_xml::events::BytesRef) -> Option<char> {
    match r.to_string().as_str() {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => r.resolve_char_ref().ok().flatten(),
    }
}

/// PubMed XML: one record per `<PubmedArticle>`, id the PMID.
pub fn parse_pubmed_xml(text: &str, file: &str, database: &str) -> Result<Vec<Record>> {
    let (mut last, mut initials) = (String::new(), String::new());
    records(text, file, database, "PubmedArticle", |r, id, e| {
        match e.name {
            "PMID" if e.parent() == "MedlineCitation" => set(id, e.value),
            "ArticleTitle" => set(&mut r.title, e.value),
            "LastName" => last = e.value.to_string(),
            "Initials" | "ForeName" if initials.is_empty() || e.name == "Initials" => {
                initials = e.value.to_string()
            }
            "CollectiveName" if e.parent() == "Author" => last = e.value.to_string(),
            "Author" if e.parent() == "AuthorList" => {
                let a = if initials.is_empty() {
                    std::mem::take(&mut last)
                } else {
                    format!(
                        "{} {}",
                        std::mem::take(&mut last),
                        std::mem::take(&mut initials)
                    )
                };
                if !a.trim().is_empty() {
                    r.authors.push(a);
                }
            }
            "Title" if e.parent() == "Journal" => set(&mut r.journal, e.value),
            "ISOAbbreviation" => set(&mut r.journal_abbrev, e.value),
            "Volume" if e.parent() == "JournalIssue" => set(&mut r.volume, e.value),
            "Issue" if e.parent() == "JournalIssue" => set(&mut r.issue, e.value),
            "Year" | "MedlineDate" if e.within("PubDate") => r.year = r.year.or(year_of(e.value)),
            "MedlinePgn" => set(&mut r.pages, e.value),
            "ELocationID" | "ArticleId"
                if matches!(e.attr("EIdType").or(e.attr("IdType")), Some("doi")) =>
            {
                set(&mut r.doi, e.value)
            }
            "AbstractText" => match &mut r.abstract_ {
                Some(a) => {
                    a.push(' ');
                    a.push_str(e.value);
                }
                None => set(&mut r.abstract_, e.value),
            },
            "PublicationType" => set(&mut r.entry_type, e.value),
            _ => {}
        }
    })
}

/// WHO ICTRP export: one record per `<Trial>`, id the trial id (NCT…, ISRCTN…, ChiCTR…).
pub fn parse_ictrp_xml(text: &str, file: &str, database: &str) -> Result<Vec<Record>> {
    records(text, file, database, "Trial", |r, id, e| {
        r.entry_type
            .get_or_insert_with(|| "trial registration".into());
        match e.name {
            "TrialID" => set(id, e.value),
            "Public_title" | "Public_Title" => set(&mut r.title, e.value),
            "Scientific_title" | "Scientific_Title" => {
                if r.title.is_none() {
                    set(&mut r.title, e.value)
                } else if !e.value.is_empty() {
                    r.extra
                        .push(("Scientific_title".into(), e.value.to_string()))
                }
            }
            "Date_registration" | "Date_Registration" | "Date_enrollement" if r.year.is_none() => {
                r.year = year_of(e.value)
            }
            "Primary_sponsor" | "Primary_Sponsor" => r
                .authors
                .extend((!e.value.is_empty()).then(|| e.value.to_string())),
            n if !e.value.is_empty() => r.extra.push((n.to_string(), e.value.to_string())),
            _ => {}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pubmed_xml_record() {
        let t = r#"<?xml version="1.0" ?>
<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2024//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_240101.dtd">
<PubmedArticleSet>
<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">99000001</PMID>
<Article><Journal><JournalIssue CitedMedium="Internet"><Volume>9</Volume><Issue>12</Issue><PubDate><Year>2021</Year><Month>Dec</Month></PubDate></JournalIssue>
<Title>The Lancet. Respiratory medicine</Title><ISOAbbreviation>Lancet Respir Med</ISOAbbreviation></Journal>
<ArticleTitle>Synthetic effect of &amp; drugs: a <i>factorial</i> trial.</ArticleTitle>
<Pagination><MedlinePgn>1427-1438</MedlinePgn></Pagination><ELocationID EIdType="doi" ValidYN="Y">10.5555/synth.1</ELocationID>
<AuthorList><Author><LastName>Declercq</LastName><ForeName>Jozefien</ForeName><Initials>J</Initials></Author><Author><CollectiveName>COV-AID study group</CollectiveName></Author></AuthorList>
<PublicationTypeList><PublicationType UI="D016449">Randomized Controlled Trial</PublicationType></PublicationTypeList></Article>
<MedlineJournalInfo><NlmUniqueID>1</NlmUniqueID></MedlineJournalInfo></MedlineCitation>
<PubmedData><ArticleIdList><ArticleId IdType="pubmed">99000001</ArticleId><ArticleId IdType="doi">10.5555/synth.1</ArticleId></ArticleIdList></PubmedData></PubmedArticle>
</PubmedArticleSet>"#;
        let r = parse_pubmed_xml(t, "f", "pubmed").unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].record_id, "pubmed:99000001");
        assert_eq!(r[0].source_line, 4);
        assert_eq!(
            r[0].title.as_deref(),
            Some("Synthetic effect of & drugs: a factorial trial.")
        );
        assert_eq!(r[0].authors, vec!["Declercq J", "COV-AID study group"]);
        assert_eq!(
            (
                r[0].year,
                r[0].volume.as_deref(),
                r[0].issue.as_deref(),
                r[0].pages.as_deref()
            ),
            (Some(2021), Some("9"), Some("12"), Some("1427-1438"))
        );
        assert_eq!(r[0].doi.as_deref(), Some("10.5555/synth.1"));
        assert_eq!(r[0].journal_abbrev.as_deref(), Some("Lancet Respir Med"));
    }

    #[test]
    fn ictrp_xml_record_and_truncation() {
        let t = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Trials_downloaded_from_ICTRP>\n<Trial>\n<Internal_Number>1</Internal_Number>\n<TrialID>NCT99000001</TrialID>\n<Public_title>Synthetic registered trial of a drug</Public_title>\n<Scientific_title>A synthetic randomised trial</Scientific_title>\n<Primary_sponsor>Synthetic University</Primary_sponsor>\n<Date_registration>15/03/2020</Date_registration>\n</Trial>\n</Trials_downloaded_from_ICTRP>\n";
        let r = parse_ictrp_xml(t, "f", "ictrp").unwrap();
        assert_eq!(r[0].record_id, "ictrp:NCT99000001");
        assert_eq!(
            (r[0].title.as_deref(), r[0].year, r[0].entry_type.as_deref()),
            (
                Some("Synthetic registered trial of a drug"),
                Some(2020),
                Some("trial registration")
            )
        );
        let e = parse_ictrp_xml(&t[..t.len() - 40], "f", "ictrp").unwrap_err();
        assert!(e.message.contains("not closed"), "{e}");
    }
}
