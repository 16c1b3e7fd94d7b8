//! The extraction stage's tables: studies, arms, outcome data, and dual extraction's conflicts
//! and agreement.

use super::{one_of, opt, req, ColType::*, TableSchema};

/// extract: study characteristics. After these columns come the covariates the review declares
/// in its config (`[extraction.covariates]`: text, number or yes/no), in the declared order.
/// `n_treat`, `n_ctrl` are the randomized arm sizes where the sheet (or the arms) give them.
pub const STUDIES: TableSchema = TableSchema {
    extra: true,
    name: "studies",
    fields: &[
        req("study_id", Str),
        req("label", Str),
        opt("ref", Str),
        opt("design", Str),
        opt("n_treat", Int),
        opt("n_ctrl", Int),
        opt("n_source", Str),
        opt("citation", Str),
    ],
};

/// extract: arms of every study (factorial trials have more than two).
pub const ARMS: TableSchema = TableSchema {
    extra: false,
    name: "arms",
    fields: &[
        req("study_id", Str),
        req("arm", Str),
        req("group", Str),
        req("factors", Str),
        req("n", Int),
        opt("source", Str),
    ],
};

/// extract: per-study outcome data; missing cells stay missing. Which columns a row fills
/// depends on the outcome's type: binary (events and totals per arm), continuous (mean, SD and n
/// per arm) or generic (an estimate with its SE, or with its CI, on the outcome's declared scale).
pub const OUTCOME_DATA: TableSchema = TableSchema {
    extra: false,
    name: "outcome_data",
    fields: &[
        req("study_id", Str),
        req("outcome", Str),
        opt("events_treat", Int),
        opt("n_treat", Int),
        opt("events_ctrl", Int),
        opt("n_ctrl", Int),
        one_of("status", &["reported", "derived", "missing"]),
        opt("source", Str),
        opt("timepoint", Str),
        opt("evidence", Str),
        opt("mean_treat", Float),
        opt("sd_treat", Float),
        opt("mean_ctrl", Float),
        opt("sd_ctrl", Float),
        opt("estimate", Float),
        opt("se", Float),
        opt("ci_lb", Float),
        opt("ci_ub", Float),
        opt("events", Int),
        opt("n", Int),
        opt("time", Float),
        opt("time_treat", Float),
        opt("time_ctrl", Float),
        opt("r", Float),
        opt("o_minus_e", Float),
        opt("v", Float),
        opt("md", Float),
        opt("md_se", Float),
        opt("estimate_p", Float),
        opt("derivation", Str),
    ],
};

/// extract: where two extractors' sheets disagree (dual extraction): per cell the sheet
/// (`studies` or `outcomes`), the row (study; outcome and arm on the outcome sheet), the column
/// (`(row)` for a row in one sheet only), both values and both lines.
pub const EXTRACTION_CONFLICTS: TableSchema = TableSchema {
    extra: false,
    name: "extraction_conflicts",
    fields: &[
        req("sheet", Str),
        req("study_id", Str),
        opt("outcome", Str),
        opt("arm", Str),
        req("column", Str),
        opt("value_a", Str),
        opt("value_b", Str),
        opt("line_a", Int),
        opt("line_b", Int),
    ],
};

/// extract: the two extractors' agreement per sheet and column (cells either gives, in rows
/// both give).
pub const EXTRACTION_AGREEMENT: TableSchema = TableSchema {
    extra: false,
    name: "extraction_agreement",
    fields: &[
        req("sheet", Str),
        req("column", Str),
        req("cells", Int),
        req("agreeing", Int),
        req("agreement", Float),
    ],
};

/// The measures a `measure` column may name (metafor's `escalc` names; OEV: O − E and V).
pub const MEASURE_NAMES: &[&str] = &[
    "OR", "RR", "RD", "MD", "SMD", "ROM", "GEN", "PR", "PLO", "PAS", "PFT", "IR", "IRR", "IRD",
    "ZCOR", "COR", "OEV",
];
