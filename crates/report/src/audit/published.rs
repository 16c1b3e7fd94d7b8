//! Reading `published.csv`.

use super::KINDS;
use metapipe_tables::io::Input;
use metapipe_tables::{Error, Result};

/// One published figure (a row of `published.csv`).
#[derive(Debug, Clone, Default)]
pub struct Published {
    pub source: String,
    pub item: String,
    pub kind: String,
    pub of: String,
    pub value: String,
    pub location: String,
    pub note: String,
}

/// `published.csv`: `source, item, kind, of, value, where` and optionally `note`.
pub fn read_published(input: &Input) -> Result<Vec<Published>> {
    let (path, text) = (input.path.as_path(), input.text()?);
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| Error::data(e.to_string()).file(path).line(1))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let idx = |n: &str| headers.iter().position(|h| h == n);
    for need in ["item", "kind", "value"] {
        if idx(need).is_none() {
            return Err(
                Error::data(format!("missing column (have: {})", headers.join(",")))
                    .file(path)
                    .line(1)
                    .field(need),
            );
        }
    }
    let mut out = vec![];
    for (n, r) in rdr.records().enumerate() {
        let r = r.map_err(|e| Error::data(e.to_string()).file(path).line(n + 2))?;
        let get = |c: &str| {
            idx(c)
                .and_then(|i| r.get(i))
                .unwrap_or("")
                .trim()
                .to_string()
        };
        let p = Published {
            source: get("source"),
            item: get("item"),
            kind: get("kind"),
            of: get("of"),
            value: get("value"),
            location: get("where"),
            note: get("note"),
        };
        if p.item.is_empty() {
            return Err(Error::data("empty item")
                .file(path)
                .line(n + 2)
                .field("item"));
        }
        if !KINDS.contains(&p.kind.as_str()) {
            return Err(
                Error::data(format!("{:?}: expected one of {:?}", p.kind, KINDS))
                    .file(path)
                    .line(n + 2)
                    .field("kind"),
            );
        }
        if p.kind != "other" && p.of.is_empty() {
            return Err(Error::data(format!(
                "a {} figure needs `of` (what it is a figure of)",
                p.kind
            ))
            .file(path)
            .line(n + 2)
            .field("of"));
        }
        out.push(p);
    }
    Ok(out)
}
