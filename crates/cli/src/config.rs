//! The pipeline config (`pipelines/<name>.toml`): the review protocol as data.

use metapipe_tables::Error;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub review: Review,
    pub sources: Vec<SourceCfg>,
    #[serde(default)]
    pub dedup: DedupCfg,
    pub screening: ScreeningCfg,
    pub extraction: ExtractionCfg,
    pub rob: RobCfg,
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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceCfg {
    pub database: String,
    pub file: PathBuf,
    /// search date (documentation of the protocol)
    #[serde(default)]
    #[allow(dead_code)]
    pub searched: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DedupCfg {
    #[serde(default)]
    pub decisions: Option<PathBuf>,
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
    pub arms: PathBuf,
    pub outcomes: PathBuf,
    pub comparison_factor: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RobCfg {
    pub answers: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisCfg {
    pub measure: String,
    pub fixed: String,
    pub random: String,
    pub convention: String,
    pub random_if_i2_above: f64,
    pub random_if_q_p_below: f64,
    #[serde(default = "default_level")]
    pub level: f64,
}

fn default_level() -> f64 {
    0.95
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeCfg {
    pub id: String,
    pub label: String,
    #[serde(default)]
    pub timepoint: Option<String>,
    pub definition: String,
    #[serde(default)]
    pub studies: Option<Vec<String>>,
    #[serde(default)]
    pub studies_source: Option<String>,
    #[serde(default)]
    pub subgroups: Vec<String>,
    #[serde(default)]
    pub pool_available: bool,
}

impl Config {
    /// Load and check a config; paths inside are relative to the working directory.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let cfg: Config = toml::from_str(&text).map_err(|e| {
            let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1);
            let mut err = Error::data(e.message().to_string()).file(path);
            if let Some(l) = line {
                err = err.line(l);
            }
            err
        })?;
        let bad = |field: &str, msg: String| Err(Error::data(msg).file(path).field(field));
        if cfg.analysis.measure != "OR" {
            return bad("analysis.measure", format!("{:?}: the pipeline pools odds ratios (OR) only so far", cfg.analysis.measure));
        }
        if cfg.analysis.fixed != "MH" || cfg.analysis.random != "DL" || cfg.analysis.convention != "revman" {
            return bad("analysis", "the pipeline supports fixed = \"MH\", random = \"DL\", convention = \"revman\" so far; use `metapipe pool` for other models".into());
        }
        let mut files: Vec<(&str, &PathBuf)> = cfg.sources.iter().map(|s| ("sources.file", &s.file)).collect();
        files.extend([
            ("screening.title_abstract", &cfg.screening.title_abstract),
            ("screening.full_text", &cfg.screening.full_text),
            ("extraction.studies", &cfg.extraction.studies),
            ("extraction.arms", &cfg.extraction.arms),
            ("extraction.outcomes", &cfg.extraction.outcomes),
            ("rob.answers", &cfg.rob.answers),
        ]);
        if let Some(p) = &cfg.review.published {
            files.push(("review.published", p));
        }
        for (field, f) in files {
            if !f.is_file() {
                return bad(field, format!("file not found: {}", f.display()));
            }
        }
        let mut dbs = std::collections::BTreeSet::new();
        for s in &cfg.sources {
            if !dbs.insert(&s.database) {
                return bad("sources.database", format!("{} listed twice", s.database));
            }
        }
        for o in &cfg.outcomes {
            for sg in &o.subgroups {
                if !["anakinra", "canakinumab", "hyperinflammation"].contains(&sg.as_str()) && !sg.starts_with("drug:") {
                    return bad("outcomes.subgroups", format!("{sg:?}: expected a drug name, drug:<name> or hyperinflammation"));
                }
            }
        }
        if cfg.review.name.is_empty() || cfg.review.name.contains('/') {
            return bad("review.name", "must be a plain name".into());
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn load_str(text: &str) -> Result<Config, Error> {
        let p = std::env::temp_dir().join(format!("mp-cfg-{}-{:?}.toml", std::process::id(), std::thread::current().id()));
        std::fs::write(&p, text).unwrap();
        let r = Config::load(&p);
        let _ = std::fs::remove_file(&p);
        r
    }

    proptest! {
        /// Arbitrary text and mutated real configs load or fail with an error, never panic.
        #[test]
        fn config_loader_never_panics(s in "\\PC{0,300}") {
            let _ = load_str(&s);
        }

        #[test]
        fn mutated_config_never_panics(cut in 0usize..4000, junk in "[\\[\\]=\"a-z \\n]{0,20}") {
            let base = include_str!("../../../pipelines/il1-covid19.toml");
            let cut = cut.min(base.len());
            let cut = (0..=cut).rev().find(|&c| base.is_char_boundary(c)).unwrap_or(0);
            let text = format!("{}{}{}", &base[..cut], junk, &base[cut..]);
            let _ = load_str(&text);
        }
    }

    #[test]
    fn error_names_line_of_unknown_key() {
        let e = load_str("[review]\nname = \"x\"\ntitle = \"t\"\nbogus = 1\n").unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
    }
}
