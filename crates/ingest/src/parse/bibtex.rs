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
    let mut i = 0;
    let mut out = vec![];
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && b[*i].is_whitespace() {
            *i += 1;
        }
    };
    while i < b.len() {
        if b[i] != '@' {
            i += 1;
            continue;
        }
        let start_line = line_at[i];
        i += 1;
        let mut ty = String::new();
        while i < b.len() && b[i].is_ascii_alphanumeric() {
            ty.push(b[i]);
            i += 1;
        }
        skip_ws(&mut i);
        if i >= b.len() || (b[i] != '{' && b[i] != '(') {
            return Err(
                Error::data(format!("@{ty}: expected '{{' after the entry type"))
                    .line(line_at[i.min(b.len())]),
            );
        }
        let close = if b[i] == '{' { '}' } else { ')' };
        i += 1;
        let lt = ty.to_ascii_lowercase();
        if lt == "comment" || lt == "preamble" || lt == "string" {
            // skip to the matching close
            let mut depth = 1;
            while i < b.len() && depth > 0 {
                if b[i] == '{' {
                    depth += 1
                } else if b[i] == '}' {
                    depth -= 1
                }
                i += 1;
            }
            if depth > 0 {
                return Err(Error::data(format!("@{ty} not closed")).line(start_line));
            }
            continue;
        }
        // key
        let mut key = String::new();
        while i < b.len() && b[i] != ',' && b[i] != close {
            key.push(b[i]);
            i += 1;
        }
        let mut r = Record {
            database: database.into(),
            source_file: file.into(),
            source_line: start_line,
            entry_type: Some(lt.clone()),
            ..Default::default()
        };
        let mut pages = None;
        loop {
            skip_ws(&mut i);
            if i >= b.len() {
                return Err(Error::data(format!(
                    "entry {:?} is not closed (unbalanced braces)",
                    key.trim()
                ))
                .line(start_line));
            }
            if b[i] == close {
                i += 1;
                break;
            }
            if b[i] == ',' {
                i += 1;
                continue;
            }
            let mut name = String::new();
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == '_' || b[i] == '-') {
                name.push(b[i].to_ascii_lowercase());
                i += 1;
            }
            skip_ws(&mut i);
            if name.is_empty() || i >= b.len() || b[i] != '=' {
                return Err(Error::data(format!(
                    "entry {:?}: expected `field = value`",
                    key.trim()
                ))
                .line(line_at[i.min(b.len())])
                .field(name));
            }
            i += 1;
            skip_ws(&mut i);
            let mut value = String::new();
            loop {
                skip_ws(&mut i);
                if i >= b.len() {
                    return Err(Error::data(format!(
                        "entry {:?} is not closed (unbalanced braces)",
                        key.trim()
                    ))
                    .line(start_line)
                    .field(name));
                }
                match b[i] {
                    '{' => {
                        let mut depth = 0;
                        let vstart = i;
                        loop {
                            if i >= b.len() {
                                return Err(Error::data(format!(
                                    "field value opened on line {} is not closed",
                                    line_at[vstart]
                                ))
                                .line(start_line)
                                .field(name));
                            }
                            match b[i] {
                                '{' => depth += 1,
                                '}' => {
                                    depth -= 1;
                                    if depth == 0 {
                                        i += 1;
                                        break;
                                    }
                                }
                                _ => {}
                            }
                            value.push(b[i]);
                            i += 1;
                        }
                    }
                    '"' => {
                        i += 1;
                        let mut depth = 0;
                        while i < b.len() && !(b[i] == '"' && depth == 0) {
                            if b[i] == '{' {
                                depth += 1
                            } else if b[i] == '}' {
                                depth -= 1
                            }
                            value.push(b[i]);
                            i += 1;
                        }
                        if i >= b.len() {
                            return Err(Error::data("quoted value is not closed")
                                .line(start_line)
                                .field(name));
                        }
                        i += 1;
                    }
                    _ => {
                        while i < b.len()
                            && (b[i].is_ascii_alphanumeric() || b[i] == '_' || b[i] == '-')
                        {
                            value.push(b[i]);
                            i += 1;
                        }
                    }
                }
                skip_ws(&mut i);
                if i < b.len() && b[i] == '#' {
                    i += 1;
                    continue;
                }
                break;
            }
            let v = delatex(&value);
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
                "pages" => pages = Some(v.replace("--", "-")),
                "doi" => set(&mut r.doi, &v),
                "abstract" => set(&mut r.abstract_, &v),
                _ => r.extra.push((name.clone(), v)),
            }
        }
        r.pages = pages;
        out.push(finish(r, Some(key.trim().to_string()), database));
    }
    Ok(out)
}
