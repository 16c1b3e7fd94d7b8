//! Field normalization for matching: titles, author names, journals, DOIs, pages.

mod journal;
pub use journal::{journal_tokens, journals_compatible};

/// Lower-case ASCII-folded title with HTML/LaTeX entities and punctuation removed, bracketed
/// annotations dropped ("[Chinese]", "[Review] [33 refs]", "[Erratum appears in …]"; a title
/// wholly in brackets, a translated title, keeps its text), white space collapsed.
pub fn title(t: &str) -> String {
    let s = strip_markup(t);
    let mut out = fold_title(&s);
    if out.ends_with(' ') {
        out.pop();
    }
    // a title never normalises to nothing: keep its letters as they are
    if out.is_empty() {
        out = t
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
    }
    out
}

/// A title without entities, markup, a correction notice's label and locus, a citation cut
/// off by the export, and the brackets of a translated title.
pub(crate) fn strip_markup(t: &str) -> String {
    let mut s = t.to_string();
    if s.contains('&') {
        s = s
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'");
    }
    if s.contains(['<', '{', '\\']) {
        for tag in [
            "<i>", "</i>", "<b>", "</b>", "<sup>", "</sup>", "<sub>", "</sub>", "{", "}",
            "\\textit", "\\emph",
        ] {
            s = s.replace(tag, "");
        }
    }
    // correction notices: "Erratum: <title> (vol 142, pg 310, 2003)" names the corrected article;
    // the notice's own locus (pages) keeps it apart from that article
    for label in ["erratum:", "correction:", "corrigendum:", "errata:"] {
        if s.get(..label.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(label))
        {
            s = s[label.len()..].to_string();
        }
    }
    if let Some(p) = s.rfind("(vol ") {
        if s[p..].contains(", pg ") {
            s.truncate(p);
        }
    }
    // unclosed parentheses near the end: a citation cut off by the export
    let full = s.len();
    while let Some(p) = s.rfind('(') {
        if !s[p..].contains(')') && full - p < 60 && p > full / 2 {
            s.truncate(p);
        } else {
            break;
        }
    }
    let trimmed = s.trim();
    // a translated title: "[Title in English]." (possibly followed by a language marker)
    if trimmed.starts_with('[') {
        if let Some(close) = trimmed.find(']') {
            if close > trimmed.len() / 2 {
                s = format!("{}{}", &trimmed[1..close], &trimmed[close + 1..]);
            }
        }
    }
    s
}

/// Bracketed annotations dropped (and an unclosed one running to the end), lower-cased, accents
/// folded, [a-z0-9] kept and the rest collapsed to single spaces: one pass.
fn fold_title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0;
    let mut space = true;
    for c in s.chars() {
        match c {
            '[' => {
                depth += 1;
                continue;
            }
            ']' if depth > 0 => {
                depth -= 1;
                continue;
            }
            _ if depth > 0 => continue,
            _ => {}
        }
        // any script to ASCII letters (Cyrillic, Greek, CJK transliterated by deunicode)
        let folded = fold_char(c);
        let mut push = |c: char| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() {
                out.push(c);
                space = false;
            } else if !space {
                out.push(' ');
                space = true;
            }
        };
        if folded.is_ascii() {
            push(folded);
        } else {
            match deunicode::deunicode_char(folded) {
                Some(t) => t.chars().for_each(&mut push),
                None => push(' '),
            }
        }
    }
    out
}

/// The main title before a subtitle ("Infrastructure in the wild: what mapping …" → its first
/// part), normalized; `None` when the title has no subtitle separator.
pub fn title_head(t: &str) -> Option<String> {
    let cut = [": ", " - ", " — ", " – ", "? ", ". "]
        .iter()
        .filter_map(|sep| t.find(sep).map(|i| i + sep.len() - 1))
        .min()?;
    let head = title(&t[..cut]);
    (head.len() >= 15 && head.len() + 10 < title(t).len()).then_some(head)
}

/// Whether a title is that of a correction notice ("Erratum: …", "… (vol 14, pg 703, 2005)").
pub fn is_correction_notice(t: &str) -> bool {
    let l = t.trim_start().to_ascii_lowercase();
    ["erratum", "correction", "corrigendum", "errata"]
        .iter()
        .any(|p| l.starts_with(p))
        || (l.contains("(vol ") && l.contains(", pg "))
}

/// Whether a title is that of a notice about another article: a correction, a retraction or
/// expression of concern, a comment on it, or a reply ("Reply to …", "Response to: …",
/// "Comment on …", "Retraction: …", "In reply", "Re: …").
pub fn is_notice(t: &str) -> bool {
    let l = t.trim_start().to_ascii_lowercase();
    is_correction_notice(t)
        || [
            "retraction",
            "retracted",
            "notice of retraction",
            "expression of concern",
            "comment on",
            "comments on",
            "commentary on",
            "reply to",
            "reply:",
            "in reply",
            "response to",
            "response:",
            "author reply",
            "authors' reply",
            "re:",
        ]
        .iter()
        .any(|p| l.starts_with(p))
}

/// Part, edition or phase markers of a title, in order ("part ii", "2nd edition" → ["part 2",
/// "edition 2"]); two records with different markers are different works.
pub fn parts(t: &str) -> Vec<String> {
    let roman = |w: &str| match w {
        "i" => Some(1),
        "ii" => Some(2),
        "iii" => Some(3),
        "iv" => Some(4),
        "v" => Some(5),
        "vi" => Some(6),
        "vii" => Some(7),
        "viii" => Some(8),
        "ix" => Some(9),
        "x" => Some(10),
        _ => None,
    };
    let num = |w: &str| {
        w.trim_end_matches(|c: char| c.is_ascii_alphabetic())
            .parse::<u32>()
            .ok()
            .or_else(|| roman(w))
    };
    let words: Vec<&str> = t.split(' ').collect();
    let mut out = vec![];
    for (i, w) in words.iter().enumerate() {
        if matches!(*w, "part" | "pt" | "phase" | "section") {
            if let Some(n) = words.get(i + 1).and_then(|x| num(x)) {
                out.push(format!("{w} {n}"));
            }
        }
        if matches!(*w, "edition" | "ed") && i > 0 {
            if let Some(n) = num(words[i - 1]) {
                out.push(format!("edition {n}"));
            }
        }
    }
    out
}

/// Alphabetic name tokens of an author string (for order-insensitive comparison).
pub fn name_tokens(a: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    for c in fold(a).chars().chain(std::iter::once(' ')) {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphabetic() {
            cur.push(c);
        } else {
            if cur.len() >= 2 {
                out.push(std::mem::take(&mut cur));
            }
            cur.clear();
        }
    }
    out
}

/// A hash of the name tokens of every author, in order (FNV-1a), and their total length.
pub fn authors_signature(authors: &[String]) -> (u64, usize) {
    let mut h: u64 = 0xcbf29ce484222325;
    let mut len = 0;
    for a in authors {
        let mut tok_len = 0;
        let mut tok_hash = h;
        for c in a.chars().chain(std::iter::once(' ')) {
            let c = fold_char(c.to_lowercase().next().unwrap_or(c));
            if c.is_ascii_alphabetic() {
                tok_hash = (tok_hash ^ c as u64).wrapping_mul(0x100000001b3);
                tok_len += 1;
            } else {
                if tok_len >= 2 {
                    h = (tok_hash ^ 0x20).wrapping_mul(0x100000001b3);
                    len += tok_len;
                }
                tok_hash = h;
                tok_len = 0;
            }
        }
    }
    (h, len)
}

/// The authors' surnames as a set: a hash (FNV-1a) of the sorted, distinct surnames and how
/// many there are; `(0, 0)` when fewer than two authors have one.
pub fn surname_set(authors: &[String]) -> (u64, usize) {
    if authors.len() < 2 {
        return (0, 0);
    }
    let fnv = |s: &str| {
        s.bytes().fold(0xcbf29ce484222325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100000001b3)
        })
    };
    let mut names: Vec<u64> = authors
        .iter()
        .map(|a| surname(a))
        .filter(|s| s.len() >= 2)
        .map(|s| fnv(&s))
        .collect();
    names.sort_unstable();
    names.dedup();
    if names.len() < 2 {
        return (0, 0);
    }
    let h = names.iter().fold(0xcbf29ce484222325u64, |h, &x| {
        (h ^ x).wrapping_mul(0x100000001b3)
    });
    (h, names.len())
}

/// Fold common accented letters to ASCII.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().map(fold_char) {
        if c.is_ascii() {
            out.push(c);
        } else {
            match deunicode::deunicode_char(c) {
                Some(t) => out.push_str(t),
                None => out.push(c),
            }
        }
    }
    out
}

/// Fold one accented letter to ASCII.
pub fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c;
    }
    match c {
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø' => 'o',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'ç' => 'c',
        'ñ' => 'n',
        'ß' => 's',
        'κ' => 'k',
        'β' => 'b',
        'α' => 'a',
        '‐' | '‑' | '–' | '—' => '-',
        c => c,
    }
}

/// Surname of an author written as "Doe, J", "Doe J", "J. Doe", "Doe JA", "van der Berg, A".
pub fn surname(a: &str) -> String {
    let a = fold(a.trim());
    let raw = if let Some((s, _)) = a.split_once(',') {
        s.to_string()
    } else {
        let toks: Vec<&str> = a.split_whitespace().collect();
        if toks.len() <= 1 {
            a.clone()
        } else if is_initials(toks[toks.len() - 1]) {
            toks[..toks.len() - 1].join(" ")
        } else if is_initials(toks[0]) {
            toks[1..].join(" ")
        } else {
            toks[..toks.len() - 1].join(" ")
        }
    };
    raw.to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .collect()
}

fn is_initials(t: &str) -> bool {
    let letters: Vec<char> = t.chars().filter(|c| c.is_alphabetic()).collect();
    !letters.is_empty()
        && letters.len() <= 3
        && (letters.iter().all(|c| c.is_uppercase()) || t.contains('.'))
}

/// Lower-case DOI without resolver prefix or trailing punctuation.
pub fn doi(d: &str) -> Option<String> {
    let mut s = d.trim().to_lowercase();
    for p in [
        "https://doi.org/",
        "http://doi.org/",
        "https://dx.doi.org/",
        "http://dx.doi.org/",
        "doi:",
        "doi ",
    ] {
        if let Some(r) = s.strip_prefix(p) {
            s = r.trim().to_string();
        }
    }
    let s = s
        .trim_end_matches(['.', ',', ';'])
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string();
    (s.starts_with("10.") && s.contains('/')).then_some(s)
}

/// First and last page, expanding "1427-38" to (1427, 1438). Electronic page ids ("e0269065")
/// stay as they are; of a page list ("532, 534-536") the first page counts.
pub fn pages(p: &str) -> (Option<String>, Option<String>) {
    let p = p.trim().replace(['–', '—'], "-");
    // "215 p" / "215 pp." is a page count (theses, books), not a page
    let lower = p.to_ascii_lowercase();
    if let Some(num) = lower
        .strip_suffix("pp.")
        .or(lower.strip_suffix("pp"))
        .or(lower.strip_suffix("p."))
        .or(lower.strip_suffix(" p"))
    {
        if num.trim().chars().all(|c| c.is_ascii_digit()) {
            return (None, None);
        }
    }
    let mut it = p.splitn(2, '-');
    let token = |s: &str| -> Option<String> {
        let t: String = s
            .trim()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let t = t.trim_start_matches('0').to_lowercase();
        (!t.is_empty()).then_some(t)
    };
    let first = it.next().and_then(token);
    let last = if p.contains(',') {
        None
    } else {
        it.next().and_then(token)
    };
    let last = match (&first, last) {
        (Some(f), Some(l))
            if l.len() < f.len()
                && f.chars().all(|c| c.is_ascii_digit())
                && l.chars().all(|c| c.is_ascii_digit()) =>
        {
            Some(format!("{}{}", &f[..f.len() - l.len()], l))
        }
        (_, l) => l,
    };
    (first, last)
}

/// The runs of digits in a normalized title (trial numbers, years, doses, gene names), in order:
/// "p16(INK4a)", "p16INK4a" and "p16 ink4a" all give [16, 4]; "CO 2" and "CO2" give [2]. A
/// thousands group written with a space ("10 000 women", "1 250") joins the run before it, as
/// "10000" and "1250" read.
pub fn title_numbers(t: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    let mut prev_end: Option<usize> = None;
    let mut prev_len = 0;
    let b = t.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let run = &t[start..i];
        let thousands = run.len() == 3
            && prev_end == Some(start.wrapping_sub(1))
            && b[start - 1] == b' '
            && (1..=3).contains(&prev_len);
        match out.last_mut() {
            Some(last) if thousands => {
                last.push_str(run);
                prev_len = 3;
            }
            _ => {
                out.push(run.trim_start_matches('0').to_string());
                prev_len = run.len();
            }
        }
        prev_end = Some(i);
    }
    out
}

/// Below this similarity the exact value does not matter to any rule; [`similarity`] computes
/// distances only inside the band that can reach it and reports anything lower as 0.
pub const MIN_SIMILARITY: f64 = 0.80;

/// Normalized Levenshtein similarity in [0, 1] (1 − distance / longer length); values below
/// [`MIN_SIMILARITY`] are reported as 0. Banded dynamic programming: O(n · band).
pub fn similarity(a: &str, b: &str) -> f64 {
    let a = a.as_bytes();
    let b = b.as_bytes();
    let (n, m) = (a.len(), b.len());
    if n == 0 && m == 0 {
        return 1.0;
    }
    if a == b {
        return 1.0;
    }
    let longest = n.max(m);
    let max_d = ((1.0 - MIN_SIMILARITY) * longest as f64).floor() as usize;
    if n.abs_diff(m) > max_d {
        return 0.0;
    }
    // lower bound: every edit changes the byte histogram by at most 2
    // (titles are normalized to [a-z0-9 ]: fold the byte into 64 buckets)
    let mut hist = [0i32; 64];
    for &c in a {
        hist[(c & 63) as usize] += 1;
    }
    for &c in b {
        hist[(c & 63) as usize] -= 1;
    }
    let l1: i32 = hist.iter().fold(0, |acc, x| acc + x.abs());
    if (l1 as usize).div_ceil(2) > max_d {
        return 0.0;
    }
    let d = levenshtein(a, b);
    if d > max_d {
        0.0
    } else {
        1.0 - d as f64 / longest as f64
    }
}

/// Levenshtein distance by the bit-parallel algorithm of Myers (1999) in Hyyrö's (2003)
/// formulation, with 64-bit blocks over `a`: O(|b| · ⌈|a|/64⌉) word operations.
pub fn levenshtein(a: &[u8], b: &[u8]) -> usize {
    let m = a.len();
    if m == 0 {
        return b.len();
    }
    let blocks = m.div_ceil(64);
    // Peq[c][k]: bits of block k where a has byte c
    let mut peq = vec![0u64; 128 * blocks];
    for (i, &c) in a.iter().enumerate() {
        peq[(c as usize & 127) * blocks + i / 64] |= 1u64 << (i % 64);
    }
    let mut pv = vec![!0u64; blocks];
    let mut mv = vec![0u64; blocks];
    let top = 1u64 << ((m - 1) % 64);
    let mut score = m;
    for &c in b {
        let eqs = &peq[(c as usize & 127) * blocks..(c as usize & 127) * blocks + blocks];
        let (mut add_carry, mut ph_in, mut mh_in) = (0u64, 1u64, 0u64);
        for k in 0..blocks {
            let eq = eqs[k];
            let xv = eq | mv[k];
            let (s1, c1) = (eq & pv[k]).overflowing_add(pv[k]);
            let (s2, c2) = s1.overflowing_add(add_carry);
            add_carry = u64::from(c1 || c2);
            let xh = (s2 ^ pv[k]) | eq;
            let mut ph = mv[k] | !(xh | pv[k]);
            let mut mh = pv[k] & xh;
            if k == blocks - 1 {
                if ph & top != 0 {
                    score += 1;
                }
                if mh & top != 0 {
                    score -= 1;
                }
            }
            let (ph_out, mh_out) = (ph >> 63, mh >> 63);
            ph = (ph << 1) | ph_in;
            mh = (mh << 1) | mh_in;
            ph_in = ph_out;
            mh_in = mh_out;
            pv[k] = mh | !(xv | ph);
            mv[k] = ph & xv;
        }
    }
    score
}

#[cfg(test)]
mod tests;
