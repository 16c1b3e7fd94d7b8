//! The pipeline config (`pipelines/<name>.toml`): the review protocol as data. Only `[review]`,
//! `[extraction]` and `[[outcomes]]` are required; every other stage is optional. Paths are
//! relative to the config file's directory. Every key is documented in `docs/config.md`.

pub use metapipe_plan::options::AnalysisCfg;
use metapipe_tables::Error;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub review: Review,
    #[serde(default)]
    pub sources: Vec<SourceCfg>,
    #[serde(default)]
    pub dedup: DedupCfg,
    #[serde(default)]
    pub screening: Option<ScreeningCfg>,
    /// PRISMA counts typed in, for a review without record-level search and screening data
    #[serde(default)]
    pub prisma: Option<BTreeMap<String, i64>>,
    pub extraction: ExtractionCfg,
    #[serde(default)]
    pub rob: Option<RobCfg>,
    /// defaults for every outcome's analysis
    #[serde(default)]
    pub analysis: AnalysisCfg,
    pub outcomes: Vec<OutcomeCfg>,
    /// published pooled results to check for consistency with the sourced study data
    #[serde(default)]
    pub consistency: Vec<ConsistencyCfg>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyCfg {
    pub outcome: String,
    #[serde(default)]
    pub subgroup: Option<String>,
    /// the item in published.csv
    pub published: String,
    pub studies: Vec<String>,
    /// where the study set comes from
    pub basis: String,
    /// an ambiguous set ("four RCTs" citing five): check every subset of this many of `studies`,
    /// each reading as its own row
    pub choose: Option<usize>,
    /// search budget (nodes); the check reports a lower bound when it stops there
    #[serde(default = "default_nodes")]
    pub max_nodes: u64,
}

fn default_nodes() -> u64 {
    5_000_000
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Review {
    pub name: String,
    pub title: String,
    #[serde(default)]
    pub protocol: Option<String>,
    /// the review's input folder (documentation; inputs are named one by one below)
    #[serde(default)]
    #[allow(dead_code)]
    pub data: Option<PathBuf>,
    #[serde(default)]
    pub published: Option<PathBuf>,
    /// the compared interventions, as the forest plots label them
    #[serde(default = "default_treat")]
    pub treat_label: String,
    #[serde(default = "default_ctrl")]
    pub ctrl_label: String,
}

fn default_treat() -> String {
    "Treatment".into()
}
fn default_ctrl() -> String {
    "Control".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceCfg {
    pub database: String,
    pub file: PathBuf,
    /// search date (YYYY-MM-DD): sources searched on the same date form one search round; a
    /// living review adds rounds
    #[serde(default)]
    pub searched: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DedupCfg {
    #[serde(default)]
    pub decisions: Option<PathBuf>,
    /// the rules' title-similarity thresholds (`near`, `doi`, `locus`; docs/dedup.md)
    #[serde(default)]
    pub thresholds: metapipe_ingest::dedup::Thresholds,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreeningCfg {
    pub title_abstract: PathBuf,
    pub full_text: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtractionCfg {
    pub studies: PathBuf,
    pub outcomes: PathBuf,
    #[serde(default)]
    pub arms: Option<PathBuf>,
    #[serde(default)]
    pub comparison_factor: Option<String>,
    /// covariate columns of the studies sheet: name = "text" | "number" | "yes/no"
    /// (they follow the fixed columns of the studies table in alphabetical order)
    #[serde(default)]
    pub covariates: toml::Table,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RobCfg {
    pub answers: PathBuf,
}

/// Which studies an outcome pools: the list the review states, every study with a row for the
/// outcome (`"all"`, the default), or `"unstated"` (the review pooled some set it does not name:
/// nothing is pooled, and the row says so).
#[derive(Debug, Deserialize, Clone)]
#[serde(untagged)]
pub enum StudySet {
    List(Vec<String>),
    Word(String),
}

macro_rules! outcome_cfg {
    ({ $($own:tt)* } $($(#[$doc:meta])* $key:ident: $ty:ty,)*) => {
        /// One `[[outcomes]]` entry: its own keys, then the analysis keys of `[analysis]`
        /// (`protocol::analysis_keys!`) set for this outcome.
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct OutcomeCfg {
            $($own)*
            $($(#[$doc])* pub $key: Option<$ty>,)*
        }

        impl OutcomeCfg {
            /// This outcome's analysis keys, unset ones taken from `[analysis]`. The outcome's
            /// model keys replace `[analysis]`'s as a whole: its own `method` is its one model
            /// (whatever `model`, `fixed` or `random` `[analysis]` sets), and its own `model`,
            /// `fixed` or `random` set aside `[analysis]`'s `method`.
            pub fn analysis(&self, defaults: &AnalysisCfg) -> AnalysisCfg {
                let own = AnalysisCfg { $($key: self.$key.clone(),)* };
                let mut d = defaults.clone();
                if own.method.is_some() {
                    (d.model, d.fixed, d.random) = (None, None, None);
                }
                if own.model.is_some() || own.fixed.is_some() || own.random.is_some() {
                    d.method = None;
                }
                own.or(&d)
            }
        }
    };
}
metapipe_plan::analysis_keys!(outcome_cfg! { {
    pub id: String,
    pub label: String,
    #[serde(default)]
    pub timepoint: Option<String>,
    #[serde(default)]
    pub definition: Option<String>,
    #[serde(default)]
    pub studies: Option<StudySet>,
    #[serde(default)]
    pub studies_source: Option<String>,
    /// a studies column whose levels are the subgroups (with the test for subgroup differences)
    #[serde(default)]
    pub subgroup_by: Option<String>,
    /// the levels of `subgroup_by` to show, in order (default: every level among the studies)
    #[serde(default)]
    pub subgroup_levels: Option<Vec<String>>,
    /// further single subgroups: `column:value`, or a yes/no column (the studies where it is yes)
    #[serde(default)]
    pub subgroups: Vec<String>,
    #[serde(default)]
    pub pool_available: bool,
    /// sensitivity analyses: leave each study out in turn
    #[serde(default)]
    pub leave_one_out: bool,
    /// cumulative meta-analysis ordered by this studies column (e.g. "year")
    pub cumulative_by: Option<String>,
    /// refit without the studies at high overall risk of bias (needs [rob])
    #[serde(default)]
    pub exclude_high_rob: bool,
    /// small-study effects: Egger's test (k >= 10) and trim-and-fill
    #[serde(default)]
    pub small_study: bool,
    /// one-moderator meta-regressions on these numeric or yes/no covariates
    #[serde(default)]
    pub metaregression: Vec<String>,
    /// the effect's name on the forest plot (default from the measure, e.g. "Odds Ratio")
    pub effect_label: Option<String>,
    /// the forest plot's axis labels (default "Favours <treat_label>" / "Favours <ctrl_label>")
    pub favours_left: Option<String>,
    pub favours_right: Option<String>,
} });

impl OutcomeCfg {
    pub fn study_list(&self) -> Option<&[String]> {
        match &self.studies {
            Some(StudySet::List(v)) => Some(v),
            _ => None,
        }
    }
}

/// The 1-based line of `field` (`table.key`, or `table.sub.key`) in a config's text: within
/// the `[[outcomes]]` entry with `id = outcome` when given, else within the table's section,
/// else anywhere.
fn key_line(text: &str, field: &str, outcome: Option<&str>) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let key = field.rsplit('.').next().unwrap_or(field);
    let is_key = |l: &str| {
        l.trim_start()
            .strip_prefix(key)
            .is_some_and(|r| r.trim_start().starts_with('='))
    };
    let is_header = |l: &str| l.trim_start().starts_with('[');
    let block = |start: usize| -> Option<usize> {
        (start..lines.len())
            .take_while(|&i| i == start || !is_header(lines[i]))
            .find(|&i| is_key(lines[i]))
            .map(|i| i + 1)
    };
    if let Some(id) = outcome {
        let at = lines
            .iter()
            .position(|l| l.trim_start().starts_with("id") && l.contains(&format!("\"{id}\"")))?;
        let start = (0..=at).rev().find(|&i| is_header(lines[i])).unwrap_or(0);
        return block(start);
    }
    let table = field.rsplit_once('.').map(|(t, _)| t).unwrap_or("");
    let header = lines.iter().position(|l| {
        let h = l.trim().trim_start_matches('[').trim_end_matches(']');
        l.trim_start().starts_with('[') && h == table
    });
    header
        .and_then(block)
        .or_else(|| lines.iter().position(|l| is_key(l)).map(|i| i + 1))
}

/// The column names of a CSV sheet's header (trimmed).
fn sheet_header(path: &Path) -> Result<Vec<String>, Error> {
    metapipe_tables::sheet::Sheet::header(path)
}

/// PRISMA 2020 stages, in the order of the flow diagram.
pub(crate) const PRISMA_STAGES: [&str; 7] = [
    "records_identified",
    "duplicates_removed",
    "records_screened",
    "excluded_title_abstract",
    "full_text_assessed",
    "excluded_full_text",
    "studies_included",
];

/// What is wrong with typed `[prisma]` counts, if anything: (stage key, message). Checked when
/// the config is loaded (the error names the config file and line): known stages only, no
/// negative count, and conservation where the counts allow (identified - duplicates = screened,
/// screened - excluded = assessed, assessed - excluded = included).
pub(crate) fn prisma_problem(
    counts: &std::collections::BTreeMap<String, i64>,
) -> Option<(String, String)> {
    for (k, v) in counts {
        if !PRISMA_STAGES.contains(&k.as_str()) {
            return Some((
                k.clone(),
                format!("unknown stage; expected one of {PRISMA_STAGES:?}"),
            ));
        }
        if *v < 0 {
            return Some((k.clone(), format!("{v} is negative")));
        }
    }
    let g = |k: &str| counts.get(k).copied();
    for (a, b, c) in [
        (
            "records_identified",
            "duplicates_removed",
            "records_screened",
        ),
        (
            "records_screened",
            "excluded_title_abstract",
            "full_text_assessed",
        ),
        (
            "full_text_assessed",
            "excluded_full_text",
            "studies_included",
        ),
    ] {
        if let (Some(x), Some(y), Some(z)) = (g(a), g(b), g(c)) {
            if x - y != z {
                return Some((
                    c.to_string(),
                    format!("{a} {x} - {b} {y} = {}, not {z}", x - y),
                ));
            }
        }
    }
    None
}

/// `base.join(p)` with `x/..` folded, so that messages name `data/x.csv`, not `pipelines/../data/x.csv`.
fn resolve(base: &Path, p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in base.join(p).components() {
        match c {
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

impl Config {
    /// Load and check a config; paths inside are relative to the config file's directory.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut cfg: Config = toml::from_str(&text).map_err(|e| {
            let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1);
            let mut err = Error::data(e.message().to_string()).file(path);
            if let Some(l) = line {
                err = err.line(l);
            }
            err
        })?;
        let bad_in = |outcome: Option<&str>, field: &str, msg: String| {
            let mut e = Error::data(msg).file(path).field(field);
            if let Some(l) = key_line(&text, field, outcome) {
                e = e.line(l);
            }
            Err(e)
        };
        let bad = |field: &str, msg: String| bad_in(None, field, msg);
        if let Some((key, msg)) = cfg.prisma.as_ref().and_then(prisma_problem) {
            return bad(&format!("prisma.{key}"), msg);
        }
        let base = path.parent().unwrap_or(Path::new(""));
        for (field, f) in cfg.files() {
            *f = resolve(base, f);
            if !f.is_file() {
                return bad(field, format!("file not found: {}", f.display()));
            }
        }
        let mut dbs = std::collections::BTreeSet::new();
        for s in &cfg.sources {
            if !dbs.insert((&s.database, &s.searched)) {
                return bad(
                    "sources.database",
                    format!("{} listed twice for the same search date", s.database),
                );
            }
        }
        if !cfg.sources.is_empty() && cfg.screening.is_none() {
            return bad("screening", "search exports are given ([[sources]]) but no screening logs ([screening]); give both, or type the PRISMA counts in [prisma]".into());
        }
        if cfg.review.name.is_empty() || cfg.review.name.contains('/') {
            return bad("review.name", "must be a plain name".into());
        }
        if let Err(m) = cfg.dedup.thresholds.checked() {
            return bad("dedup.thresholds", m);
        }
        for (k, v) in &cfg.extraction.covariates {
            if v.as_str()
                .and_then(metapipe_extract::CovKind::parse)
                .is_none()
            {
                return bad(
                    &format!("extraction.covariates.{k}"),
                    format!("{v}: expected \"text\", \"number\" or \"yes/no\""),
                );
            }
        }
        let mut ids = std::collections::BTreeSet::new();
        for o in &cfg.outcomes {
            if !ids.insert(&o.id) {
                return bad("outcomes.id", format!("{} listed twice", o.id));
            }
            if let Some(StudySet::Word(w)) = &o.studies {
                if w != "all" && w != "unstated" {
                    return bad(
                        "outcomes.studies",
                        format!("{w:?}: expected a list of study ids, \"all\" or \"unstated\""),
                    );
                }
            }
            if let Err((key, msg)) =
                metapipe_plan::options::outcome_spec(&o.analysis(&cfg.analysis))
            {
                // the key where it was set: the outcome's own, or [analysis]'s default
                let section = if o.analysis(&AnalysisCfg::default()).sets(key) {
                    "outcomes"
                } else {
                    "analysis"
                };
                return bad_in(
                    (section == "outcomes").then_some(o.id.as_str()),
                    &format!("{section}.{key}"),
                    format!("outcome {}: {msg}", o.id),
                );
            }
        }
        // the columns the outcomes name, against the studies table the extraction will make
        let header = sheet_header(&cfg.extraction.studies)?;
        for (k, _) in &cfg.extraction.covariates {
            if !header.iter().any(|h| h == k) {
                return bad(
                    &format!("extraction.covariates.{k}"),
                    format!(
                        "declared, but the studies sheet {} has no column {k:?}",
                        cfg.extraction.studies.display()
                    ),
                );
            }
        }
        for o in &cfg.outcomes {
            if let Err((key, msg)) = cfg.check_columns(o, &header) {
                return bad_in(
                    Some(&o.id),
                    &format!("outcomes.{key}"),
                    format!("outcome {}: {msg}", o.id),
                );
            }
        }
        Ok(cfg)
    }

    /// What is wrong with the studies columns an outcome names (subgroups, cumulative order,
    /// meta-regression, RoB), if anything: (key, message with the fix). `header`: the studies
    /// sheet's columns.
    fn check_columns(
        &self,
        o: &OutcomeCfg,
        header: &[String],
    ) -> std::result::Result<(), (&'static str, String)> {
        use metapipe_extract::CovKind;
        let kind = |c: &str| self.covariate_kind(c);
        let fixed = |c: &str| {
            metapipe_tables::schema::STUDIES
                .fields
                .iter()
                .any(|f| f.name == c)
                || (c == "rob_overall" && self.rob.is_some())
        };
        let column = |key: &'static str,
                      c: &str|
         -> std::result::Result<(), (&'static str, String)> {
            if fixed(c) || kind(c).is_some() {
                return Ok(());
            }
            let studies = self.extraction.studies.display();
            Err((
                key,
                if header.iter().any(|h| h == c) {
                    format!("{c:?} is a column of {studies} but not declared: add {c} = \"text\" (or \"number\", \"yes/no\") to [extraction.covariates]")
                } else {
                    let declared: Vec<&String> = self.extraction.covariates.keys().collect();
                    format!("{c:?} is not a column of the studies table (declared covariates: {declared:?}; {studies} has {header:?})")
                },
            ))
        };
        if let Some(c) = &o.subgroup_by {
            column("subgroup_by", c)?;
        }
        for sg in &o.subgroups {
            match sg.split_once(':') {
                Some((c, _)) => column("subgroups", c)?,
                None if kind(sg) == Some(CovKind::YesNo) => {}
                None => {
                    return Err((
                        "subgroups",
                        format!("{sg:?}: expected column:value or the name of a yes/no covariate"),
                    ))
                }
            }
        }
        if let Some(c) = &o.cumulative_by {
            column("cumulative_by", c)?;
        }
        for c in &o.metaregression {
            column("metaregression", c)?;
            let numeric_fixed = metapipe_tables::schema::STUDIES
                .fields
                .iter()
                .any(|f| f.name == c && f.ty != metapipe_tables::ColType::Str);
            if !numeric_fixed && !matches!(kind(c), Some(CovKind::Number | CovKind::YesNo)) {
                return Err(("metaregression", format!("{c:?} is text; a meta-regression needs a number or yes/no covariate (use subgroup_by for text)")));
            }
        }
        if o.exclude_high_rob && self.rob.is_none() {
            return Err(("exclude_high_rob", "needs the RoB 2 answers ([rob])".into()));
        }
        Ok(())
    }

    /// Every input file the config names, with its key (mutable: `load` resolves each against
    /// the config's directory).
    fn files(&mut self) -> Vec<(&'static str, &mut PathBuf)> {
        let mut files: Vec<(&str, &mut PathBuf)> = self
            .sources
            .iter_mut()
            .map(|s| ("sources.file", &mut s.file))
            .collect();
        files.extend(
            self.dedup
                .decisions
                .iter_mut()
                .map(|p| ("dedup.decisions", p)),
        );
        if let Some(s) = &mut self.screening {
            files.extend([
                ("screening.title_abstract", &mut s.title_abstract),
                ("screening.full_text", &mut s.full_text),
            ]);
        }
        files.extend([
            ("extraction.studies", &mut self.extraction.studies),
            ("extraction.outcomes", &mut self.extraction.outcomes),
        ]);
        files.extend(
            self.extraction
                .arms
                .iter_mut()
                .map(|p| ("extraction.arms", p)),
        );
        files.extend(self.rob.iter_mut().map(|r| ("rob.answers", &mut r.answers)));
        files.extend(
            self.review
                .published
                .iter_mut()
                .map(|p| ("review.published", p)),
        );
        files
    }

    /// The search round of a source: the rank of its search date among the config's dates
    /// (1 = the first search; a source without a date belongs to the first round).
    pub fn round_of(&self, s: &SourceCfg) -> usize {
        let dates: std::collections::BTreeSet<&str> = self
            .sources
            .iter()
            .filter_map(|x| x.searched.as_deref())
            .collect();
        s.searched
            .as_deref()
            .and_then(|d| dates.iter().position(|x| *x == d))
            .map(|p| p + 1)
            .unwrap_or(1)
    }

    /// An outcome's checked analysis (its keys over `[analysis]`'s); `load` has checked every
    /// outcome, so an error here names the outcome and key all the same.
    pub fn spec(&self, o: &OutcomeCfg) -> Result<metapipe_plan::Spec, Error> {
        metapipe_plan::options::outcome_spec(&o.analysis(&self.analysis)).map_err(|(k, m)| {
            Error::data(format!("outcome {}: {m}", o.id)).field(format!("outcomes.{k}"))
        })
    }

    /// The declared covariates, in the config's order.
    /// The kind of the declared covariate `name`, if it is one.
    pub fn covariate_kind(&self, name: &str) -> Option<metapipe_extract::CovKind> {
        let v = self.extraction.covariates.get(name)?;
        Some(
            v.as_str()
                .and_then(metapipe_extract::CovKind::parse)
                .unwrap_or(metapipe_extract::CovKind::Text),
        )
    }

    pub fn covariates(&self) -> Vec<metapipe_extract::Covariate> {
        self.extraction
            .covariates
            .keys()
            .map(|k| metapipe_extract::Covariate {
                name: k.clone(),
                kind: self
                    .covariate_kind(k)
                    .unwrap_or(metapipe_extract::CovKind::Text),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
