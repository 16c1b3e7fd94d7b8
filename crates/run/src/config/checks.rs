//! The checks `Config::load` runs before any stage, each error at its key's line.

use super::*;
use std::path::Component;

/// A config error before its line is found: the `[[outcomes]]` entry (by id) or the n-th entry
/// of another array of tables it is in, the key path, the message.
pub(crate) struct Bad {
    outcome: Option<String>,
    nth: Option<usize>,
    field: String,
    msg: String,
}

impl Bad {
    /// The error at the key's line of the config file.
    pub(crate) fn error(self, path: &Path, text: &str) -> Error {
        let mut e = Error::data(self.msg).file(path).field(&self.field);
        let line = match self.nth {
            Some(n) => nth_key_line(text, &self.field, n),
            None => key_line(text, &self.field, self.outcome.as_deref()),
        };
        if let Some(l) = line {
            e = e.line(l);
        }
        e
    }
}

fn bad<T>(field: &str, msg: String) -> Result<T, Bad> {
    bad_in(None, field, msg)
}

fn bad_in<T>(outcome: Option<&str>, field: &str, msg: String) -> Result<T, Bad> {
    Err(Bad {
        outcome: outcome.map(String::from),
        nth: None,
        field: field.to_string(),
        msg,
    })
}

/// An error in the `n`-th (0-based) entry of an array of tables (`[[consistency]]`).
fn bad_nth<T>(n: usize, field: &str, msg: String) -> Result<T, Bad> {
    Bad::nth(n, field, msg)
}

impl Bad {
    /// An error in the `n`-th (0-based) entry of an array of tables, at `table.key`.
    pub(super) fn nth<T>(n: usize, field: &str, msg: String) -> Result<T, Bad> {
        Err(Bad {
            outcome: None,
            nth: Some(n),
            field: field.to_string(),
            msg,
        })
    }
}

impl Config {
    /// The screening logs' formats checked; whether each log is a directory (Covidence).
    fn screening_formats(&self) -> Result<(bool, bool), Bad> {
        use metapipe_ingest::screening::TaFormat;
        let Some(s) = &self.screening else {
            return Ok((false, false));
        };
        if let Some(f) = s.title_abstract_format.as_deref() {
            if TaFormat::parse(f).is_none() {
                return bad(
                    "screening.title_abstract_format",
                    format!(
                        "{f:?}: expected \"metapipe\", \"rayyan\", \"asreview\" or \"covidence\""
                    ),
                );
            }
        }
        if let Some(f) = s.full_text_format.as_deref() {
            if !matches!(
                TaFormat::parse(f),
                Some(TaFormat::Metapipe | TaFormat::Covidence)
            ) {
                return bad(
                    "screening.full_text_format",
                    format!("{f:?}: expected \"metapipe\" or \"covidence\""),
                );
            }
        }
        Ok((
            s.ta_format() == TaFormat::Covidence,
            s.ft_format() == TaFormat::Covidence,
        ))
    }

    /// Every check but the studies sheet's columns, in order; resolves the input paths against
    /// `base` (the config's directory).
    pub(crate) fn check(&mut self, base: &Path) -> Result<(), Bad> {
        if let Some((key, msg)) = self.prisma.as_ref().and_then(prisma_problem) {
            return bad(&format!("prisma.{key}"), msg);
        }
        let dirs = self.screening_formats()?;
        for (field, f) in self.files() {
            *f = resolve(base, f);
            let dir = match field {
                "screening.title_abstract" => dirs.0,
                "screening.full_text" => dirs.1,
                _ => false,
            };
            if dir {
                if !f.is_dir() {
                    let m = "directory not found (Covidence's exports: one CSV per stage)";
                    return bad(field, format!("{m}: {}", f.display()));
                }
                continue;
            }
            // a workbook's worksheet is named after a `#` (book.xlsx#Sheet)
            if !metapipe_tables::sheet::split_workbook(f).0.is_file() {
                return bad(field, format!("file not found: {}", f.display()));
            }
        }
        let mut dbs = std::collections::BTreeSet::new();
        for s in &self.sources {
            if !dbs.insert((&s.database, &s.searched)) {
                return bad(
                    "sources.database",
                    format!("{} listed twice for the same search date", s.database),
                );
            }
        }
        if !self.sources.is_empty() && self.screening.is_none() {
            return bad("screening", "search exports are given ([[sources]]) but no screening logs ([screening]); give both, or type the PRISMA counts in [prisma]".into());
        }
        if self.review.name.is_empty() || self.review.name.contains('/') {
            return bad("review.name", "must be a plain name".into());
        }
        if let Err(m) = self.dedup.thresholds.checked() {
            return bad("dedup.thresholds", m);
        }
        self.check_extraction()?;
        self.check_outcomes()?;
        self.check_grade()?;
        self.check_consistency()
    }

    /// `[extraction]`'s keys beyond its paths: covariate kinds, conversion methods, the ICC,
    /// the two extractors' sheets.
    fn check_extraction(&self) -> Result<(), Bad> {
        for (k, v) in &self.extraction.covariates {
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
        if let Some(m) = &self.extraction.mean_from_median {
            if metapipe_meta::conversions::MeanMethod::parse(m).is_none() {
                let names = metapipe_meta::conversions::MeanMethod::NAMES;
                return bad(
                    "extraction.mean_from_median",
                    format!("{m:?}: expected {names}"),
                );
            }
        }
        if let Some(m) = &self.extraction.sd_from_median {
            if metapipe_meta::conversions::SdMethod::parse(m).is_none() {
                let names = metapipe_meta::conversions::SdMethod::NAMES;
                return bad(
                    "extraction.sd_from_median",
                    format!("{m:?}: expected {names}"),
                );
            }
        }
        for (key, sheets) in [
            (
                "extraction.studies_extractors",
                &self.extraction.studies_extractors,
            ),
            (
                "extraction.outcomes_extractors",
                &self.extraction.outcomes_extractors,
            ),
        ] {
            if let Some(x) = sheets.as_ref().filter(|x| x.len() != 2) {
                return bad(
                    key,
                    format!(
                        "{} sheets: expected the two extractors' [\"A.csv\", \"B.csv\"]",
                        x.len()
                    ),
                );
            }
        }
        match (self.extraction.icc, &self.extraction.icc_source) {
            (Some(i), _) if !(0.0..=1.0).contains(&i) => {
                return bad("extraction.icc", format!("{i}: an ICC is within 0 to 1"))
            }
            (Some(_), None) => {
                return bad(
                    "extraction.icc",
                    "needs icc_source: where the value comes from (a study, a database of ICCs)"
                        .into(),
                )
            }
            (None, Some(_)) => return bad("extraction.icc_source", "without icc".into()),
            _ => {}
        }
        Ok(())
    }

    /// Each `[[consistency]]` check: a known outcome, and an m-of-n reading that exists.
    fn check_consistency(&self) -> Result<(), Bad> {
        for (n, c) in self.consistency.iter().enumerate() {
            if !self.outcomes.iter().any(|o| o.id == c.outcome) {
                let msg = format!("{:?} is not an outcome of this review", c.outcome);
                return bad_nth(n, "consistency.outcome", msg);
            }
            if let Some(m) = c.choose.filter(|&m| m == 0 || m > c.studies.len()) {
                let msg = format!(
                    "choose = {m}: expected 1 to {} (the studies listed)",
                    c.studies.len()
                );
                return bad_nth(n, "consistency.choose", msg);
            }
        }
        Ok(())
    }

    /// Each outcome: a unique id, a known study set, valid analysis options.
    fn check_outcomes(&self) -> Result<(), Bad> {
        let mut ids = std::collections::BTreeSet::new();
        for o in &self.outcomes {
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
            let spec = metapipe_plan::options::outcome_spec(&o.analysis(&self.analysis));
            if let (Some(t), Ok(spec)) = (&o.small_study_test, &spec) {
                small_study_test(t, spec.measure).or_else(|msg| {
                    let msg = format!("outcome {}: {msg}", o.id);
                    bad_in(Some(&o.id), "outcomes.small_study_test", msg)
                })?;
            }
            if let Err((key, msg)) = spec {
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
        Ok(())
    }

    /// The declared covariates and the columns the outcomes name, against the studies sheet's
    /// header.
    pub(crate) fn check_sheet(&self, header: &[String]) -> Result<(), Bad> {
        for (k, _) in &self.extraction.covariates {
            if !header.iter().any(|h| h == k) {
                return bad(
                    &format!("extraction.covariates.{k}"),
                    format!(
                        "declared, but the studies sheet {} has no column {k:?}",
                        self.extraction.studies.display()
                    ),
                );
            }
        }
        for o in &self.outcomes {
            if let Err((key, msg)) = self.check_columns(o, header) {
                return bad_in(
                    Some(&o.id),
                    &format!("outcomes.{key}"),
                    format!("outcome {}: {msg}", o.id),
                );
            }
        }
        Ok(())
    }

    /// `subgroup_tau2`: separate or common; common needs `subgroup_by` and a random-effects
    /// model fitted by `rma.uni` (not RevMan 5's).
    fn check_subgroup_tau2(
        &self,
        o: &OutcomeCfg,
    ) -> std::result::Result<(), (&'static str, String)> {
        let bad = |m: String| Err(("subgroup_tau2", m));
        match o.subgroup_tau2.as_deref() {
            None | Some("separate") => Ok(()),
            Some("common") if o.subgroup_by.is_none() => {
                bad("\"common\" needs subgroup_by (the subgroups that share tau2)".into())
            }
            Some("common") => match self.spec(o) {
                Ok(s) if s.choice == metapipe_plan::Choice::Fixed => {
                    bad("\"common\" needs a random-effects model (model = \"random\", \"both\" or \"rule\")".into())
                }
                Ok(s) if s.revman() => bad(
                    "\"common\" is not RevMan 5's: use convention = \"cochrane\" or \"metafor\"".into(),
                ),
                _ => Ok(()),
            },
            Some(x) => bad(format!("{x:?}: expected \"separate\" or \"common\"")),
        }
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
        self.check_subgroup_tau2(o)?;
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
        // each entry a model: covariates joined by + (text covariates enter as factors)
        for model in &o.metaregression {
            for c in metapipe_plan::model_terms(model).map_err(|e| ("metaregression", e))? {
                column("metaregression", c)?;
            }
        }
        if o.exclude_high_rob && self.rob.is_none() {
            return Err(("exclude_high_rob", "needs the RoB 2 answers ([rob])".into()));
        }
        Ok(())
    }
}

/// The 1-based line of `field` (`table.key`, or `table.sub.key`) in a config's text: within
/// the `[[outcomes]]` entry with `id = outcome` when given, else within the table's section,
/// else anywhere.
pub(super) fn key_line(text: &str, field: &str, outcome: Option<&str>) -> Option<usize> {
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

/// The 1-based line of `field` (`table.key`) in the `n`-th (0-based) `[[table]]` entry.
pub(super) fn nth_key_line(text: &str, field: &str, n: usize) -> Option<usize> {
    let (table, key) = field.rsplit_once('.')?;
    let lines: Vec<&str> = text.lines().collect();
    let header = format!("[[{table}]]");
    let start = (0..lines.len())
        .filter(|&i| lines[i].trim() == header)
        .nth(n)?;
    (start + 1..lines.len())
        .take_while(|&i| !lines[i].trim_start().starts_with('['))
        .find(|&i| {
            lines[i]
                .trim_start()
                .strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

pub(crate) use metapipe_tables::schema::PRISMA_FLOW_STAGES as PRISMA_STAGES;

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
pub(super) fn resolve(base: &Path, p: &Path) -> PathBuf {
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

/// A `small_study_test` the outcome's measure allows.
pub(super) fn small_study_test(t: &str, measure: metapipe_meta::Measure) -> Result<(), String> {
    use metapipe_meta::Measure;
    use metapipe_plan::SmallStudyTest;
    match SmallStudyTest::parse(t) {
        None => Err(format!("{t:?}: expected {}", SmallStudyTest::NAMES)),
        Some(SmallStudyTest::Harbord) if measure != Measure::OR => Err(format!(
            "Harbord's test is for odds ratios (measure = \"OR\"), not {}",
            measure.name()
        )),
        Some(SmallStudyTest::Peters) if measure == Measure::GEN => {
            Err("the 1/n test needs the arms' sizes (not a generic outcome)".into())
        }
        Some(_) => Ok(()),
    }
}
