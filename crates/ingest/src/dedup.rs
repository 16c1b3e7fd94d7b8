//! Duplicate detection: blocking (so cost grows near-linearly), pairwise rules that put zero
//! false positives first, clustering, and one merged record per cluster.
//!
//! A pair is merged only on positive evidence with no contradiction: a matching DOI with a
//! similar title, or a near-identical title with the same numbers in it and at least two more
//! agreeing fields (first author, year, volume, first page, journal) and none that conflicts.
//! Pairs with a similar title that do not meet that bar go to the maybe-pairs table for a
//! person; their decisions, fed back, are applied on rerun.

pub use crate::keys::{block_keys, keys, Keys};
use crate::normalize as norm;
use crate::parse::Record;
use crate::state::Earlier;
use std::collections::{BTreeMap, HashMap};

/// The decision on one candidate pair.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Duplicate(String),
    Maybe(String),
    Distinct,
}

fn journal_agree(a: &Keys, b: &Keys) -> Option<bool> {
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
fn pages_agree(a: &Keys, b: &Keys) -> Option<bool> {
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
fn title_match(a: &Keys, b: &Keys) -> (f64, bool, bool) {
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

/// Contradictions that keep a pair apart whatever else agrees: different DOIs, different issue
/// numbers (serial items: a recurring column in consecutive issues), two page ranges that share
/// neither end, a notice (erratum, retraction, comment, reply) against an article, different
/// parts or editions.
fn contradiction(a: &Keys, b: &Keys) -> Option<&'static str> {
    let differ =
        |x: &Option<String>, y: &Option<String>| matches!((x, y), (Some(x), Some(y)) if x != y);
    if differ(&a.doi, &b.doi) {
        return Some("doi");
    }
    // different issues: unless the pages explain it (the same first page: a typo in one issue;
    // a single page earlier in the volume: a meeting abstract before the article, which the
    // page rule in `decide` weighs)
    let page_no = |k: &Keys| k.first_page.as_deref().and_then(|p| p.parse::<u64>().ok());
    let single_earlier = |x: &Keys, y: &Keys| {
        (x.last_page.is_none() || x.last_page == x.first_page)
            && matches!((page_no(x), page_no(y)), (Some(p), Some(q)) if p < q)
    };
    let pages_explain = a.first_page.is_some()
        && (a.first_page == b.first_page || single_earlier(a, b) || single_earlier(b, a));
    if differ(&a.issue, &b.issue) && !pages_explain {
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
    let mut agree: Vec<&str> = vec![];
    let mut conflict: Vec<&str> = vec![];
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
    // first author: the same surname, or (name order flipped) a shared name token
    field(
        "first_author",
        match (&a.first_author, &b.first_author) {
            (Some(x), Some(y)) if x == y => Some(true),
            (Some(_), Some(_)) => Some(
                a.author_tokens
                    .iter()
                    .any(|t| t.len() >= 3 && b.author_tokens.contains(t)),
            ),
            _ => None,
        },
    );
    // the whole author list, name for name (positive evidence only: formats vary too much for
    // a difference to mean anything)
    field(
        "authors",
        (a.all_authors.1 >= 6 && a.all_authors == b.all_authors).then_some(true),
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
    field("issue", both(&a.issue, &b.issue));
    // every rule below needs a matching DOI, the same first author, or two agreeing fields
    // besides the title: without them the pair is distinct, and the title need not be compared
    if !(agree.contains(&"doi") || agree.contains(&"first_author") || agree.len() >= 2) {
        return (Decision::Distinct, 0.0);
    }
    // the same article under a translated title: the same journal, year, volume and full page
    // range (a range, so not one-page items such as letters) by the same first author
    let same_range =
        a.last_page.is_some() && a.last_page != a.first_page && a.last_page == b.last_page;
    if same_range
        && ["first_author", "year", "volume", "first_page", "journal"]
            .iter()
            .all(|f| agree.contains(f))
        && conflict.is_empty()
    {
        return (
            Decision::Duplicate(format!(
                "identical locus, title aside (translated); agree: {}; conflict: none",
                agree.join(",")
            )),
            0.0,
        );
    }
    let (sim, prefix, numbers_equal) = title_match(a, b);
    let evidence = || {
        format!(
            "title {:.3}{}; agree: {}; conflict: {}",
            sim,
            if prefix { " (one title truncated)" } else { "" },
            agree.join(","),
            if conflict.is_empty() {
                "none".into()
            } else {
                conflict.join(",")
            }
        )
    };
    let has = |f: &str, v: &[&str]| v.contains(&f);
    let hard_conflict = ["doi", "first_page", "volume", "year", "type"]
        .iter()
        .any(|f| has(f, &conflict));
    let others = agree.iter().filter(|f| **f != "doi").count();
    if has("doi", &agree)
        && sim >= th.doi
        && numbers_equal
        && !has("first_page", &conflict)
        && !has("year", &conflict)
        && !has("type", &conflict)
    {
        return (Decision::Duplicate(evidence()), sim);
    }
    // near-identical title with no contradiction: two agreeing fields suffice; a disagreeing
    // first author (name order, transliteration) is outweighed by year + volume + first page
    let bib_locus = has("year", &agree) && has("volume", &agree) && has("first_page", &agree);
    if sim >= th.near
        && numbers_equal
        && !hard_conflict
        && !prefix
        && ((!has("first_author", &conflict) && others >= 2) || bib_locus)
    {
        return (Decision::Duplicate(evidence()), sim);
    }
    // the same bibliographic locus (year, volume, page range) and first author, in a compatible
    // journal: a similar title suffices (lost Greek letters, "p6"/"p16" typos), but numbers in
    // the title may differ only where a page range rules out neighbouring one-page abstracts
    let range = a.last_page.is_some() || b.last_page.is_some();
    if bib_locus
        && has("first_author", &agree)
        && !has("journal", &conflict)
        && !hard_conflict
        && sim >= th.locus
        && (numbers_equal || (sim >= 0.97 && range))
    {
        return (Decision::Duplicate(evidence()), sim);
    }
    // the same title by the same first author in the same volume of the same journal, where one
    // record is a single page EARLIER in the volume than the other (a meeting abstract before the
    // article; a single page after it may be an erratum, which stays apart): one work
    let page_no = |k: &Keys| k.first_page.as_deref().and_then(|p| p.parse::<u64>().ok());
    let single_page = |x: &Keys, y: &Keys| {
        (x.last_page.is_none() || x.last_page == x.first_page)
            && matches!((page_no(x), page_no(y)), (Some(p), Some(q)) if p < q)
    };
    let only_pages_conflict = conflict
        .iter()
        .all(|f| matches!(*f, "first_page" | "issue"));
    if sim >= 0.999
        && !prefix
        && numbers_equal
        && only_pages_conflict
        && !a.correction
        && !b.correction
        && (single_page(a, b) || single_page(b, a))
        && ["first_author", "year", "volume", "journal"]
            .iter()
            .all(|f| has(f, &agree))
    {
        return (Decision::Duplicate(evidence()), sim);
    }
    // a truncated or extended title needs the full bibliographic locus and the same author
    if prefix
        && numbers_equal
        && !hard_conflict
        && has("first_author", &agree)
        && (bib_locus || others >= 4)
    {
        return (Decision::Duplicate(evidence()), sim);
    }
    // a title cut at its subtitle in one database ("Infrastructure in the wild" vs
    // "Infrastructure in the wild: what mapping …"): the same first author and year, and the
    // same journal or volume, with no conflict
    let head_of = |x: &Keys, y: &Keys| y.title_head.as_deref() == Some(x.title.as_str());
    if (head_of(a, b) || head_of(b, a))
        && conflict.is_empty()
        && has("first_author", &agree)
        && has("year", &agree)
        && (has("journal", &agree) || has("volume", &agree))
    {
        return (
            Decision::Duplicate(format!("title cut at the subtitle; {}", evidence())),
            sim,
        );
    }
    // a conference paper and its proceedings or journal version: the same title and numbers,
    // the same first author and author list (or year), and nothing against it but the venue
    // (year one apart and pages missing on one side do not conflict)
    let venue_only = conflict.iter().all(|f| matches!(*f, "type" | "journal"));
    let same_authors = a.all_authors.1 > 0 && a.all_authors == b.all_authors;
    if has("type", &conflict)
        && venue_only
        && sim >= 0.95
        && numbers_equal
        && !prefix
        && has("first_author", &agree)
        && same_authors
    {
        return (
            Decision::Duplicate(format!("conference and journal versions; {}", evidence())),
            sim,
        );
    }
    // for a person: similar titles by the same first author that the rules could not settle
    if sim >= 0.90
        && numbers_equal
        && !has("doi", &conflict)
        && !has("first_author", &conflict)
        && !has("type", &conflict)
        && (has("first_author", &agree) || agree.len() >= 2)
    {
        return (Decision::Maybe(evidence()), sim);
    }
    (Decision::Distinct, sim)
}

/// A person's decision on a maybe-pair (fed back from `dedup_decisions.csv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HumanDecision {
    pub record_a: String,
    pub record_b: String,
    pub duplicate: bool,
}

/// Result of deduplicating a search round (or a single set of records: one round with no
/// earlier one, where global and local indices coincide). Records are numbered locally
/// (`0..n`, input order) or globally (after every earlier round's records); clusters globally
/// (after every earlier round's clusters).
#[derive(Debug, Clone, Default)]
pub struct Dedup {
    /// matching keys of each record
    pub keys: Vec<Keys>,
    /// global cluster index of each record (local order)
    pub cluster_of: Vec<usize>,
    /// members (local indices) of each cluster the round found, ordered by their
    /// representative; the `k`-th is global cluster `earlier clusters + k`
    pub clusters: Vec<Vec<usize>>,
    /// representative record (local) of each cluster the round found
    pub representative: Vec<usize>,
    /// for each record: (the record it was matched with, global; evidence)
    pub matched: Vec<Option<(usize, String)>>,
    /// undecided uncertain pairs (a, b global, title similarity, evidence)
    pub maybe: Vec<(usize, usize, f64, String)>,
    /// reviewers' decisions that could not be applied
    pub warnings: Vec<String>,
}

struct Dsu(Vec<usize>);
impl Dsu {
    fn find(&mut self, x: usize) -> usize {
        let mut r = x;
        while self.0[r] != r {
            r = self.0[r];
        }
        let mut y = x;
        while self.0[y] != r {
            let n = self.0[y];
            self.0[y] = r;
            y = n;
        }
        r
    }
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.0[hi] = lo;
        }
    }
}

/// Map over a slice on the machine's cores (std threads, chunked; order preserved).
fn par_map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    if threads < 2 || items.len() < 256 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|sc| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| sc.spawn(|| c.iter().map(&f).collect::<Vec<U>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("dedup worker panicked"))
            .collect()
    })
}

/// Blocks larger than this are skipped as uninformative.
const MAX_BLOCK: usize = 200;

/// Candidate pairs (global indices, lower first) of a round's records (`keys`, numbered from
/// `m`): two of them, or one of them and an earlier record, sharing a block of at most
/// [`MAX_BLOCK`] records of this and the earlier rounds. (Pairs of earlier records were
/// compared when their own round was deduplicated.)
fn candidate_pairs(keys: &[Keys], m: usize, earlier: &Earlier) -> Vec<(usize, usize)> {
    let mut blocks: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, k) in keys.iter().enumerate() {
        for b in block_keys(k) {
            blocks.entry(b).or_default().push(m + i);
        }
    }
    let mut pairs = Vec::new();
    let mut old = Vec::new();
    for (key, v) in blocks {
        old.clear();
        let total = v.len() + earlier.block(key, MAX_BLOCK, &mut old);
        if !(2..=MAX_BLOCK).contains(&total) {
            continue;
        }
        for x in 0..v.len() {
            for y in x + 1..v.len() {
                pairs.push((v[x].min(v[y]), v[x].max(v[y])));
            }
            pairs.extend(old.iter().map(|&a| (a, v[x])));
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// Deduplicate `records`. `priority(i)` orders records for choosing a cluster's representative
/// (lower first; ties by input order). `human` decisions override the rules for their pairs.
pub fn dedup(
    records: &[Record],
    priority: impl Fn(usize) -> usize,
    human: &[HumanDecision],
    th: &Thresholds,
) -> Dedup {
    dedup_round(&Earlier::default(), records, priority, human, th)
}

/// Deduplicate a search round's `records` (global indices from `earlier.n_records()`) among
/// themselves and against every earlier round's. A record that duplicates an earlier one joins
/// that record's cluster; the earlier rounds' clusters are never changed: a record matching two
/// of them joins the first (in pair order) and its pair with the other goes to a person as a
/// maybe-pair. `priority(i)` (local index) orders the round's records for choosing the
/// representative of a cluster the round found. With no earlier round this is [`dedup`].
pub fn dedup_round(
    earlier: &Earlier,
    records: &[Record],
    priority: impl Fn(usize) -> usize,
    human: &[HumanDecision],
    th: &Thresholds,
) -> Dedup {
    let (m, c0, n) = (earlier.n_records(), earlier.n_clusters(), records.len());
    let keys: Vec<Keys> = par_map(records, keys);
    let id_index: HashMap<&str, usize> = records
        .iter()
        .enumerate()
        .map(|(i, r)| (r.record_id.as_str(), m + i))
        .collect();
    let find = |id: &str| id_index.get(id).copied().or_else(|| earlier.find_id(id));
    let mut forced: HashMap<(usize, usize), bool> = HashMap::new();
    for h in human {
        if let (Some(a), Some(b)) = (find(&h.record_a), find(&h.record_b)) {
            // a pair of earlier records was decided in its own round
            if a.max(b) >= m && a != b {
                forced.insert((a.min(b), a.max(b)), h.duplicate);
            }
        }
    }
    let mut pairs = candidate_pairs(&keys, m, earlier);
    pairs.extend(forced.keys().copied());
    pairs.sort_unstable();
    pairs.dedup();
    let mut old: Vec<usize> = pairs.iter().map(|p| p.0).filter(|&a| a < m).collect();
    old.sort_unstable();
    old.dedup();
    let old_keys: HashMap<usize, Keys> = old.into_iter().map(|g| (g, earlier.keys(g))).collect();
    let key = |g: usize| if g >= m { &keys[g - m] } else { &old_keys[&g] };
    let decided: Vec<(Decision, f64)> = par_map(&pairs, |&(a, b)| decide(key(a), key(b), th));
    // one node per earlier cluster, then one per record of the round; a component holding an
    // earlier cluster has it as its root (the lower index wins a union)
    let node = |g: usize| {
        if g >= m {
            c0 + g - m
        } else {
            earlier.cluster_of(g)
        }
    };
    let mut dsu = Dsu((0..c0 + n).collect());
    let mut matched: Vec<Option<(usize, String)>> = vec![None; n];
    let mut maybe = vec![];
    let mut warnings = vec![];
    let id = |g: usize| {
        if g >= m {
            records[g - m].record_id.as_str()
        } else {
            earlier.record_id(g)
        }
    };
    for (&(a, b), (d, sim)) in pairs.iter().zip(decided) {
        let by_person = forced.get(&(a, b)).copied();
        let d = match by_person {
            Some(true) => Decision::Duplicate("a reviewer's decision (dedup_decisions.csv)".into()),
            Some(false) => Decision::Distinct,
            None => d,
        };
        match d {
            Decision::Duplicate(ev) => {
                let (ra, rb) = (dsu.find(node(a)), dsu.find(node(b)));
                if ra != rb && ra < c0 && rb < c0 {
                    let why = format!(
                        "{ev}; joining would merge {} and {}, kept apart by earlier rounds",
                        cluster_id(ra),
                        cluster_id(rb)
                    );
                    if by_person.is_some() {
                        warnings.push(format!("dedup decision {} = {}: {why}; mark a pair of records of those two clusters as duplicates to merge them", id(a), id(b)));
                    } else {
                        maybe.push((a, b, sim, why));
                    }
                    continue;
                }
                dsu.union(ra, rb);
                if b >= m && matched[b - m].is_none() {
                    matched[b - m] = Some((a, ev.clone()));
                }
                if a >= m && matched[a - m].is_none() {
                    matched[a - m] = Some((b, ev));
                }
            }
            Decision::Maybe(ev) => maybe.push((a, b, sim, ev)),
            Decision::Distinct => {}
        }
    }
    // the round's records joined to earlier clusters, and the clusters the round found
    let mut cluster_of = vec![0; n];
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..n {
        let r = dsu.find(c0 + i);
        if r < c0 {
            cluster_of[i] = r;
        } else {
            groups.entry(r).or_default().push(i);
        }
    }
    let mut clusters: Vec<Vec<usize>> = groups.into_values().collect();
    let rep_of = |c: &Vec<usize>| *c.iter().min_by_key(|&&i| (priority(i), i)).unwrap();
    clusters.sort_by_key(|c| {
        let r = rep_of(c);
        (priority(r), r)
    });
    let mut representative = vec![];
    for (ci, c) in clusters.iter().enumerate() {
        for &i in c {
            cluster_of[i] = c0 + ci;
        }
        representative.push(rep_of(c));
    }
    // maybe-pairs already joined through other evidence need no person
    let cluster = |g: usize| {
        if g >= m {
            cluster_of[g - m]
        } else {
            earlier.cluster_of(g)
        }
    };
    maybe.retain(|(a, b, _, _)| cluster(*a) != cluster(*b));
    Dedup {
        keys,
        cluster_of,
        clusters,
        representative,
        matched,
        maybe,
        warnings,
    }
}

/// Cluster id of cluster `c` (`C0001`, … in the order the clusters were found).
pub fn cluster_id(c: usize) -> String {
    format!("C{:04}", c + 1)
}

#[cfg(test)]
mod tests;
