//! Duplicate detection: blocking (so cost grows near-linearly), pairwise rules that put zero
//! false positives first, clustering, and one merged record per cluster.
//!
//! A pair is merged only on positive evidence with no contradiction: a matching DOI with a
//! similar title, or a near-identical title with the same numbers in it and at least two more
//! agreeing fields (first author, year, volume, first page, journal) and none that conflicts.
//! Pairs with a similar title that do not meet that bar go to the maybe-pairs table for a
//! person; their decisions, fed back, are applied on rerun.

pub use crate::keys::{block_keys, keys, Keys};
use crate::parse::Record;
use crate::state::Earlier;
use std::collections::{BTreeMap, HashMap};

mod rules;
pub use rules::*;

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

/// Map over a slice on the machine's cores (at most 8; order preserved), sequentially below
/// 256 items.
fn par_map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    if items.len() < 256 {
        return items.iter().map(&f).collect();
    }
    metapipe_tables::par::par_map(items, 8, f)
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
    let round = Round {
        earlier,
        records,
        m: earlier.n_records(),
        c0: earlier.n_clusters(),
    };
    let (m, c0, n) = (round.m, round.c0, records.len());
    let keys: Vec<Keys> = par_map(records, keys);
    let forced = round.forced(human);
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
    let Joined {
        mut dsu,
        matched,
        mut maybe,
        warnings,
    } = round.join(&pairs, decided, &forced);
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

/// A search round over the earlier rounds: record `g` is earlier's below `m`, the round's
/// `g - m` from `m`; the earlier rounds have `c0` clusters.
struct Round<'a> {
    earlier: &'a Earlier,
    records: &'a [Record],
    m: usize,
    c0: usize,
}

/// The union of the round's duplicate pairs, with what each record first matched, the
/// maybe-pairs and the warnings on people's decisions that would merge earlier clusters.
struct Joined {
    dsu: Dsu,
    matched: Vec<Option<(usize, String)>>,
    maybe: Vec<(usize, usize, f64, String)>,
    warnings: Vec<String>,
}

impl Round<'_> {
    /// One node per earlier cluster, then one per record of the round.
    fn node(&self, g: usize) -> usize {
        if g >= self.m {
            self.c0 + g - self.m
        } else {
            self.earlier.cluster_of(g)
        }
    }

    fn id(&self, g: usize) -> &str {
        if g >= self.m {
            self.records[g - self.m].record_id.as_str()
        } else {
            self.earlier.record_id(g)
        }
    }

    /// People's decisions on pairs involving the round's records (a pair of earlier records
    /// was decided in its own round).
    fn forced(&self, human: &[HumanDecision]) -> HashMap<(usize, usize), bool> {
        let m = self.m;
        let id_index: HashMap<&str, usize> = self
            .records
            .iter()
            .enumerate()
            .map(|(i, r)| (r.record_id.as_str(), m + i))
            .collect();
        let find = |id: &str| {
            id_index
                .get(id)
                .copied()
                .or_else(|| self.earlier.find_id(id))
        };
        let mut forced = HashMap::new();
        for h in human {
            if let (Some(a), Some(b)) = (find(&h.record_a), find(&h.record_b)) {
                if a.max(b) >= m && a != b {
                    forced.insert((a.min(b), a.max(b)), h.duplicate);
                }
            }
        }
        forced
    }

    /// Join the duplicate pairs (a person's decision over the rules'); a component holding an
    /// earlier cluster has it as its root (the lower index wins a union), and two earlier
    /// clusters are never joined.
    fn join(
        &self,
        pairs: &[(usize, usize)],
        decided: Vec<(Decision, f64)>,
        forced: &HashMap<(usize, usize), bool>,
    ) -> Joined {
        let (m, c0) = (self.m, self.c0);
        let mut dsu = Dsu((0..c0 + self.records.len()).collect());
        let mut matched: Vec<Option<(usize, String)>> = vec![None; self.records.len()];
        let mut maybe = vec![];
        let mut warnings = vec![];
        for (&(a, b), (d, sim)) in pairs.iter().zip(decided) {
            let by_person = forced.get(&(a, b)).copied();
            let d = match by_person {
                Some(true) => {
                    Decision::Duplicate("a reviewer's decision (dedup_decisions.csv)".into())
                }
                Some(false) => Decision::Distinct,
                None => d,
            };
            match d {
                Decision::Duplicate(ev) => {
                    let (ra, rb) = (dsu.find(self.node(a)), dsu.find(self.node(b)));
                    if ra != rb && ra < c0 && rb < c0 {
                        let why = format!(
                            "{ev}; joining would merge {} and {}, kept apart by earlier rounds",
                            cluster_id(ra),
                            cluster_id(rb)
                        );
                        if by_person.is_some() {
                            warnings.push(format!("dedup decision {} = {}: {why}; mark a pair of records of those two clusters as duplicates to merge them", self.id(a), self.id(b)));
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
        Joined {
            dsu,
            matched,
            maybe,
            warnings,
        }
    }
}

/// Cluster id of cluster `c` (`C0001`, … in the order the clusters were found).
pub fn cluster_id(c: usize) -> String {
    format!("C{:04}", c + 1)
}

#[cfg(test)]
mod class_tests;
#[cfg(test)]
mod tests;
