//! BibTeX (`@type{key, field = {value}, ...}`), LaTeX accents and escapes removed.

use super::record::{finish, push_text as set, year_of, Record};
use metapipe_tables::{Error, Result};

/// Strip BibTeX braces and common LaTeX accents/escapes from a field value.
pub fn delatex(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' | '}' => {}
            '\\' => {
                // \'e \"o \`a \^o \~n \c{c} \& \% \_ and \command
                match chars.peek().copied() {
                    Some(a @ ('\'' | '"' | '`' | '^' | '~' | '=' | '.')) => {
                        chars.next();
                        let mut base = chars.next();
                        if base == Some('{') {
                            base = chars.next();
                            if chars.peek() == Some(&'}') {
                                chars.next();
                            }
                        }
                        if let Some(b) = base {
                            out.push(accent(a, b));
                        }
                    }
                    Some(x @ ('&' | '%' | '_' | '$' | '#' | '{' | '}')) => {
                        chars.next();
                        out.push(x);
                    }
                    _ => {
                        let mut cmd = String::new();
                        while let Some(&x) = chars.peek() {
                            if x.is_ascii_alphabetic() {
                                cmd.push(x);
                                chars.next();
                            } else {
                                break;
                            }
                        }
                        match cmd.as_str() {
                            "ss" => out.push('ß'),
                            "o" => out.push('ø'),
                            "ae" => out.push('æ'),
                            "c" | "textit" | "emph" | "textbf" | "mathrm" => {}
                            _ => {}
                        }
                    }
                }
            }
            c => out.push(c),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn accent(a: char, b: char) -> char {
    let table: &[(char, char, char)] = &[
        ('\'', 'e', 'é'),
        ('\'', 'a', 'á'),
        ('\'', 'i', 'í'),
        ('\'', 'o', 'ó'),
        ('\'', 'u', 'ú'),
        ('\'', 'E', 'É'),
        ('`', 'e', 'è'),
        ('`', 'a', 'à'),
        ('^', 'e', 'ê'),
        ('^', 'o', 'ô'),
        ('^', 'a', 'â'),
        ('"', 'o', 'ö'),
        ('"', 'u', 'ü'),
        ('"', 'a', 'ä'),
        ('"', 'O', 'Ö'),
        ('"', 'U', 'Ü'),
        ('"', 'A', 'Ä'),
        ('~', 'n', 'ñ'),
        ('~', 'a', 'ã'),
        ('~', 'o', 'õ'),
    ];
    table
        .iter()
        .find(|(x, y, _)| *x == a && *y == b)
        .map(|t| t.2)
        .unwrap_or(b)
}

/// BibTeX: `@type{key, field = {value} | "value" | number, ...}`. Braces must balance; an
/// unbalanced entry is an error naming the line where it starts.
pub fn parse_bibtex(text: &str, file: &str, database: &str) -> Result<Vec<Record>> {
    let mut c = Cursor::new(text);
    let mut out = vec![];
    while c.i < c.b.len() {
        if c.b[c.i] != '@' {
            c.i += 1;
            continue;
        }
        let start_line = c.line_at[c.i];
        c.i += 1;
        let mut ty = String::new();
        while c.more() && c.b[c.i].is_ascii_alphanumeric() {
            ty.push(c.b[c.i]);
            c.i += 1;
        }
        c.skip_ws();
        if !c.more() || (c.b[c.i] != '{' && c.b[c.i] != '(') {
            return Err(
                Error::data(format!("@{ty}: expected '{{' after the entry type")).line(c.line()),
            );
        }
        let close = if c.b[c.i] == '{' { '}' } else { ')' };
        c.i += 1;
        let lt = ty.to_ascii_lowercase();
        if lt == "comment" || lt == "preamble" || lt == "string" {
            c.skip_block(&ty, start_line)?;
            continue;
        }
        let mut key = String::new();
        while c.more() && c.b[c.i] != ',' && c.b[c.i] != close {
            key.push(c.b[c.i]);
            c.i += 1;
        }
        let mut r = Record {
            database: database.into(),
            source_file: file.into(),
            source_line: start_line,
            entry_type: Some(lt.clone()),
            ..Default::default()
        };
        let mut pages = None;
        let key = key.trim();
        while let Some((name, value)) = c.field(key, close, start_line)? {
            set_field(&mut r, &mut pages, name, delatex(&value));
        }
        r.pages = pages;
        out.push(finish(r, Some(key.to_string()), database));
    }
    Ok(out)
}

/// A field of a BibTeX entry into the record.
fn set_field(r: &mut Record, pages: &mut Option<String>, name: String, v: String) {
    match name.as_str() {
        "title" => set(&mut r.title, &v),
        "author" => {
            r.authors = v
                .split(" and ")
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()
        }
        "journal" | "journaltitle" | "booktitle" => set(&mut r.journal, &v),
        "year" | "date" => r.year = r.year.or(year_of(&v)),
        "volume" => set(&mut r.volume, &v),
        "number" | "issue" => set(&mut r.issue, &v),
        "pages" => *pages = Some(v.replace("--", "-")),
        "doi" => set(&mut r.doi, &v),
        "abstract" => set(&mut r.abstract_, &v),
        _ => r.extra.push((name, v)),
    }
}

/// A position in a BibTeX file, with the line of every character.
struct Cursor {
    b: Vec<char>,
    line_at: Vec<usize>,
    i: usize,
}

impl Cursor {
    fn new(text: &str) -> Cursor {
        let b: Vec<char> = text.chars().collect();
        let mut line_at = Vec::with_capacity(b.len() + 1);
        let mut ln = 1;
        for c in &b {
            line_at.push(ln);
            if *c == '\n' {
                ln += 1;
            }
        }
        line_at.push(ln);
        Cursor { b, line_at, i: 0 }
    }

    fn more(&self) -> bool {
        self.i < self.b.len()
    }

    /// The line of the cursor (the last line at the end).
    fn line(&self) -> usize {
        self.line_at[self.i.min(self.b.len())]
    }

    fn skip_ws(&mut self) {
        while self.more() && self.b[self.i].is_whitespace() {
            self.i += 1;
        }
    }

    /// Skip a @comment, @preamble or @string to its matching close.
    fn skip_block(&mut self, ty: &str, start_line: usize) -> Result<()> {
        let mut depth = 1;
        while self.more() && depth > 0 {
            if self.b[self.i] == '{' {
                depth += 1
            } else if self.b[self.i] == '}' {
                depth -= 1
            }
            self.i += 1;
        }
        if depth > 0 {
            return Err(Error::data(format!("@{ty} not closed")).line(start_line));
        }
        Ok(())
    }

    /// The entry's next `name = value` (name lower-cased, value's parts joined by `#`), or
    /// `None` at the entry's close.
    fn field(
        &mut self,
        key: &str,
        close: char,
        start_line: usize,
    ) -> Result<Option<(String, String)>> {
        loop {
            self.skip_ws();
            if !self.more() {
                return Err(Error::data(format!(
                    "entry {key:?} is not closed (unbalanced braces)"
                ))
                .line(start_line));
            }
            if self.b[self.i] == close {
                self.i += 1;
                return Ok(None);
            }
            if self.b[self.i] != ',' {
                break;
            }
            self.i += 1;
        }
        let mut name = String::new();
        while self.more()
            && (self.b[self.i].is_ascii_alphanumeric() || matches!(self.b[self.i], '_' | '-'))
        {
            name.push(self.b[self.i].to_ascii_lowercase());
            self.i += 1;
        }
        self.skip_ws();
        if name.is_empty() || !self.more() || self.b[self.i] != '=' {
            return Err(
                Error::data(format!("entry {key:?}: expected `field = value`"))
                    .line(self.line())
                    .field(name),
            );
        }
        self.i += 1;
        self.skip_ws();
        let mut value = String::new();
        loop {
            self.skip_ws();
            if !self.more() {
                return Err(Error::data(format!(
                    "entry {key:?} is not closed (unbalanced braces)"
                ))
                .line(start_line)
                .field(name));
            }
            self.value_part(&mut value, start_line, &name)?;
            self.skip_ws();
            if self.more() && self.b[self.i] == '#' {
                self.i += 1;
                continue;
            }
            break;
        }
        Ok(Some((name, value)))
    }

    /// One part of a value: `{braced}`, `"quoted"` or a bare word or number.
    fn value_part(&mut self, value: &mut String, start_line: usize, name: &str) -> Result<()> {
        let b = &self.b;
        match b[self.i] {
            '{' => {
                let mut depth = 0;
                let vstart = self.i;
                loop {
                    if self.i >= b.len() {
                        return Err(Error::data(format!(
                            "field value opened on line {} is not closed",
                            self.line_at[vstart]
                        ))
                        .line(start_line)
                        .field(name));
                    }
                    match b[self.i] {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    value.push(b[self.i]);
                    self.i += 1;
                }
            }
            '"' => {
                self.i += 1;
                let mut depth = 0;
                while self.i < b.len() && !(b[self.i] == '"' && depth == 0) {
                    if b[self.i] == '{' {
                        depth += 1
                    } else if b[self.i] == '}' {
                        depth -= 1
                    }
                    value.push(b[self.i]);
                    self.i += 1;
                }
                if self.i >= b.len() {
                    return Err(Error::data("quoted value is not closed")
                        .line(start_line)
                        .field(name));
                }
                self.i += 1;
            }
            _ => {
                while self.i < b.len()
                    && (b[self.i].is_ascii_alphanumeric() || matches!(b[self.i], '_' | '-'))
                {
                    value.push(b[self.i]);
                    self.i += 1;
                }
            }
        }
        Ok(())
    }
}
