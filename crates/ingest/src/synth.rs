//! A seeded generator of large SYNTHETIC record sets with realistic duplicate noise, in the
//! bib-dedupe benchmark layout (`ID, title, year, author, pages, volume, number, ENTRYTYPE,
//! journal, doi`), with the true duplicate clusters. For benchmarks and scale tests; every title
//! starts with "Synthetic" (or, for the non-Latin class, "Синтетическая" — Russian for
//! synthetic) and every DOI uses the reserved prefix 10.5555.
//!
//! Besides plain duplicates with export noise, about one work in 60 belongs to a hard class
//! (issue 13), each with its truth: serial items (a recurring column in consecutive issues:
//! distinct), errata after the article (distinct), a conference paper and its journal version
//! (duplicates), a title translated with identical locators (duplicates), a title cut at its
//! subtitle (duplicates), a Cyrillic title with the same DOI and little else (duplicates).

/// splitmix64: small, fast, reproducible across platforms.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

const SYL: [&str; 24] = [
    "ka", "lo", "mi", "ren", "sa", "tor", "vel", "an", "de", "ri", "bo", "nu", "sel", "gar", "hol",
    "pe", "qui", "zan", "fo", "mar", "tin", "le", "os", "ven",
];
const WORDS: [&str; 60] = [
    "effect",
    "efficacy",
    "safety",
    "randomized",
    "trial",
    "cohort",
    "patients",
    "treatment",
    "therapy",
    "outcomes",
    "risk",
    "mortality",
    "children",
    "adults",
    "elderly",
    "stroke",
    "cancer",
    "infection",
    "screening",
    "cervical",
    "cytology",
    "vaccine",
    "placebo",
    "controlled",
    "study",
    "analysis",
    "review",
    "systematic",
    "meta",
    "association",
    "between",
    "and",
    "of",
    "in",
    "with",
    "for",
    "after",
    "during",
    "versus",
    "long-term",
    "follow-up",
    "multicentre",
    "prospective",
    "retrospective",
    "clinical",
    "hospital",
    "intensive",
    "care",
    "renal",
    "cardiac",
    "pulmonary",
    "hepatic",
    "inflammation",
    "biomarker",
    "diagnostic",
    "accuracy",
    "imaging",
    "surgery",
    "rehabilitation",
    "cognitive",
];

/// One generated record (benchmark CSV columns).
#[derive(Debug, Clone, PartialEq)]
pub struct SynthRecord {
    pub id: String,
    pub title: String,
    pub year: i64,
    pub author: String,
    pub pages: String,
    pub volume: String,
    pub number: String,
    pub journal: String,
    pub doi: String,
    pub entry_type: String,
}

fn surname(r: &mut Rng) -> String {
    let n = 2 + r.below(2);
    let mut s: String = (0..n).map(|_| *r.pick(&SYL)).collect();
    s[..1].make_ascii_uppercase();
    s
}

fn abbreviate(j: &str) -> String {
    j.split(' ')
        .filter(|w| !["of", "and", "the"].contains(&w.to_lowercase().as_str()))
        .map(|w| if w.len() > 5 { &w[..4] } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Generate `n` records (about `dup_rate` of them duplicates of others) and the true clusters.
pub fn generate(n: usize, dup_rate: f64, seed: u64) -> (Vec<SynthRecord>, Vec<Vec<String>>) {
    let mut r = Rng(seed);
    let journals = journals(&mut r);
    let mut out: Vec<SynthRecord> = Vec::with_capacity(n);
    let mut clusters = vec![];
    let mut next_id = 0usize;
    let mut id = || {
        next_id += 1;
        format!("syn_{next_id:08}")
    };
    let mut w = 0usize;
    while out.len() < n {
        w += 1;
        let work = Work::new(&mut r, w, &journals);
        if r.chance(1.0 / 60.0) {
            let (records, one_work) = hard_records(&mut r, &work.base, w, &work.authors);
            let mut ids = vec![];
            for mut rec in records.iter().cloned() {
                if out.len() >= n {
                    break;
                }
                rec.id = id();
                ids.push(rec.id.clone());
                out.push(rec);
            }
            if one_work && ids.len() == records.len() {
                clusters.push(ids);
            }
            continue;
        }
        let extra = if r.chance(dup_rate / 2.0) {
            1 + r.below(3) as usize
        } else {
            0
        };
        let mut members = vec![];
        for c in 0..=extra {
            if out.len() >= n {
                break;
            }
            let mut rec = work.base.clone();
            rec.id = id();
            if c > 0 {
                work.noise(&mut r, &mut rec);
            }
            members.push(rec.id.clone());
            out.push(rec);
        }
        if members.len() > 1 {
            clusters.push(members);
        }
    }
    // shuffle record order (deterministically) so duplicates are not adjacent
    for i in (1..out.len()).rev() {
        let j = r.below(i as u64 + 1) as usize;
        out.swap(i, j);
    }
    (out, clusters)
}

/// 400 journal names ("Journal of Word Word").
fn journals(r: &mut Rng) -> Vec<String> {
    (0..400)
        .map(|_| {
            let k = 2 + r.below(3);
            let mut w: Vec<String> = (0..k)
                .map(|_| {
                    let mut s = r.pick(&WORDS).to_string();
                    s[..1].make_ascii_uppercase();
                    s
                })
                .collect();
            w.insert(0, "Journal of".into());
            w.join(" ")
        })
        .collect()
}

/// One synthetic work: its record as one database gives it, its authors (surname, given name,
/// initial) and page range.
struct Work {
    base: SynthRecord,
    authors: Vec<(String, String, String)>,
    sp: u64,
    ep: u64,
}

impl Work {
    fn new(r: &mut Rng, w: usize, journals: &[String]) -> Work {
        let len = 7 + r.below(10) as usize;
        let words: Vec<&str> = (0..len).map(|_| *r.pick(&WORDS)).collect();
        let title = format!("Synthetic {w} {}", words.join(" "));
        let n_auth = 1 + r.below(6) as usize;
        let authors: Vec<(String, String, String)> = (0..n_auth)
            .map(|_| {
                let s = surname(r);
                let g = surname(r);
                let ini = g[..1].to_string();
                (s, g, ini)
            })
            .collect();
        let year = 1990 + r.below(35) as i64;
        let journal = r.pick(journals).clone();
        let volume = (1 + r.below(300)).to_string();
        let number = (1 + r.below(12)).to_string();
        let sp = 1 + r.below(3000);
        let ep = sp + 2 + r.below(15);
        let base = SynthRecord {
            id: String::new(),
            title,
            year,
            author: authors
                .iter()
                .map(|(s, _, i)| format!("{s}, {i}."))
                .collect::<Vec<_>>()
                .join(" and "),
            pages: format!("{sp}-{ep}"),
            volume,
            number,
            journal,
            doi: format!("10.5555/synth.{w}"),
            entry_type: "article".into(),
        };
        Work {
            base,
            authors,
            sp,
            ep,
        }
    }

    /// The realistic noise of another database's export.
    fn noise(&self, r: &mut Rng, rec: &mut SynthRecord) {
        let (sp, ep) = (self.sp, self.ep);
        if r.chance(0.3) {
            rec.title = rec.title.to_uppercase();
        }
        if r.chance(0.3) {
            rec.title.push('.');
        }
        if r.chance(0.1) {
            rec.title.push_str(" [Spanish]");
        }
        if r.chance(0.3) {
            rec.author = self
                .authors
                .iter()
                .map(|(s, g, _)| format!("{s}, {g}"))
                .collect::<Vec<_>>()
                .join(" and ");
        }
        if r.chance(0.4) {
            rec.journal = abbreviate(&self.base.journal);
        }
        if r.chance(0.4) {
            let ep_s = ep.to_string();
            let sp_s = sp.to_string();
            let k = sp_s
                .chars()
                .zip(ep_s.chars())
                .take_while(|(a, b)| a == b)
                .count();
            rec.pages = format!("{sp}-{}", &ep_s[k.min(ep_s.len() - 1)..]);
        }
        if r.chance(0.5) {
            rec.doi.clear();
        }
        if r.chance(0.1) {
            rec.number.clear();
        }
        if r.chance(0.15) {
            // a typo: two adjacent letters swapped inside the title
            let mut b = rec.title.clone().into_bytes();
            let i = 12 + r.below((b.len() - 14) as u64) as usize;
            if b[i].is_ascii_alphabetic() && b[i + 1].is_ascii_alphabetic() {
                b.swap(i, i + 1);
            }
            rec.title = String::from_utf8(b).unwrap();
        }
        if r.chance(0.1) {
            rec.year += 1; // e-pub ahead of print
        }
        if r.chance(0.1) {
            rec.volume.clear();
        }
    }
}

const CYR: [&str; 16] = [
    "синтетическая",
    "запись",
    "лечение",
    "больных",
    "исследование",
    "риск",
    "детей",
    "терапия",
    "эффективность",
    "безопасность",
    "инфекции",
    "смертность",
    "анализ",
    "пациентов",
    "оценка",
    "результаты",
];
const DE: [&str; 12] = [
    "Wirkung",
    "Sicherheit",
    "Behandlung",
    "Patienten",
    "Studie",
    "Kinder",
    "Therapie",
    "Risiko",
    "Analyse",
    "Ergebnisse",
    "klinische",
    "Untersuchung",
];

/// One work of a hard class (see the module doc): its records, and whether they are one work
/// (a true duplicate cluster).
fn hard_records(
    r: &mut Rng,
    base: &SynthRecord,
    w: usize,
    authors: &[(String, String, String)],
) -> (Vec<SynthRecord>, bool) {
    match r.below(6) {
        0 => (serial(r, base, w), false),
        1 => (erratum(base), false),
        2 => (conference(base), true),
        3 => (translated(r, base, w), true),
        4 => (subtitle(r, base), true),
        _ => (cyrillic(r, base, w, authors), true),
    }
}

/// Serial items: the same column title, author, year, journal and volume in consecutive
/// issues, no pages: different items.
fn serial(r: &mut Rng, base: &SynthRecord, w: usize) -> Vec<SynthRecord> {
    let title = format!("Synthetic {w} editor's comments");
    (1..=(2 + r.below(2)))
        .map(|issue| SynthRecord {
            title: title.clone(),
            number: issue.to_string(),
            pages: String::new(),
            doi: String::new(),
            ..base.clone()
        })
        .collect()
}

/// An erratum in a later issue: a different item.
fn erratum(base: &SynthRecord) -> Vec<SynthRecord> {
    let first = base.pages.split('-').next().unwrap_or("1");
    let page = first.parse::<u64>().unwrap_or(1) + 300;
    let number = (base.number.parse::<u64>().unwrap_or(1) + 3).to_string();
    let erratum = SynthRecord {
        title: format!("Erratum: {}", base.title),
        pages: page.to_string(),
        number,
        doi: String::new(),
        ..base.clone()
    };
    vec![base.clone(), erratum]
}

/// A conference paper and its journal version: the same authors, a year apart, no pages,
/// volume or DOI at the conference.
fn conference(base: &SynthRecord) -> Vec<SynthRecord> {
    let conf = SynthRecord {
        entry_type: "inproceedings".into(),
        journal: format!(
            "Proceedings of the {} Conference",
            base.journal.trim_start_matches("Journal of ")
        ),
        year: base.year - 1,
        pages: String::new(),
        volume: String::new(),
        number: String::new(),
        doi: String::new(),
        ..base.clone()
    };
    vec![conf, base.clone()]
}

/// The same article indexed under a translated title, identical locators.
fn translated(r: &mut Rng, base: &SynthRecord, w: usize) -> Vec<SynthRecord> {
    let k = 6 + r.below(5) as usize;
    let de: Vec<&str> = (0..k).map(|_| *r.pick(&DE)).collect();
    let translated = SynthRecord {
        title: format!("Synthetische {w} {}", de.join(" ")),
        doi: String::new(),
        ..base.clone()
    };
    vec![base.clone(), translated]
}

/// A title cut at its subtitle in one database (pages and DOI missing there too).
fn subtitle(r: &mut Rng, base: &SynthRecord) -> Vec<SynthRecord> {
    let full = SynthRecord {
        title: format!(
            "{}: a {} {} study",
            base.title,
            r.pick(&WORDS),
            r.pick(&WORDS)
        ),
        ..base.clone()
    };
    let cut = SynthRecord {
        pages: String::new(),
        doi: String::new(),
        ..base.clone()
    };
    vec![full, cut]
}

/// A Cyrillic title: the same DOI, and on one side little else.
fn cyrillic(
    r: &mut Rng,
    base: &SynthRecord,
    w: usize,
    authors: &[(String, String, String)],
) -> Vec<SynthRecord> {
    let k = 5 + r.below(5) as usize;
    let words: Vec<&str> = (0..k).map(|_| *r.pick(&CYR)).collect();
    let title = format!("Синтетическая {w} {}", words.join(" "));
    let author = authors
        .iter()
        .map(|(s, _, i)| format!("{s}, {i}."))
        .collect::<Vec<_>>()
        .join(" and ");
    let a = SynthRecord {
        title: title.clone(),
        author,
        ..base.clone()
    };
    let b = SynthRecord {
        title,
        author: String::new(),
        journal: String::new(),
        volume: String::new(),
        number: String::new(),
        pages: String::new(),
        ..base.clone()
    };
    vec![a, b]
}

/// The records as benchmark-layout CSV text.
pub fn to_csv(recs: &[SynthRecord]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record([
        "ID",
        "title",
        "year",
        "author",
        "pages",
        "volume",
        "number",
        "ENTRYTYPE",
        "journal",
        "doi",
    ])
    .unwrap();
    for x in recs {
        w.write_record([
            x.id.as_str(),
            &x.title,
            &x.year.to_string(),
            &x.author,
            &x.pages,
            &x.volume,
            &x.number,
            &x.entry_type,
            &x.journal,
            &x.doi,
        ])
        .unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

/// The true clusters as `merged_ids` CSV text.
pub fn clusters_csv(clusters: &[Vec<String>]) -> String {
    let mut s = String::from("merged_ids\n");
    for c in clusters {
        s.push_str(&c.join(";"));
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_sized() {
        let (a, ca) = generate(2000, 0.3, 7);
        let (b, cb) = generate(2000, 0.3, 7);
        assert_eq!(a, b);
        assert_eq!(ca, cb);
        assert_eq!(a.len(), 2000);
        let dups: usize = ca.iter().map(|c| c.len() - 1).sum();
        assert!(dups > 200 && dups < 800, "{dups} duplicates");
        assert!(a.iter().all(|r| {
            let t = r.title.to_lowercase();
            (t.starts_with("synthetic")
                || t.starts_with("erratum: synthetic")
                || t.starts_with("synthetische")
                || t.starts_with("синтетическая"))
                && (r.doi.is_empty() || r.doi.starts_with("10.5555/"))
        }));
        assert_ne!(generate(2000, 0.3, 8).0, a);
    }
}
