//! Dual extraction (Cochrane Handbook 5.5.2: two people extract independently): two extractors'
//! sheets compared cell by cell — the studies sheet with rows matched by study, the outcome
//! sheet by (study, outcome, arm). Every cell where they disagree — a value in one and not the
//! other, different values (numbers compared as numbers: `12` = `12.0`), a row in one sheet
//! only — is a conflict, with both lines; and the agreement per column is the share of the
//! compared cells that agree.

use metapipe_tables::io::Input;
use metapipe_tables::schema::{EXTRACTION_AGREEMENT, EXTRACTION_CONFLICTS};
use metapipe_tables::sheet::Sheet;
use metapipe_tables::{f, i, s, so, Builder, Result, Table};
use std::collections::BTreeMap;

/// The columns that identify a row rather than hold data.
const KEY: [&str; 3] = ["study_id", "outcome", "arm"];

/// Which extraction sheet two extractors filled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SheetKind {
    Studies,
    Outcomes,
}

impl SheetKind {
    pub fn name(self) -> &'static str {
        match self {
            SheetKind::Studies => "studies",
            SheetKind::Outcomes => "outcomes",
        }
    }
}
/// The columns that document a row rather than report a number (not compared).
const NOTES: [&str; 3] = ["source", "source_url", "evidence"];

/// A sheet's rows by (study, outcome, arm), each with its line and cells by column.
type Rows = BTreeMap<(String, String, String), (usize, BTreeMap<String, String>)>;

fn rows(kind: SheetKind, input: &Input) -> Result<(Rows, Vec<String>)> {
    let required: &[&str] = match kind {
        SheetKind::Studies => &["study_id"],
        SheetKind::Outcomes => &["study_id", "outcome"],
    };
    let sh = Sheet::parse(input, required)?;
    let mut out = Rows::new();
    for r in sh.rows() {
        let key = match kind {
            SheetKind::Studies => (r.req("study_id")?.to_string(), String::new(), String::new()),
            SheetKind::Outcomes => (
                r.req("study_id")?.to_string(),
                r.req("outcome")?.to_string(),
                r.get("arm").unwrap_or("").to_string(),
            ),
        };
        let cells = sh
            .headers
            .iter()
            .filter(|h| !KEY.contains(&h.as_str()) && !NOTES.contains(&h.as_str()))
            .filter_map(|h| r.get(h).map(|v| (h.clone(), v.to_string())))
            .collect();
        if let Some((prev, _)) = out.insert(key.clone(), (r.line, cells)) {
            let (col, what) = match kind {
                SheetKind::Studies => ("study_id", key.0.clone()),
                SheetKind::Outcomes => ("outcome", format!("{} {}", key.0, key.1)),
            };
            return Err(r.err(col, format!("{what} already given on line {prev}")));
        }
    }
    Ok((out, sh.headers.clone()))
}

fn same(a: &str, b: &str) -> bool {
    a == b || matches!((a.parse::<f64>(), b.parse::<f64>()), (Ok(x), Ok(y)) if x == y)
}

/// The conflicts between extractor A's and B's sheets, each pair of one kind, and the agreement
/// per sheet and column; the pairs in the order given.
pub fn compare(pairs: &[(SheetKind, &Input, &Input)]) -> Result<(Table, Table)> {
    let mut conflicts = Builder::new(&EXTRACTION_CONFLICTS);
    let mut agreement = Builder::new(&EXTRACTION_AGREEMENT);
    for &(kind, a, b) in pairs {
        compare_sheet(kind, a, b, &mut conflicts, &mut agreement)?;
    }
    Ok((conflicts.finish()?, agreement.finish()?))
}

fn compare_sheet(
    kind: SheetKind,
    a: &Input,
    b: &Input,
    conflicts: &mut Builder,
    agreement: &mut Builder,
) -> Result<()> {
    let ((ra, ha), (rb, hb)) = (rows(kind, a)?, rows(kind, b)?);
    let mut columns: Vec<String> = ha.iter().chain(&hb).cloned().collect();
    columns.retain(|c| !KEY.contains(&c.as_str()) && !NOTES.contains(&c.as_str()));
    let mut seen = std::collections::BTreeSet::new();
    columns.retain(|c| seen.insert(c.clone()));
    let mut agree: BTreeMap<&str, (i64, i64)> =
        columns.iter().map(|c| (c.as_str(), (0, 0))).collect();
    let keys: std::collections::BTreeSet<_> = ra.keys().chain(rb.keys()).cloned().collect();
    let opt = |v: &String| so(Some(v.clone()).filter(|x| !x.is_empty()));
    for k in keys {
        let row = |col: &str, va: Option<&String>, vb: Option<&String>| {
            vec![
                s(kind.name()),
                s(&k.0),
                opt(&k.1),
                opt(&k.2),
                s(col),
                so(va.cloned()),
                so(vb.cloned()),
                i(ra.get(&k).map(|r| r.0 as i64)),
                i(rb.get(&k).map(|r| r.0 as i64)),
            ]
        };
        match (ra.get(&k), rb.get(&k)) {
            (Some((_, ca)), Some((_, cb))) => {
                for c in &columns {
                    let (va, vb) = (ca.get(c), cb.get(c));
                    if va.is_none() && vb.is_none() {
                        continue;
                    }
                    let ok = matches!((va, vb), (Some(x), Some(y)) if same(x, y));
                    let e = agree.get_mut(c.as_str()).expect("a known column");
                    e.0 += 1;
                    e.1 += i64::from(ok);
                    if !ok {
                        conflicts.row(row(c, va, vb));
                    }
                }
            }
            (Some(_), None) => conflicts.row(row("(row)", Some(&"present".into()), None)),
            (None, Some(_)) => conflicts.row(row("(row)", None, Some(&"present".into()))),
            (None, None) => {}
        }
    }
    for c in &columns {
        let (n, ok) = agree[c.as_str()];
        if n > 0 {
            agreement.row(vec![
                s(kind.name()),
                s(c),
                i(n),
                i(ok),
                f(ok as f64 / n as f64),
            ]);
        }
    }
    Ok(())
}
