//! The PRISMA 2020 checklist (`prisma_checklist.csv`; Page et al. 2021, BMJ 372:n71): every
//! item, those the run can answer itself filled from the config and the stage tables and
//! located (the output or config key that holds the answer), the rest left for the review team
//! with status `for the team`. Nothing is claimed that the run did not do.

use crate::cells::{fl, it, s};
use metapipe_tables::schema::PRISMA_CHECKLIST;
use metapipe_tables::{s as cs, so, Builder, Result, Table};

/// What the checklist reads of the config and the run beyond the stage tables.
pub struct ChecklistInput<'a> {
    pub title: &'a str,
    /// `[[sources]]`: database and search date
    pub sources: Vec<(String, Option<String>)>,
    pub protocol: Option<&'a str>,
    /// per outcome: label, measure, model as run
    pub outcomes: Vec<(String, String)>,
    pub covariates: Vec<String>,
    pub dual_extraction: bool,
    pub grade: bool,
    pub small_study: bool,
    pub sensitivity: bool,
    pub subgroups: bool,
    pub prisma: Option<&'a Table>,
    pub agreement: Option<&'a Table>,
    pub rob: bool,
    pub version: &'a str,
}

/// PRISMA 2020's items: (section, item, topic).
const ITEMS: &[(&str, &str, &str)] = &[
    ("Title", "1", "Identify the report as a systematic review"),
    ("Abstract", "2", "Abstract (PRISMA 2020 for Abstracts)"),
    ("Introduction", "3", "Rationale"),
    ("Introduction", "4", "Objectives"),
    ("Methods", "5", "Eligibility criteria"),
    ("Methods", "6", "Information sources"),
    ("Methods", "7", "Search strategy"),
    ("Methods", "8", "Selection process"),
    ("Methods", "9", "Data collection process"),
    ("Methods", "10a", "Data items: outcomes"),
    ("Methods", "10b", "Data items: other variables"),
    ("Methods", "11", "Study risk of bias assessment"),
    ("Methods", "12", "Effect measures"),
    (
        "Methods",
        "13a",
        "Synthesis methods: eligibility for each synthesis",
    ),
    ("Methods", "13b", "Synthesis methods: data preparation"),
    (
        "Methods",
        "13c",
        "Synthesis methods: tabulation and display",
    ),
    ("Methods", "13d", "Synthesis methods: methods and software"),
    (
        "Methods",
        "13e",
        "Synthesis methods: causes of heterogeneity",
    ),
    ("Methods", "13f", "Synthesis methods: sensitivity analyses"),
    ("Methods", "14", "Reporting bias assessment"),
    ("Methods", "15", "Certainty assessment"),
    ("Results", "16a", "Study selection: flow"),
    ("Results", "16b", "Study selection: excluded studies"),
    ("Results", "17", "Study characteristics"),
    ("Results", "18", "Risk of bias in studies"),
    ("Results", "19", "Results of individual studies"),
    (
        "Results",
        "20a",
        "Results of syntheses: characteristics and risk of bias",
    ),
    (
        "Results",
        "20b",
        "Results of syntheses: statistical syntheses",
    ),
    ("Results", "20c", "Results of syntheses: heterogeneity"),
    (
        "Results",
        "20d",
        "Results of syntheses: sensitivity analyses",
    ),
    ("Results", "21", "Reporting biases"),
    ("Results", "22", "Certainty of evidence"),
    (
        "Discussion",
        "23a",
        "Interpretation in the context of other evidence",
    ),
    ("Discussion", "23b", "Limitations of the evidence"),
    ("Discussion", "23c", "Limitations of the review processes"),
    ("Discussion", "23d", "Implications"),
    ("Other information", "24a", "Registration"),
    ("Other information", "24b", "Protocol"),
    ("Other information", "24c", "Amendments to the protocol"),
    ("Other information", "25", "Support"),
    ("Other information", "26", "Competing interests"),
    (
        "Other information",
        "27",
        "Availability of data, code and other materials",
    ),
];

/// The checklist: (answer, location) where the run has one, else left for the team.
pub fn checklist(c: &ChecklistInput) -> Result<Table> {
    let mut b = Builder::new(&PRISMA_CHECKLIST);
    for (section, item, topic) in ITEMS {
        let (status, answer, location) = match answer(c, item) {
            Some((a, l)) => ("filled", Some(a), Some(l.to_string())),
            None => ("for the team", None, None),
        };
        b.row(vec![
            cs(*section),
            cs(*item),
            cs(*topic),
            cs(status),
            so(answer),
            so(location),
        ]);
    }
    b.finish()
}

fn answer(c: &ChecklistInput, item: &str) -> Option<(String, &'static str)> {
    let list = |v: &[String]| v.join("; ");
    Some(match item {
        "1" => (c.title.to_string(), "[review] title"),
        "6" if !c.sources.is_empty() => {
            let v: Vec<String> = c
                .sources
                .iter()
                .map(|(db, d)| match d {
                    Some(d) => format!("{db} (searched {d})"),
                    None => format!("{db} (search date not given)"),
                })
                .collect();
            (list(&v), "[[sources]]")
        }
        "8" => (selection(c)?, "screening_agreement.csv"),
        "9" if c.dual_extraction => (
            "Two extractors' sheets compared cell by cell; the analyses use the consensus sheet".into(),
            "extraction_conflicts.csv, extraction_agreement.csv",
        ),
        "10a" => {
            let v: Vec<String> = c.outcomes.iter().map(|o| o.0.clone()).collect();
            (list(&v), "[[outcomes]], outcomes.csv")
        }
        "10b" if !c.covariates.is_empty() => {
            (list(&c.covariates), "[extraction.covariates]")
        }
        "11" if c.rob => (
            "RoB 2, domain and overall judgments from the signalling questions by the guidance's algorithms".into(),
            "rob_judgments.csv",
        ),
        "12" => {
            let v: Vec<String> = c.outcomes.iter().map(|o| format!("{}: {}", o.0, o.1)).collect();
            (list(&v), "results.csv (measure)")
        }
        "13c" => (
            "Forest plots per outcome (RevMan's layout); results tables".into(),
            "report/index.html, report/review.docx",
        ),
        "13d" => (
            format!("Models per outcome as in results.csv (model); computed by metapipe {}", c.version),
            "results.csv (model), [[outcomes]]",
        ),
        "13e" if c.subgroups => (
            "Subgroup analyses and meta-regression as the config names them".into(),
            "results.csv (subgroup rows), sensitivity.csv",
        ),
        "13f" if c.sensitivity => ("Sensitivity analyses as the config names them".into(), "sensitivity.csv"),
        "14" if c.small_study => (
            "Tests for funnel-plot asymmetry (k ≥ 10) and trim-and-fill".into(),
            "sensitivity.csv",
        ),
        "15" if c.grade => ("GRADE, per outcome ([[grade]])".into(), "sof.csv"),
        "16a" => (flow(c.prisma?)?, "prisma.csv, report/prisma.svg"),
        "17" => ("Characteristics of included studies".into(), "report/review.docx, studies.parquet"),
        "18" if c.rob => ("RoB 2 judgments per study".into(), "rob_judgments.csv, report/rob_*.svg"),
        "19" => ("Per-study effects with CIs".into(), "per_study_effects.csv, forest plots"),
        "20b" => ("Pooled estimates with CIs and heterogeneity".into(), "results.csv"),
        "20c" if c.subgroups => ("Subgroup and meta-regression results".into(), "results.csv, sensitivity.csv"),
        "20d" if c.sensitivity => ("Sensitivity analysis results".into(), "sensitivity.csv"),
        "21" if c.small_study => ("Small-study tests and trim-and-fill".into(), "sensitivity.csv"),
        "22" if c.grade => ("Certainty per outcome (GRADE)".into(), "sof.csv"),
        // the config's `protocol` holds a registration (PROSPERO) or a protocol's citation
        "24a" | "24b" => (c.protocol?.to_string(), "[review] protocol"),
        "27" => (
            format!("The review's config and inputs (pipelines/, data/) rerun by metapipe {}", c.version),
            "the config file",
        ),
        _ => return None,
    })
}

/// Item 8: how many screened and how agreement went, per stage.
fn selection(c: &ChecklistInput) -> Option<String> {
    let a = c.agreement?;
    let v: Vec<String> = (0..a.num_rows())
        .map(|r| {
            let stage = s(a, "stage", r).unwrap_or_default().replace('_', "/");
            let n = it(a, "records", r).unwrap_or(0);
            match fl(a, "kappa", r) {
                Some(k) => format!("{stage}: {n} records, two reviewers, Cohen's κ = {k:.2}"),
                None => format!("{stage}: {n} records, one decision each recorded"),
            }
        })
        .collect();
    (!v.is_empty()).then(|| v.join("; "))
}

/// Item 16a: the flow's main counts.
fn flow(p: &Table) -> Option<String> {
    let v: Vec<String> = (0..p.num_rows())
        .filter(|&r| s(p, "database", r).is_none())
        .map(|r| {
            format!(
                "{} {}",
                s(p, "stage", r).unwrap_or_default().replace('_', " "),
                it(p, "count", r).unwrap_or(0)
            )
        })
        .collect();
    (!v.is_empty()).then(|| v.join("; "))
}
