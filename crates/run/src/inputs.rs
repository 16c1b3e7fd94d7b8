//! Every input file of a review, read once by the shell (search exports only when their round
//! is parsed): the stages never touch the filesystem.

use crate::config::Config;
use metapipe_extract::dual::SheetKind;
use metapipe_tables::io::Input;
use metapipe_tables::{Error, Result};
use std::path::{Path, PathBuf};

/// A search export, read when its round is parsed: a round that is not rerun is not read (its
/// hash comes from the run record while the file's size and modification time are unchanged).
pub(crate) struct SourceFile {
    pub(crate) database: String,
    pub(crate) path: PathBuf,
    pub(crate) round: usize,
    pub(crate) input: std::cell::OnceCell<Input>,
}

impl SourceFile {
    pub(crate) fn input(&self) -> Result<&Input> {
        if let Some(i) = self.input.get() {
            return Ok(i);
        }
        let i = Input::read(&self.path)?;
        Ok(self.input.get_or_init(|| i))
    }
}

/// Every input file of a review, read by the shell (search exports when their round is parsed):
/// the stages never touch the filesystem.
pub(crate) struct Inputs {
    pub(crate) sources: Vec<SourceFile>,
    pub(crate) dedup_decisions: Option<Input>,
    /// title/abstract and full-text logs
    pub(crate) screening: Option<(Input, Input)>,
    pub(crate) studies: Input,
    pub(crate) arms: Option<Input>,
    pub(crate) outcomes: Input,
    /// dual extraction: per sheet (studies, outcomes) extractor A's and B's
    pub(crate) extractors: Vec<(SheetKind, Input, Input)>,
    pub(crate) rob: Option<Input>,
    pub(crate) published: Option<Input>,
}

impl Inputs {
    pub(crate) fn read(cfg: &Config) -> Result<Inputs> {
        let opt = |p: Option<&Path>| p.map(Input::read).transpose();
        Ok(Inputs {
            sources: cfg
                .sources
                .iter()
                .map(|s| SourceFile {
                    database: s.database.clone(),
                    path: s.file.clone(),
                    round: cfg.round_of(s),
                    input: Default::default(),
                })
                .collect(),
            dedup_decisions: opt(cfg.dedup.decisions.as_deref())?,
            screening: cfg.screening.as_ref().map(|s| s.read_logs()).transpose()?,
            studies: Input::read(&cfg.extraction.studies)?,
            arms: opt(cfg.extraction.arms.as_deref())?,
            outcomes: Input::read(&cfg.extraction.outcomes)?,
            extractors: [
                (SheetKind::Studies, &cfg.extraction.studies_extractors),
                (SheetKind::Outcomes, &cfg.extraction.outcomes_extractors),
            ]
            .into_iter()
            .filter_map(|(kind, sheets)| match sheets.as_deref() {
                Some([a, b]) => Some((kind, a, b)),
                _ => None,
            })
            .map(|(kind, a, b)| Ok::<_, Error>((kind, Input::read(a)?, Input::read(b)?)))
            .collect::<Result<_>>()?,
            rob: opt(cfg.rob.as_ref().map(|r| r.answers.as_path()))?,
            published: opt(cfg.review.published.as_deref())?,
        })
    }
}
