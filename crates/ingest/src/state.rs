//! What a search round leaves for the rounds after it: its records' ids, clusters and matching
//! keys, in one binary file per round (`.state/round-NNN.bin` beside the outputs), so that a new
//! round is deduplicated against every earlier record without parsing or normalizing them again.
//!
//! Layout (little-endian): a magic line; `n`, the global index of the round's first record, the
//! number of clusters before and after the round; each record's cluster (`u32`); the
//! representative (local index) of each cluster the round found; `(hash of record id, local
//! index)` sorted; `(blocking key, local index)` sorted; the `n + 1` offsets of the records'
//! entries; the entries (record id, then [`Keys`]). Lookups binary-search the sorted arrays in
//! the file's bytes: loading a round costs one read, and only the records a new round is
//! compared with are decoded.

use crate::keys::{block_keys, Keys};

const MAGIC: &[u8] = b"metapipe search-round state 3\n";

/// A round's state, as read (or just written): owned bytes or a read-only file mapping.
pub struct RoundState {
    bytes: Box<dyn AsRef<[u8]> + Send + Sync>,
    pub n: usize,
    /// global index of the round's first record
    pub first: usize,
    pub clusters_before: usize,
    pub clusters_after: usize,
    at_cluster: usize,
    at_reps: usize,
    at_ids: usize,
    n_blocks: usize,
    at_blocks: usize,
    at_offsets: usize,
    at_entries: usize,
}

/// FNV-1a of a record id, mixed.
fn id_hash(id: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in id.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100000001b3);
    }
    mix(h)
}

/// MurmurHash3's 64-bit finalizer: every bit of `x` moves the top bits, where the sorted
/// arrays' search starts (FNV-1a of ids that differ in their last characters differ little
/// there).
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ceb9fe1a85ec53);
    x ^ (x >> 33)
}

struct Enc(Vec<u8>);
impl Enc {
    fn u32(&mut self, v: usize) {
        self.0
            .extend_from_slice(&(u32::try_from(v).expect("fits a round state")).to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.u32(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }
    fn opt(&mut self, s: &Option<String>) {
        match s {
            None => self.0.push(0),
            Some(s) => {
                self.0.push(1);
                self.str(s);
            }
        }
    }
    fn list(&mut self, v: &[String]) {
        self.u32(v.len());
        for s in v {
            self.str(s);
        }
    }
    fn keys(&mut self, k: &Keys) {
        self.str(&k.title);
        self.list(&k.numbers);
        self.opt(&k.first_author);
        match k.year {
            None => self.0.push(0),
            Some(y) => {
                self.0.push(1);
                self.u64(y as u64);
            }
        }
        self.opt(&k.volume);
        self.opt(&k.first_page);
        self.opt(&k.last_page);
        self.opt(&k.doi);
        self.list(&k.journal);
        self.list(&k.journal_abbrev);
        self.list(&k.author_tokens);
        self.u64(k.all_authors.0);
        self.u64(k.all_authors.1 as u64);
        self.u64(k.author_set.0);
        self.u64(k.author_set.1 as u64);
        self.0.push(match k.conference {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        });
        self.0
            .push(k.article_number as u8 | (k.correction as u8) << 1 | (k.notice as u8) << 2);
        self.opt(&k.issue);
        self.opt(&k.title_head);
        self.list(&k.parts);
    }
}

struct Dec<'a>(&'a [u8]);
impl<'a> Dec<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
    fn u8(&mut self) -> u8 {
        self.take(1)[0]
    }
    fn u32(&mut self) -> usize {
        u32::from_le_bytes(self.take(4).try_into().expect("4 bytes")) as usize
    }
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take(8).try_into().expect("8 bytes"))
    }
    fn str(&mut self) -> &'a str {
        let n = self.u32();
        // written from Rust strings; the run record's content hash guards the file since
        std::str::from_utf8(self.take(n)).unwrap_or("\u{fffd}")
    }
    fn opt(&mut self) -> Option<String> {
        (self.u8() == 1).then(|| self.str().to_string())
    }
    fn list(&mut self) -> Vec<String> {
        let n = self.u32();
        (0..n).map(|_| self.str().to_string()).collect()
    }
    fn keys(&mut self) -> Keys {
        let title = self.str().to_string();
        let numbers = self.list();
        let first_author = self.opt();
        let year = (self.u8() == 1).then(|| self.u64() as i64);
        let (volume, first_page, last_page, doi) = (self.opt(), self.opt(), self.opt(), self.opt());
        let (journal, journal_abbrev, author_tokens) = (self.list(), self.list(), self.list());
        let all_authors = (self.u64(), self.u64() as usize);
        let author_set = (self.u64(), self.u64() as usize);
        let conference = match self.u8() {
            0 => None,
            c => Some(c == 2),
        };
        let flags = self.u8();
        let (issue, title_head, parts) = (self.opt(), self.opt(), self.list());
        Keys {
            title,
            numbers,
            first_author,
            year,
            volume,
            first_page,
            last_page,
            article_number: flags & 1 != 0,
            doi,
            journal,
            journal_abbrev,
            author_tokens,
            all_authors,
            author_set,
            conference,
            correction: flags & 2 != 0,
            notice: flags & 4 != 0,
            issue,
            title_head,
            parts,
        }
    }
}

/// One round's contribution, to be written: its records (ids and keys, in round order), their
/// global clusters, the representatives of the clusters the round found.
pub struct RoundFacts<'a> {
    pub first: usize,
    pub clusters_before: usize,
    pub ids: Vec<&'a str>,
    pub keys: &'a [Keys],
    pub cluster_of: &'a [usize],
    /// local index of the representative of each cluster the round found
    pub representatives: &'a [usize],
}

impl RoundState {
    /// Encode a round's facts.
    pub fn encode(f: &RoundFacts) -> Vec<u8> {
        let n = f.ids.len();
        let mut e = Enc(Vec::with_capacity(MAGIC.len() + n * 200));
        e.0.extend_from_slice(MAGIC);
        for v in [
            n,
            f.first,
            f.clusters_before,
            f.clusters_before + f.representatives.len(),
        ] {
            e.u64(v as u64);
        }
        for &c in f.cluster_of {
            e.u32(c);
        }
        for &r in f.representatives {
            e.u32(r);
        }
        let mut ids: Vec<(u64, usize)> = f
            .ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id_hash(id), i))
            .collect();
        ids.sort_unstable();
        for (h, i) in ids {
            e.u64(h);
            e.u32(i);
        }
        let mut blocks: Vec<(u64, usize)> = f
            .keys
            .iter()
            .enumerate()
            .flat_map(|(i, k)| block_keys(k).into_iter().map(move |b| (mix(b), i)))
            .collect();
        blocks.sort_unstable();
        e.u64(blocks.len() as u64);
        for (b, i) in blocks {
            e.u64(b);
            e.u32(i);
        }
        let mut entries = Enc(Vec::with_capacity(n * 160));
        let mut offsets = Vec::with_capacity(n + 1);
        for (id, k) in f.ids.iter().zip(f.keys) {
            offsets.push(entries.0.len());
            entries.str(id);
            entries.keys(k);
        }
        offsets.push(entries.0.len());
        for o in offsets {
            e.u32(o);
        }
        e.0.extend_from_slice(&entries.0);
        e.0
    }

    /// Read an encoded state (from a file a run wrote; `what` names it in errors).
    pub fn decode(
        owner: impl AsRef<[u8]> + Send + Sync + 'static,
        what: &str,
    ) -> Result<RoundState, String> {
        let bytes = owner.as_ref();
        let bad = |m: &str| {
            format!(
                "{what}: not a search-round state ({m}); delete the output directory to rebuild it"
            )
        };
        if !bytes.starts_with(MAGIC) || bytes.len() < MAGIC.len() + 32 {
            return Err(bad("header"));
        }
        let mut d = Dec(&bytes[MAGIC.len()..]);
        let (n, first, clusters_before, clusters_after) = (
            d.u64() as usize,
            d.u64() as usize,
            d.u64() as usize,
            d.u64() as usize,
        );
        let at_cluster = MAGIC.len() + 32;
        let at_reps = at_cluster + 4 * n;
        let at_ids = at_reps
            + 4 * clusters_after
                .checked_sub(clusters_before)
                .ok_or_else(|| bad("cluster counts"))?;
        let at_nb = at_ids + 12 * n;
        if bytes.len() < at_nb + 8 {
            return Err(bad("length"));
        }
        let n_blocks =
            u64::from_le_bytes(bytes[at_nb..at_nb + 8].try_into().expect("8 bytes")) as usize;
        let at_blocks = at_nb + 8;
        let at_offsets = at_blocks + 12 * n_blocks;
        let at_entries = at_offsets + 4 * (n + 1);
        if bytes.len() < at_entries {
            return Err(bad("length"));
        }
        let s = RoundState {
            bytes: Box::new(owner),
            n,
            first,
            clusters_before,
            clusters_after,
            at_cluster,
            at_reps,
            at_ids,
            n_blocks,
            at_blocks,
            at_offsets,
            at_entries,
        };
        if s.at_entries + s.offset(n) != s.bytes().len() {
            return Err(bad("entries"));
        }
        Ok(s)
    }

    fn bytes(&self) -> &[u8] {
        (*self.bytes).as_ref()
    }
    fn u32_at(&self, at: usize) -> usize {
        u32::from_le_bytes(self.bytes()[at..at + 4].try_into().expect("4 bytes")) as usize
    }
    fn u64_at(&self, at: usize) -> u64 {
        u64::from_le_bytes(self.bytes()[at..at + 8].try_into().expect("8 bytes"))
    }
    fn offset(&self, i: usize) -> usize {
        self.u32_at(self.at_offsets + 4 * i)
    }
    fn entry(&self, i: usize) -> Dec<'_> {
        Dec(&self.bytes()[self.at_entries + self.offset(i)..self.at_entries + self.offset(i + 1)])
    }
    /// Global cluster of local record `i`.
    pub fn cluster_of(&self, i: usize) -> usize {
        self.u32_at(self.at_cluster + 4 * i)
    }
    /// Local index of the representative of the round's `k`-th new cluster.
    pub fn representative(&self, k: usize) -> usize {
        self.u32_at(self.at_reps + 4 * k)
    }
    pub fn record_id(&self, i: usize) -> &str {
        self.entry(i).str()
    }
    pub fn keys(&self, i: usize) -> Keys {
        let mut d = self.entry(i);
        d.str();
        d.keys()
    }
    /// The entries of a sorted `(u64, u32)` array equal to `key`: their positions. The keys are
    /// hashes, spread evenly: the search starts where `key` would be in a uniform spread and
    /// widens from there (a few probes instead of a binary search's ~17 cache misses).
    fn equal(&self, at: usize, len: usize, key: u64) -> std::ops::Range<usize> {
        let at_k = |k: usize| self.u64_at(at + 12 * k);
        if len == 0 {
            return 0..0;
        }
        let guess = ((key as u128 * len as u128) >> 64) as usize;
        // a bracket [lo, hi) holding every entry equal to key, found by doubling steps
        let (mut lo, mut hi) = (guess, guess + 1);
        let mut step = 1;
        while lo > 0 && at_k(lo) >= key {
            lo = lo.saturating_sub(step);
            step *= 2;
        }
        step = 1;
        while hi < len && at_k(hi) <= key {
            hi = (hi + step).min(len);
            step *= 2;
        }
        let first = lo + partition(hi - lo, |k| at_k(lo + k) < key);
        let end = first + partition(hi - first, |k| at_k(first + k) <= key);
        first..end
    }
    fn local_at(&self, at: usize, k: usize) -> usize {
        self.u32_at(at + 12 * k + 8)
    }
    /// Local index of the record with id `id`.
    pub fn find_id(&self, id: &str) -> Option<usize> {
        self.equal(self.at_ids, self.n, id_hash(id))
            .map(|k| self.local_at(self.at_ids, k))
            .find(|&i| self.record_id(i) == id)
    }
    /// Local indices of the round's records in a block.
    fn block(&self, key: u64) -> impl Iterator<Item = usize> + '_ {
        self.equal(self.at_blocks, self.n_blocks, mix(key))
            .map(|k| self.local_at(self.at_blocks, k))
    }
}

/// The first `k` in `0..len` where `pred` is false (pred true then false over the range).
fn partition(len: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, len);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Every earlier round, in order (empty for a review's first round or a single deduplication).
#[derive(Default)]
pub struct Earlier {
    rounds: Vec<RoundState>,
}

impl Earlier {
    pub fn push(&mut self, s: RoundState) {
        self.rounds.push(s);
    }
    pub fn rounds(&self) -> &[RoundState] {
        &self.rounds
    }
    /// Records of every earlier round.
    pub fn n_records(&self) -> usize {
        self.rounds.last().map_or(0, |r| r.first + r.n)
    }
    /// Clusters found by the earlier rounds.
    pub fn n_clusters(&self) -> usize {
        self.rounds.last().map_or(0, |r| r.clusters_after)
    }
    fn locate(&self, g: usize) -> (&RoundState, usize) {
        let k = partition(self.rounds.len(), |k| {
            self.rounds[k].first + self.rounds[k].n <= g
        });
        (&self.rounds[k], g - self.rounds[k].first)
    }
    pub fn cluster_of(&self, g: usize) -> usize {
        let (r, i) = self.locate(g);
        r.cluster_of(i)
    }
    pub fn record_id(&self, g: usize) -> &str {
        let (r, i) = self.locate(g);
        r.record_id(i)
    }
    pub fn keys(&self, g: usize) -> Keys {
        let (r, i) = self.locate(g);
        r.keys(i)
    }
    /// Global index of the earlier record with id `id`.
    pub fn find_id(&self, id: &str) -> Option<usize> {
        self.rounds
            .iter()
            .find_map(|r| r.find_id(id).map(|i| r.first + i))
    }
    /// How many earlier records share the block `key`; their global indices are pushed onto
    /// `out` when there are at most `max`.
    pub fn block(&self, key: u64, max: usize, out: &mut Vec<usize>) -> usize {
        let total: usize = self
            .rounds
            .iter()
            .map(|r| r.equal(r.at_blocks, r.n_blocks, mix(key)).len())
            .sum();
        if total <= max {
            for r in &self.rounds {
                out.extend(r.block(key).map(|i| r.first + i));
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Record;

    fn rec(id: &str, title: &str, doi: Option<&str>) -> Record {
        Record {
            record_id: id.into(),
            database: "x".into(),
            title: Some(title.into()),
            authors: vec!["Doe, Jane".into()],
            year: Some(2021),
            journal: Some("Lancet".into()),
            volume: Some("12".into()),
            pages: Some("e101-9".into()),
            doi: doi.map(Into::into),
            entry_type: Some("conference paper".into()),
            ..Default::default()
        }
    }

    #[test]
    fn state_round_trips_keys_ids_and_blocks() {
        let recs = [
            rec(
                "x:1",
                "Anakinra for sepsis: a trial (part 2)",
                Some("10.1/ab"),
            ),
            rec("x:2", "Erratum to: something else entirely", None),
            rec("x:é", "Ünïcode title", None),
        ];
        let keys: Vec<Keys> = recs.iter().map(crate::dedup::keys).collect();
        let facts = RoundFacts {
            first: 5,
            clusters_before: 3,
            ids: recs.iter().map(|r| r.record_id.as_str()).collect(),
            keys: &keys,
            cluster_of: &[3, 4, 1],
            representatives: &[0, 1],
        };
        let s = RoundState::decode(RoundState::encode(&facts), "test").unwrap();
        assert_eq!(
            (s.n, s.first, s.clusters_before, s.clusters_after),
            (3, 5, 3, 5)
        );
        let mut e = Earlier::default();
        e.push(s);
        assert_eq!((e.n_records(), e.n_clusters()), (8, 5));
        for (i, r) in recs.iter().enumerate() {
            assert_eq!(e.find_id(&r.record_id), Some(5 + i));
            assert_eq!(e.record_id(5 + i), r.record_id);
            assert_eq!(format!("{:?}", e.keys(5 + i)), format!("{:?}", keys[i]));
            for b in block_keys(&keys[i]) {
                let mut out = vec![];
                assert!(e.block(b, 10, &mut out) >= 1);
                assert!(out.contains(&(5 + i)));
            }
        }
        assert_eq!(
            [e.cluster_of(5), e.cluster_of(6), e.cluster_of(7)],
            [3, 4, 1]
        );
        assert_eq!(e.find_id("x:3"), None);
        assert!(RoundState::decode(b"garbage".to_vec(), "f").is_err());
    }
}
