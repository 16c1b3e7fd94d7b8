//! A record's matching keys (normalized title, authors, locus, DOI, …) and the blocking keys
//! deduplication compares records within.

use crate::normalize as norm;
use crate::parse::Record;

/// Matching keys of one record.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    pub title: String,
    pub numbers: Vec<String>,
    pub first_author: Option<String>,
    pub year: Option<i64>,
    pub volume: Option<String>,
    pub first_page: Option<String>,
    /// last page (digits), when a range is given
    pub last_page: Option<String>,
    /// the page is an article number ("e12724", "a1754", "c1804") rather than a printed page
    pub article_number: bool,
    pub doi: Option<String>,
    pub journal: Vec<String>,
    pub journal_abbrev: Vec<String>,
    /// name tokens of the first author
    pub author_tokens: Vec<String>,
    /// signature (hash, letters) of the name tokens of every author, in order
    pub all_authors: (u64, usize),
    /// the authors' surnames as a set (hash of the sorted surnames, how many): the same people
    /// listed in another order, or with full first names in one copy and initials in the other
    pub author_set: (u64, usize),
    /// conference paper (vs journal article), when the export says
    pub conference: Option<bool>,
    /// the record is a correction notice (erratum), whose title names the corrected article
    pub correction: bool,
    /// a notice about another article (correction, retraction, comment, reply)
    pub notice: bool,
    /// the issue number (digits), when given
    pub issue: Option<String>,
    /// the main title before a subtitle, normalized
    pub title_head: Option<String>,
    /// part, edition and phase markers of the title
    pub parts: Vec<String>,
}

pub fn keys(r: &Record) -> Keys {
    let title = r.title.as_deref().map(norm::title).unwrap_or_default();
    let (first_page, last_page) = r.pages.as_deref().map(norm::pages).unwrap_or((None, None));
    let article_number = first_page
        .as_deref()
        .is_some_and(|p| p.starts_with(|c: char| c.is_ascii_alphabetic()) && p.len() >= 4);
    let last_page = digits(last_page);
    // compare the page number itself ("c37" ~ "37", "S417" ~ "417"); a page field without
    // digits ("Suppl", "t") says nothing
    let first_page = digits(first_page);
    let conference = r.entry_type.as_deref().map(|t| {
        let t = t.to_ascii_lowercase();
        t.contains("proceedings") || t.contains("conference") || t == "conf" || t == "cpaper"
    });
    Keys {
        numbers: norm::title_numbers(&title),
        parts: norm::parts(&title),
        title,
        first_author: r
            .authors
            .first()
            .map(|a| norm::surname(a))
            .filter(|s| !s.is_empty()),
        year: r.year,
        // the volume number itself: "35 Suppl 1" and "35" agree; "(Jul)" says nothing
        volume: r.volume.as_deref().and_then(volume_number),
        first_page,
        last_page,
        article_number,
        doi: r.doi.as_deref().and_then(norm::doi),
        journal: r
            .journal
            .as_deref()
            .map(norm::journal_tokens)
            .unwrap_or_default(),
        journal_abbrev: r
            .journal_abbrev
            .as_deref()
            .map(norm::journal_tokens)
            .unwrap_or_default(),
        author_tokens: r
            .authors
            .first()
            .map(|a| norm::name_tokens(a))
            .unwrap_or_default(),
        correction: r.title.as_deref().is_some_and(norm::is_correction_notice),
        notice: r.title.as_deref().is_some_and(norm::is_notice),
        // the issue number itself ("3 Suppl" ~ "3"); an issue without digits says nothing
        issue: r.issue.as_deref().and_then(issue_number),
        title_head: r.title.as_deref().and_then(norm::title_head),
        all_authors: norm::authors_signature(&r.authors),
        author_set: norm::surname_set(&r.authors),
        conference,
    }
}

/// The digits of a page, leading zeros dropped ("c37" ~ "37", "S417" ~ "417"); a page without
/// digits ("Suppl", "t") says nothing.
fn digits(p: Option<String>) -> Option<String> {
    p.map(|p| {
        p.chars()
            .filter(|c| c.is_ascii_digit())
            .collect::<String>()
            .trim_start_matches('0')
            .to_string()
    })
    .filter(|p| !p.is_empty())
}

/// The volume number itself: "35 Suppl 1" and "35" agree; "(Jul)" says nothing.
fn volume_number(v: &str) -> Option<String> {
    let v: String = v
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    (!v.is_empty()).then_some(v)
}

/// The issue number itself ("3 Suppl" ~ "3"); an issue without digits says nothing.
fn issue_number(v: &str) -> Option<String> {
    let v = v
        .trim()
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .trim_start_matches('0')
        .to_string();
    (!v.is_empty()).then_some(v)
}

/// FNV-1a over the parts of a blocking key (no string is built).
fn block_key(tag: u8, parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325 ^ tag as u64;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0x1f)) {
            h = (h ^ b as u64).wrapping_mul(0x100000001b3);
        }
    }
    h
}

/// A record's blocking keys: its DOI, the first and the last six words of its title, first
/// author with year, volume with first page (those it has).
pub fn block_keys(k: &Keys) -> Vec<u64> {
    let mut out = Vec::with_capacity(5);
    if let Some(d) = &k.doi {
        out.push(block_key(b'd', &[d]));
    }
    let words: Vec<&str> = k.title.split(' ').filter(|w| !w.is_empty()).collect();
    if !words.is_empty() {
        let n = words.len().min(6);
        out.push(block_key(b'h', &words[..n]));
        out.push(block_key(b't', &words[words.len() - n..]));
    }
    if let (Some(a), Some(y)) = (&k.first_author, k.year) {
        out.push(block_key(b'a', &[a, &y.to_string()]));
    }
    if let (Some(v), Some(p)) = (&k.volume, &k.first_page) {
        out.push(block_key(b'l', &[v, p]));
    }
    out
}
