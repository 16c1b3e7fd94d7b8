//! The pairwise rules: when two records are the same work, when a person should look, and when
//! they are distinct.

use super::Keys;
use crate::normalize as norm;

/// The decision on one candidate pair.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Duplicate(String),
    Maybe(String),
    Distinct,
}

pub(super) fn journal_agree(a: &Keys, b: &Keys) -> Option<bool> {
    let forms_a: Vec<&Vec<String>> = [&a.journal, &a.journal_abbrev]
        .into_iter()
        .filter(|j| !j.is_empty())
        .collect();
    let forms_b: Vec<&Vec<String>> = [&b.journal, &b.journal_abbrev]
        .into_iter()
        .filter(|j| !j.is_empty())
        .collect();
    if forms_a.is_empty() || forms_b.is_empty() {
        return None;
    }
    Some(
        forms_a
            .iter()
            .any(|x| forms_b.iter().any(|y| norm::journals_compatible(x, y))),
    )
}

/// Pages: the same first page agrees; an article number against a printed page says nothing;
/// a single page that is the first or last page of the other's range says nothing; else conflict.
pub(super) fn pages_agree(a: &Keys, b: &Keys) -> Option<bool> {
    let (fa, fb) = (a.first_page.as_ref()?, b.first_page.as_ref()?);
    if fa == fb {
        return Some(true);
    }
    if a.article_number != b.article_number {
        return None;
    }
    let single_in = |x: &Keys, y: &Keys| {
        x.last_page.is_none() && (Some(x.first_page.as_ref().unwrap()) == y.last_page.as_ref())
    };
    if single_in(a, b) || single_in(b, a) {
        return None;
    }
    // two ranges ending on the same page with different first pages: a typo in one of them
    if a.last_page.is_some() && a.last_page == b.last_page {
        return None;
    }
    Some(false)
}

/// Title similarity, allowing one title to be a truncation of the other (exports cut long
/// titles, or append a subtitle). Returns (similarity, compared as prefix, numbers agree).
pub(super) fn title_match(a: &Keys, b: &Keys) -> (f64, bool, bool) {
    let full = norm::similarity(&a.title, &b.title);
    let numbers = a.numbers == b.numbers;
    let (short, long) = if a.title.len() <= b.title.len() {
        (&a.title, &b.title)
    } else {
        (&b.title, &a.title)
    };
    // one title inside the other (a section heading or a subtitle added, a title cut short)
    if short.len() >= 20 && long.len() > short.len() && long.contains(short.as_str()) {
        let nums_short = norm::title_numbers(short);
        return (
            1.0,
            true,
            nums_short
                .iter()
                .all(|n| norm::title_numbers(long).contains(n)),
        );
    }
    if short.len() >= 60 && long.len() > short.len() {
        let cut: String = long.chars().take(short.chars().count()).collect();
        let pre = norm::similarity(short, &cut);
        if pre > full && pre >= 0.97 {
            let nums_short = norm::title_numbers(short);
            let nums_cut = norm::title_numbers(&cut);
            return (pre, true, nums_short == nums_cut);
        }
    }
    (full, false, numbers)
}

/// Whether the pages explain two different issue numbers: the same first page (a typo in one
/// issue, or a `number` field that carries a record or accession number, not the issue: the same
/// page of a volume is one place whatever that field says), or a single page earlier in the
/// volume (a meeting abstract before the article, which the page rule in `decide` weighs).
pub(super) fn pages_explain_issue(a: &Keys, b: &Keys) -> bool {
    a.first_page.is_some()
        && (a.first_page == b.first_page || single_page_earlier(a, b) || single_page_earlier(b, a))
}

/// `x` is a single page earlier in the volume than `y`'s first page.
fn single_page_earlier(x: &Keys, y: &Keys) -> bool {
    let page_no = |k: &Keys| k.first_page.as_deref().and_then(|p| p.parse::<u64>().ok());
    (x.last_page.is_none() || x.last_page == x.first_page)
        && matches!((page_no(x), page_no(y)), (Some(p), Some(q)) if p < q)
}

/// Contradictions that keep a pair apart whatever else agrees: different DOIs, different issue
/// numbers (serial items: a recurring column in consecutive issues), two page ranges that share
/// neither end, a notice (erratum, retraction, comment, reply) against an article, different
/// parts or editions.
pub(super) fn contradiction(a: &Keys, b: &Keys) -> Option<&'static str> {
    let differ =
        |x: &Option<String>, y: &Option<String>| matches!((x, y), (Some(x), Some(y)) if x != y);
    if differ(&a.doi, &b.doi) {
        return Some("doi");
    }
    if differ(&a.issue, &b.issue) && !pages_explain_issue(a, b) {
        return Some("issue");
    }
    let range = |k: &Keys| k.last_page.is_some() && k.last_page != k.first_page;
    if range(a) && range(b) && differ(&a.first_page, &b.first_page) && a.last_page != b.last_page {
        return Some("page range");
    }
    // a notice against an article, unless both stand at the same place (the same notice
    // indexed with and without its label)
    let same_place = a.volume.is_some()
        && a.volume == b.volume
        && a.first_page.is_some()
        && a.first_page == b.first_page;
    if a.notice != b.notice && !same_place {
        return Some("notice vs article");
    }
    if !a.parts.is_empty() && !b.parts.is_empty() && a.parts != b.parts {
        return Some("part or edition");
    }
    None
}

/// The title-similarity thresholds of the rules: a protocol key (`[dedup.thresholds]` in the
/// config, `--thresholds` of `metapipe dedup`), so a search round's stage key holds them. The
/// defaults are the product's; the leave-one-set-out evaluation (`bench/dedup_loso.py`) chooses
/// them on the other labelled sets.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// a near-identical title with two more agreeing fields
    pub near: f64,
    /// a title with a matching DOI
    pub doi: f64,
    /// a title at the same bibliographic locus by the same first author
    pub locus: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            near: 0.95,
            doi: 0.80,
            locus: 0.90,
        }
    }
}

impl Thresholds {
    /// `near,doi,locus` (each a title similarity in [0, 1]).
    pub fn parse(s: &str) -> Result<Thresholds, String> {
        let v: Vec<f64> = s
            .split(',')
            .map(|x| {
                x.trim()
                    .parse::<f64>()
                    .map_err(|_| format!("{x:?} is not a number"))
            })
            .collect::<Result<_, _>>()?;
        match v[..] {
            [near, doi, locus] => Thresholds { near, doi, locus }.checked(),
            _ => Err(format!(
                "{s:?}: expected three similarities near,doi,locus (e.g. 0.95,0.80,0.90)"
            )),
        }
    }

    /// The thresholds if each is a similarity in [0, 1], else which is not.
    pub fn checked(self) -> Result<Thresholds, String> {
        for (name, v) in [
            ("near", self.near),
            ("doi", self.doi),
            ("locus", self.locus),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("{name} = {v}: a title similarity between 0 and 1"));
            }
        }
        Ok(self)
    }
}

/// Compare two records.
pub fn decide(a: &Keys, b: &Keys, th: &Thresholds) -> (Decision, f64) {
    if contradiction(a, b).is_some() {
        return (Decision::Distinct, 0.0);
    }
    if a.title.is_empty() || b.title.is_empty() {
        // no title to compare: a shared DOI with an agreeing year still identifies the work
        let year_ok = a.year.zip(b.year).is_none_or(|(x, y)| (x - y).abs() <= 1);
        if a.doi.is_some() && a.doi == b.doi && year_ok {
            return (
                Decision::Duplicate("agree: doi (no title to compare); conflict: none".into()),
                0.0,
            );
        }
        return (Decision::Distinct, 0.0);
    }
    let (agree, conflict) = fields(a, b);
    // every rule below needs a matching DOI, the same first author, or two agreeing fields
    // besides the title: without them the pair is distinct, and the title need not be compared
    if !(agree.contains(&"doi") || agree.contains(&"first_author") || agree.len() >= 2) {
        return (Decision::Distinct, 0.0);
    }
    if let Some(why) = translated(a, b, &agree, &conflict) {
        return (Decision::Duplicate(why), 0.0);
    }
    let (sim, prefix, numbers_equal) = title_match(a, b);
    let pair = Pair {
        a,
        b,
        agree,
        conflict,
        sim,
        prefix,
        numbers_equal,
    };
    let decision = match pair.strong(th).or_else(|| pair.weak()) {
        Some(Decision::Duplicate(why)) => Decision::Duplicate(why),
        // titles the rules cannot match (a translation) under one DOI at one place
        other => same_doi_and_place(&pair)
            .map(Decision::Duplicate)
            .or(other)
            .unwrap_or(Decision::Distinct),
    };
    (decision, sim)
}

/// The same article under a translated title (MEDLINE's bracketed English translation against
/// the original; a German title against its English one): the same journal, year, volume and
/// full page range (a range, so not one-page items such as letters) by the same first author
/// or the same set of authors, the title aside.
fn translated(a: &Keys, b: &Keys, agree: &[&str], conflict: &[&str]) -> Option<String> {
    let has = |f: &str| agree.contains(&f);
    let same_range =
        a.last_page.is_some() && a.last_page != a.first_page && a.last_page == b.last_page;
    let same = same_range
        && (has("first_author") || has("author_set"))
        && ["year", "volume", "first_page", "journal"]
            .iter()
            .all(|f| has(f))
        && conflict.is_empty();
    same.then(|| {
        format!(
            "identical locus, title aside (translated); agree: {}; conflict: none",
            agree.join(",")
        )
    })
}

/// A translated title the title rules could not match, under the same DOI at the same place
/// (year, volume, first page); journal and first-author names may differ in spelling,
/// transliteration or encoding, nothing else.
fn same_doi_and_place(p: &Pair) -> Option<String> {
    let same = ["doi", "year", "volume", "first_page"]
        .iter()
        .all(|f| p.agrees(f))
        && p.conflict
            .iter()
            .all(|f| matches!(*f, "journal" | "first_author"));
    same.then(|| {
        format!(
            "same DOI and place, title aside (translated); {}",
            p.evidence()
        )
    })
}

/// The fields two records agree on and conflict on (a field missing on either side is
/// neither).
pub(super) fn fields(a: &Keys, b: &Keys) -> (Vec<&'static str>, Vec<&'static str>) {
    let mut agree: Vec<&'static str> = vec![];
    let mut conflict: Vec<&'static str> = vec![];
    let mut field = |name: &'static str, x: Option<bool>| match x {
        Some(true) => agree.push(name),
        Some(false) => conflict.push(name),
        None => {}
    };
    let both = |x: &Option<String>, y: &Option<String>| match (x, y) {
        (Some(x), Some(y)) => Some(x == y),
        _ => None,
    };
    field("doi", both(&a.doi, &b.doi));
    // the same people in another order, or with full first names in one copy and initials in
    // the other ("Hong, Yili and Zheng, Alvin Zuyin" ~ "Zheng, A.Z. and Hong, Y."): the surnames
    // as a set, at least two of them
    let same_people = a.author_set.1 >= 2 && a.author_set == b.author_set;
    // first author: the same surname, or (name order flipped) a shared name token; a different
    // first author of the same set of people says nothing
    let first_author = match (&a.first_author, &b.first_author) {
        (Some(x), Some(y)) if x == y => Some(true),
        (Some(_), Some(_)) => {
            let shared = a
                .author_tokens
                .iter()
                .any(|t| t.len() >= 3 && b.author_tokens.contains(t));
            (shared || !same_people).then_some(shared)
        }
        _ => None,
    };
    field("first_author", first_author);
    // the whole author list, name for name (positive evidence only: formats vary too much for
    // a difference to mean anything)
    let same_list = a.all_authors.1 >= 6 && a.all_authors == b.all_authors;
    field("authors", same_list.then_some(true));
    // the same people with another first author (the order differs)
    field(
        "author_set",
        (same_people && first_author != Some(true)).then_some(true),
    );
    field(
        "year",
        match (a.year, b.year) {
            (Some(x), Some(y)) if x == y => Some(true),
            (Some(x), Some(y)) if (x - y).abs() > 1 => Some(false),
            _ => None,
        },
    );
    field("volume", both(&a.volume, &b.volume));
    field("first_page", pages_agree(a, b));
    field("journal", journal_agree(a, b));
    field(
        "type",
        match (a.conference, b.conference) {
            (Some(x), Some(y)) if x != y => Some(false),
            _ => None,
        },
    );
    // an issue number the pages contradict is a conflict; one they explain says nothing (the
    // export's `number` may be a record number)
    field(
        "issue",
        both(&a.issue, &b.issue).filter(|&same| same || !pages_explain_issue(a, b)),
    );
    (agree, conflict)
}

/// Two records whose fields were compared, and their titles' similarity.
struct Pair<'a> {
    a: &'a Keys,
    b: &'a Keys,
    agree: Vec<&'static str>,
    conflict: Vec<&'static str>,
    sim: f64,
    /// one title is a truncation of the other
    prefix: bool,
    /// the numbers in the titles are the same
    numbers_equal: bool,
}

impl Pair<'_> {
    fn agrees(&self, f: &str) -> bool {
        self.agree.contains(&f)
    }

    fn conflicts(&self, f: &str) -> bool {
        self.conflict.contains(&f)
    }

    /// The pair's evidence as the clusters table gives it.
    fn evidence(&self) -> String {
        format!(
            "title {:.3}{}; agree: {}; conflict: {}",
            self.sim,
            if self.prefix {
                " (one title truncated)"
            } else {
                ""
            },
            self.agree.join(","),
            if self.conflict.is_empty() {
                "none".into()
            } else {
                self.conflict.join(",")
            }
        )
    }

    /// A conflict that no title similarity outweighs (DOI, first page, volume, year, type).
    fn hard_conflict(&self) -> bool {
        ["doi", "first_page", "volume", "year", "type"]
            .iter()
            .any(|f| self.conflicts(f))
    }

    /// Year, volume and first page agree.
    fn bib_locus(&self) -> bool {
        self.agrees("year") && self.agrees("volume") && self.agrees("first_page")
    }

    /// The rules on a DOI, a near-identical title or the same locus (with the thresholds).
    fn strong(&self, th: &Thresholds) -> Option<Decision> {
        let (a, b, sim, prefix, numbers_equal) =
            (self.a, self.b, self.sim, self.prefix, self.numbers_equal);
        let hard_conflict = self.hard_conflict();
        let others = self.agree.iter().filter(|f| **f != "doi").count();
        if self.agrees("doi")
            && sim >= th.doi
            && numbers_equal
            && !self.conflicts("first_page")
            && !self.conflicts("year")
            && !self.conflicts("type")
        {
            return Some(Decision::Duplicate(self.evidence()));
        }
        // near-identical title with no contradiction: two agreeing fields suffice; a disagreeing
        // first author (name order, transliteration) is outweighed by year + volume + first page
        let bib_locus = self.bib_locus();
        if sim >= th.near
            && numbers_equal
            && !hard_conflict
            && !prefix
            && ((!self.conflicts("first_author") && others >= 2) || bib_locus)
        {
            return Some(Decision::Duplicate(self.evidence()));
        }
        // the same bibliographic locus (year, volume, page range) and first author, in a
        // compatible journal: a similar title suffices (lost Greek letters, "p6"/"p16" typos),
        // but numbers in the title may differ only where a page range rules out neighbouring
        // one-page abstracts
        let range = a.last_page.is_some() || b.last_page.is_some();
        if bib_locus
            && self.agrees("first_author")
            && !self.conflicts("journal")
            && !hard_conflict
            && sim >= th.locus
            && (numbers_equal || (sim >= 0.97 && range))
        {
            return Some(Decision::Duplicate(self.evidence()));
        }
        None
    }

    /// The same title by the same first author in the same volume of the same journal, where
    /// one record is a single page EARLIER in the volume than the other (a meeting abstract
    /// before the article; a single page after it may be an erratum, which stays apart).
    fn abstract_before_article(&self) -> bool {
        let (a, b, sim, prefix, numbers_equal) =
            (self.a, self.b, self.sim, self.prefix, self.numbers_equal);
        let only_pages_conflict = self
            .conflict
            .iter()
            .all(|f| matches!(*f, "first_page" | "issue"));
        sim >= 0.999
            && !prefix
            && numbers_equal
            && only_pages_conflict
            && !a.correction
            && !b.correction
            && (single_page_earlier(a, b) || single_page_earlier(b, a))
            && ["first_author", "year", "volume", "journal"]
                .iter()
                .all(|f| self.agrees(f))
    }

    /// The rules for a meeting abstract before its article, a truncated title, a title cut at
    /// its subtitle, a conference paper and its journal version; else a maybe-pair for a
    /// person.
    fn weak(&self) -> Option<Decision> {
        let (a, b, sim, prefix, numbers_equal) =
            (self.a, self.b, self.sim, self.prefix, self.numbers_equal);
        let others = self.agree.iter().filter(|f| **f != "doi").count();
        if self.abstract_before_article() {
            return Some(Decision::Duplicate(self.evidence()));
        }
        // a truncated or extended title needs the full bibliographic locus and the same author
        if prefix
            && numbers_equal
            && !self.hard_conflict()
            && self.agrees("first_author")
            && (self.bib_locus() || others >= 4)
        {
            return Some(Decision::Duplicate(self.evidence()));
        }
        // a title cut at its subtitle in one database ("Infrastructure in the wild" vs
        // "Infrastructure in the wild: what mapping …"): the same first author and year, and the
        // same journal or volume, with no conflict
        let head_of = |x: &Keys, y: &Keys| y.title_head.as_deref() == Some(x.title.as_str());
        if (head_of(a, b) || head_of(b, a))
            && self.conflict.is_empty()
            && self.agrees("first_author")
            && self.agrees("year")
            && (self.agrees("journal") || self.agrees("volume"))
        {
            let why = format!("title cut at the subtitle; {}", self.evidence());
            return Some(Decision::Duplicate(why));
        }
        // a conference paper and its proceedings or journal version: the same title and numbers,
        // the same first author and author list (or year), and nothing against it but the venue
        // (year one apart and pages missing on one side do not conflict)
        let venue_only = self
            .conflict
            .iter()
            .all(|f| matches!(*f, "type" | "journal"));
        let same_authors = a.all_authors.1 > 0 && a.all_authors == b.all_authors;
        if self.conflicts("type")
            && venue_only
            && sim >= 0.95
            && numbers_equal
            && !prefix
            && self.agrees("first_author")
            && same_authors
        {
            let why = format!("conference and journal versions; {}", self.evidence());
            return Some(Decision::Duplicate(why));
        }
        // for a person: similar titles by the same first author that the rules could not settle
        if sim >= 0.90
            && numbers_equal
            && !self.conflicts("doi")
            && !self.conflicts("first_author")
            && !self.conflicts("type")
            && (self.agrees("first_author") || self.agree.len() >= 2)
        {
            return Some(Decision::Maybe(self.evidence()));
        }
        None
    }
}
