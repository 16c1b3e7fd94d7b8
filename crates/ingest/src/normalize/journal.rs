//! Journal names: tokens for abbreviation-tolerant comparison.

use super::{fold_char, strip_markup};

/// Words a journal's abbreviation drops: English, French, German, Spanish, Italian, Portuguese and
/// Russian (transliterated) articles, prepositions and conjunctions ("Annales françaises
/// d'anesthésie et de réanimation" ~ "Ann Fr Anesth Reanim").
const JOURNAL_STOP: &[&str] = &[
    "the", "of", "and", "for", "in", "on", "de", "la", "d", "l", "et", "des", "du", "le", "les",
    "der", "die", "das", "und", "fur", "y", "del", "el", "di", "della", "e", "da", "do", "i",
];

/// Journal name tokens for abbreviation-tolerant comparison. A letter lost to a wrong encoding
/// ("Annales fran?aises d'anesth?sie", or U+FFFD) stays inside its word as `?`, which
/// [`journals_compatible`] lets stand for any one letter.
pub fn journal_tokens(j: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut flush = |cur: &mut String| {
        let w = cur.trim_end_matches('?');
        if !w.is_empty() && !JOURNAL_STOP.contains(&w) {
            out.push(w.to_string());
        }
        cur.clear();
    };
    let stripped;
    let j = if j.contains(['&', '<', '{', '\\']) {
        stripped = strip_markup(j);
        stripped.as_str()
    } else {
        j
    };
    for c in j.chars() {
        if (c == '?' || c == '\u{fffd}') && !cur.is_empty() {
            cur.push('?');
            continue;
        }
        let mut push = |c: char| {
            if c.is_ascii_alphanumeric() {
                cur.push(c.to_ascii_lowercase());
            } else {
                flush(&mut cur);
            }
        };
        let c = fold_char(c);
        if c.is_ascii() {
            push(c);
        } else {
            deunicode::deunicode_char(c)
                .unwrap_or(" ")
                .chars()
                .for_each(push);
        }
    }
    flush(&mut cur);
    out
}

/// `x` is a prefix of `y`, a `?` on either side standing for any one letter.
fn wild_prefix(x: &str, y: &str) -> bool {
    x.len() <= y.len()
        && x.bytes()
            .zip(y.bytes())
            .all(|(p, q)| p == q || p == b'?' || q == b'?')
}

/// Whether two journal names can name the same journal: equal after normalization, or each
/// token of the shorter form a prefix of the corresponding token of the longer
/// ("Lancet Respir Med" ~ "The Lancet Respiratory Medicine"), a letter lost to a wrong encoding
/// matching any letter.
pub fn journals_compatible(a: &[String], b: &[String]) -> bool {
    if a == b {
        return true;
    }
    if a.len() != b.len() || a.is_empty() {
        // concatenated forms ("eclinicalmedicine" vs "e clinical medicine")
        let (x, y) = (a.concat(), b.concat());
        return x.len() == y.len() && wild_prefix(&x, &y);
    }
    a.iter()
        .zip(b)
        .all(|(x, y)| wild_prefix(x, y) || wild_prefix(y, x))
}
