//! Reading `published.csv`.

use super::KINDS;
use metapipe_tables::io::Input;
use metapipe_tables::sheet::Sheet;
use metapipe_tables::Result;

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
    let sheet = Sheet::read(input, &["item", "kind", "value"])?;
    let mut out = vec![];
    for r in sheet.rows() {
        let get = |c: &str| r.get(c).unwrap_or("").to_string();
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
            return Err(r.err("item", "empty item"));
        }
        if !KINDS.contains(&p.kind.as_str()) {
            return Err(r.err("kind", format!("{:?}: expected one of {:?}", p.kind, KINDS)));
        }
        if p.kind != "other" && p.of.is_empty() {
            let why = format!("a {} figure needs `of` (what it is a figure of)", p.kind);
            return Err(r.err("of", why));
        }
        out.push(p);
    }
    Ok(out)
}
