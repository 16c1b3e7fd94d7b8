//! The pipeline config (`pipelines/<name>.toml`): the review protocol as data. Only `[review]`,
//! `[extraction]` and `[[outcomes]]` are required; every other stage is optional. Paths are
//! relative to the config file's directory. Every key is documented in `docs/config.md`.

pub use metapipe_plan::options::AnalysisCfg;
use metapipe_tables::Error;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
    /// the review team's GRADE judgments and Summary of findings options, per outcome
    #[serde(default)]
    pub grade: Vec<GradeCfg>,
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
    /// the title/abstract log's format: `metapipe` (default), `rayyan`, `asreview` or
    /// `covidence` (the tool's export — for Covidence a directory of its stage exports —
    /// matched to the search records by DOI, PMID or title)
    #[serde(default)]
    pub title_abstract_format: Option<String>,
    /// the full-text log's format: `metapipe` (default) or `covidence` (the directory of its
    /// stage exports: the included and excluded stages are the full-text decisions)
    #[serde(default)]
    pub full_text_format: Option<String>,
}

/// A screening log's format key as read (checked when the config loads); metapipe's by default.
fn log_format(key: &Option<String>) -> metapipe_ingest::screening::TaFormat {
    key.as_deref()
        .and_then(metapipe_ingest::screening::TaFormat::parse)
        .unwrap_or_default()
}

impl ScreeningCfg {
    /// The title/abstract log's format.
    pub fn ta_format(&self) -> metapipe_ingest::screening::TaFormat {
        log_format(&self.title_abstract_format)
    }

    /// The full-text log's format (metapipe or covidence).
    pub fn ft_format(&self) -> metapipe_ingest::screening::TaFormat {
        log_format(&self.full_text_format)
    }

    /// The title/abstract and full-text logs: a file, or for Covidence the directory of its
    /// stage exports.
    pub fn read_logs(
        &self,
    ) -> metapipe_tables::Result<(metapipe_tables::io::Input, metapipe_tables::io::Input)> {
        use metapipe_ingest::screening::TaFormat;
        use metapipe_tables::io::Input;
        let read = |p: &Path, f: TaFormat| match f {
            TaFormat::Covidence => Input::read_dir(p),
            _ => Input::read(p),
        };
        Ok((
            read(&self.title_abstract, self.ta_format())?,
            read(&self.full_text, self.ft_format())?,
        ))
    }
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
    /// how a mean is estimated from a reported median: luo2018 (default), wan2014, hozo2005
    #[serde(default)]
    pub mean_from_median: Option<String>,
    /// how an SD is estimated from a reported median: shi2020 (default), wan2014, hozo2005
    #[serde(default)]
    pub sd_from_median: Option<String>,
    /// the ICC of cluster-randomised trials whose rows give none, and where it comes from
    #[serde(default)]
    pub icc: Option<f64>,
    #[serde(default)]
    pub icc_source: Option<String>,
    /// dual extraction: the two extractors' own outcome sheets (`outcomes` is then the
    /// consensus the analyses run on)
    #[serde(default)]
    pub outcomes_extractors: Option<Vec<PathBuf>>,
    /// dual extraction of the studies sheet: the two extractors' own (`studies` is then the
    /// consensus)
    #[serde(default)]
    pub studies_extractors: Option<Vec<PathBuf>>,
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
    /// the test for subgroup differences with separate τ² per subgroup (default) or a common one
    pub subgroup_tau2: Option<String>,
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
    /// small-study effects: a test for funnel-plot asymmetry (k >= 10) and trim-and-fill
    #[serde(default)]
    pub small_study: bool,
    /// which test: egger (default), egger_rma, peters or harbord
    pub small_study_test: Option<String>,
    /// meta-regression models: covariates joined by + (text covariates as factors)
    #[serde(default)]
    pub metaregression: Vec<String>,
    /// the effect's name on the forest plot (default from the measure, e.g. "Odds Ratio")
    pub effect_label: Option<String>,
    /// the forest plot's axis labels (default "Favours <treat_label>" / "Favours <ctrl_label>")
    pub favours_left: Option<String>,
    pub favours_right: Option<String>,
    /// this outcome's compared groups, where they are not the review's (`treat_label`,
    /// `ctrl_label` of `[review]`): a review of several comparisons
    pub treat_label: Option<String>,
    pub ctrl_label: Option<String>,
} });

impl OutcomeCfg {
    /// The outcome's compared groups: its own, else the review's.
    pub fn groups<'a>(&'a self, review: &'a Review) -> (&'a str, &'a str) {
        (
            self.treat_label.as_deref().unwrap_or(&review.treat_label),
            self.ctrl_label.as_deref().unwrap_or(&review.ctrl_label),
        )
    }
}

impl OutcomeCfg {
    pub fn study_list(&self) -> Option<&[String]> {
        match &self.studies {
            Some(StudySet::List(v)) => Some(v),
            _ => None,
        }
    }
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
        let at = |b: checks::Bad| b.error(path, &text);
        let base = path.parent().unwrap_or(Path::new(""));
        cfg.check(base).map_err(at)?;
        // the columns the outcomes name, against the studies table the extraction will make
        let header = metapipe_tables::sheet::Sheet::header(&cfg.extraction.studies)?;
        cfg.check_sheet(&header).map_err(at)?;
        Ok(cfg)
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
        for (key, sheets) in [
            (
                "extraction.studies_extractors",
                &mut self.extraction.studies_extractors,
            ),
            (
                "extraction.outcomes_extractors",
                &mut self.extraction.outcomes_extractors,
            ),
        ] {
            files.extend(sheets.iter_mut().flatten().map(|p| (key, p)));
        }
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

mod checks;
pub(crate) use checks::{prisma_problem, PRISMA_STAGES};
mod grade;
pub use grade::{BaselineCfg, BaselineItem, GradeCfg};

#[cfg(test)]
mod tests;
