//! The record every parser produces, and the helpers they share.

/// One bibliographic record as exported.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    /// `<database>:<accession>` (or `<database>:L<line>` when the export gives no id)
    pub record_id: String,
    pub database: String,
    pub source_file: String,
    /// 1-based line where the record starts
    pub source_line: usize,
    pub entry_type: Option<String>,
    pub title: Option<String>,
    pub authors: Vec<String>,
    pub year: Option<i64>,
    pub journal: Option<String>,
    pub journal_abbrev: Option<String>,
    pub volume: Option<String>,
    pub issue: Option<String>,
    pub pages: Option<String>,
    pub doi: Option<String>,
    pub abstract_: Option<String>,
    /// unmapped tags, in order
    pub extra: Vec<(String, String)>,
}

/// The first stand-alone four-digit year (1800–2100) in a field.
pub(crate) fn year_of(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    (0..b.len().saturating_sub(3)).find_map(|i| {
        let w = &b[i..i + 4];
        let bounded = (i == 0 || !b[i - 1].is_ascii_digit())
            && (i + 4 == b.len() || !b[i + 4].is_ascii_digit());
        if bounded && w.iter().all(|c| c.is_ascii_digit()) {
            std::str::from_utf8(w)
                .ok()?
                .parse()
                .ok()
                .filter(|y| (1800..=2100).contains(y))
        } else {
            None
        }
    })
}

/// Set a text field once (the first non-empty value wins).
pub(crate) fn push_text(slot: &mut Option<String>, v: &str) {
    if slot.is_none() && !v.trim().is_empty() {
        *slot = Some(v.trim().to_string());
    }
}

/// Give a parsed record its id: `<database>:<accession>`, or `<database>:L<line>` without one.
pub(crate) fn finish(mut r: Record, id: Option<String>, database: &str) -> Record {
    r.record_id = match id {
        Some(i) if !i.trim().is_empty() => format!("{database}:{}", i.trim()),
        _ => format!("{database}:L{}", r.source_line),
    };
    r
}

/// The start of an offending line, for error messages.
pub(crate) fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Byte offset → 1-based line, by binary search over the newline offsets (built once per file:
/// linear in the file, not in records × file).
pub(crate) struct LineIndex(Vec<usize>);

impl LineIndex {
    pub(crate) fn new(text: &str) -> LineIndex {
        LineIndex(
            text.bytes()
                .enumerate()
                .filter(|(_, c)| *c == b'\n')
                .map(|(i, _)| i)
                .collect(),
        )
    }
    pub(crate) fn line(&self, pos: usize) -> usize {
        self.0.partition_point(|&nl| nl < pos) + 1
    }
}

/// A line of a provider's preamble or record numbering rather than of the export format:
/// "1.", "2)", "Record #1 of 20", "Provider: Cochrane", "Content: text/plain; charset=UTF-8",
/// "Database: Ovid MEDLINE(R)" (a short "Key: value" header).
pub(crate) fn preamble_line(l: &str) -> bool {
    let t = l.trim();
    if t.is_empty() {
        return false;
    }
    let digits = t.trim_end_matches(['.', ')']);
    if !digits.is_empty() && digits.len() <= 7 && digits.chars().all(|c| c.is_ascii_digit()) {
        return true;
    }
    if t.starts_with("Record #") {
        return true;
    }
    match t.split_once(':') {
        Some((k, _)) => {
            let k = k.trim();
            !k.is_empty()
                && k.len() <= 30
                && k.starts_with(|c: char| c.is_ascii_uppercase())
                && k.chars()
                    .all(|c| c.is_ascii_alphabetic() || c == ' ' || c == '-')
                && !k.contains("  ")
        }
        None => false,
    }
}
