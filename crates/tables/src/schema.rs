//! The schema of every stage table, in one place. ARCHITECTURE.md lists them with the stage that
//! writes each and the stages that read it.

/// Column types (Arrow: Utf8, Int64, Float64, Boolean).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    Str,
    Int,
    Float,
    Bool,
}

impl ColType {
    /// The polars dtype a column of this type has in every stage table.
    pub fn dtype(self) -> polars::prelude::DataType {
        use polars::prelude::DataType;
        match self {
            ColType::Str => DataType::String,
            ColType::Int => DataType::Int64,
            ColType::Float => DataType::Float64,
            ColType::Bool => DataType::Boolean,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub ty: ColType,
    pub nullable: bool,
    /// the only values a text column may hold (empty: any)
    pub accepted: &'static [&'static str],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSchema {
    /// Columns after `fields` are allowed (text, number, yes/no): a review's own covariates.
    pub extra: bool,
    /// file stem under `out/<pipeline>/`
    pub name: &'static str,
    pub fields: &'static [Field],
}

impl TableSchema {
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
    pub fn names(&self) -> Vec<&'static str> {
        self.fields.iter().map(|f| f.name).collect()
    }
    /// The table's polars schema (names and dtypes, in order).
    pub fn polars_schema(&self) -> polars::prelude::Schema {
        self.fields
            .iter()
            .map(|f| polars::prelude::Field::new(f.name.into(), f.ty.dtype()))
            .collect()
    }
}

const fn req(name: &'static str, ty: ColType) -> Field {
    Field {
        name,
        ty,
        nullable: false,
        accepted: &[],
    }
}
const fn opt(name: &'static str, ty: ColType) -> Field {
    Field {
        name,
        ty,
        nullable: true,
        accepted: &[],
    }
}
/// A required text column that holds one of `accepted`.
const fn one_of(name: &'static str, accepted: &'static [&'static str]) -> Field {
    Field {
        name,
        ty: Str,
        nullable: false,
        accepted,
    }
}
use ColType::*;

mod extraction;
mod report;
mod vocabulary;
pub use extraction::*;
pub use report::*;
pub use vocabulary::*;

/// ingest/parse: one row per record in the search exports, in file order.
pub const RECORDS: TableSchema = TableSchema {
    extra: false,
    name: "records",
    fields: &[
        req("record_id", Str),
        req("database", Str),
        req("source_file", Str),
        req("source_line", Int),
        opt("entry_type", Str),
        opt("title", Str),
        opt("authors", Str),
        opt("year", Int),
        opt("journal", Str),
        opt("volume", Str),
        opt("issue", Str),
        opt("pages", Str),
        opt("doi", Str),
        opt("abstract", Str),
        opt("extra", Str),
    ],
};

/// ingest/dedup: one row per record, its cluster, and why it joined it.
pub const CLUSTERS: TableSchema = TableSchema {
    extra: false,
    name: "clusters",
    fields: &[
        req("cluster_id", Str),
        req("record_id", Str),
        req("representative", Bool),
        opt("matched_with", Str),
        opt("evidence", Str),
    ],
};

/// ingest/dedup: one merged record per cluster (every source id kept).
pub const MERGED: TableSchema = TableSchema {
    extra: false,
    name: "merged_records",
    fields: &[
        req("cluster_id", Str),
        req("merged_ids", Str),
        req("databases", Str),
        opt("title", Str),
        opt("authors", Str),
        opt("year", Int),
        opt("journal", Str),
        opt("doi", Str),
    ],
};

/// ingest/dedup: pairs too uncertain to merge automatically, for a person to decide.
pub const MAYBE_PAIRS: TableSchema = TableSchema {
    extra: false,
    name: "maybe_pairs",
    fields: &[
        req("record_a", Str),
        req("record_b", Str),
        req("title_similarity", Float),
        req("evidence", Str),
    ],
};

/// ingest/screening: one row per screened cluster and stage.
pub const SCREENING: TableSchema = TableSchema {
    extra: false,
    name: "screening",
    fields: &[
        req("cluster_id", Str),
        req("record_id", Str),
        one_of("stage", &["title_abstract", "full_text"]),
        opt("reviewer_1", Str),
        opt("reviewer_2", Str),
        opt("adjudicated", Str),
        one_of("decision", &["include", "exclude", "not_retrieved"]),
        opt("reason", Str),
        opt("study_id", Str),
    ],
};

/// ingest/screening: the records awaiting a decision (a living review's new records), the
/// representative record of each cluster, importable into a screening app (`to_screen.ris`).
pub const TO_SCREEN: TableSchema = TableSchema {
    extra: false,
    name: "to_screen",
    fields: &[
        one_of("stage", &["title_abstract", "full_text"]),
        req("cluster_id", Str),
        req("record_id", Str),
        req("database", Str),
        req("round", Int),
        opt("title", Str),
        opt("authors", Str),
        opt("year", Int),
        opt("journal", Str),
        opt("volume", Str),
        opt("issue", Str),
        opt("pages", Str),
        opt("doi", Str),
        opt("abstract", Str),
        // when the team has decided on records of both kinds, `to_screen.csv` is ranked: reports
        // awaiting full text first, then the records awaiting title/abstract screening by the
        // relevance model's score, highest first (rank 1, 2, …; docs/screening.md)
        opt("score", Float),
        opt("rank", Int),
    ],
};

/// report: what moved since the previous results: per outcome, subgroup and model, studies
/// added or removed, the estimate, CI and I² before and after, and flags.
pub const CHANGES: TableSchema = TableSchema {
    extra: false,
    name: "changes",
    fields: &[
        req("outcome", Str),
        opt("subgroup", Str),
        opt("model_type", Str),
        one_of("change", &["new", "removed", "updated", "unchanged"]),
        opt("studies_added", Str),
        opt("studies_removed", Str),
        opt("estimate_before", Float),
        opt("estimate_after", Float),
        opt("ci_lb_before", Float),
        opt("ci_lb_after", Float),
        opt("ci_ub_before", Float),
        opt("ci_ub_after", Float),
        opt("I2_before", Float),
        opt("I2_after", Float),
        opt("flags", Str),
    ],
};

/// ingest/screening: agreement between the two reviewers, per stage.
pub const AGREEMENT: TableSchema = TableSchema {
    extra: false,
    name: "screening_agreement",
    fields: &[
        req("stage", Str),
        req("records", Int),
        opt("agreed", Int),
        opt("conflicts", Int),
        opt("adjudicated", Int),
        opt("kappa", Float),
        opt("note", Str),
    ],
};

/// ingest/screening: where title/abstract screening stands by the stopping rule of Callaghan and
/// Müller-Hansen (2020; docs/screening.md): the decisions in the log's order taken as the
/// screening order, `p` the test of "recall < target", `recall_lower_bound` the recall reached
/// with the stated confidence.
pub const SCREENING_PROGRESS: TableSchema = TableSchema {
    extra: false,
    name: "screening_progress",
    fields: &[
        req("records", Int),
        req("screened", Int),
        req("relevant_found", Int),
        req("awaiting", Int),
        req("recall_target", Float),
        req("confidence", Float),
        opt("p", Float),
        one_of("may_stop", &["yes", "no"]),
        req("recall_lower_bound", Float),
        req("note", Str),
    ],
};

/// ingest/prisma: PRISMA 2020 counts; `database` set on per-database rows.
pub const PRISMA: TableSchema = TableSchema {
    extra: false,
    name: "prisma",
    fields: &[
        one_of("stage", PRISMA_STAGES),
        opt("database", Str),
        req("count", Int),
    ],
};

/// report: `prisma.csv`, the overall flow (the rows of `prisma` without a database).
pub const PRISMA_FLOW: TableSchema = TableSchema {
    extra: false,
    name: "prisma_flow",
    fields: &[one_of("stage", PRISMA_STAGES), req("count", Int)],
};

/// report: `clusters.csv`, duplicate clusters of two or more records in the dedup benchmark's
/// format (ids joined by `;`).
pub const CLUSTER_LIST: TableSchema = TableSchema {
    extra: false,
    name: "cluster_list",
    fields: &[req("merged_ids", Str)],
};

/// report: `outcomes.csv`, the protocol's outcomes as run.
pub const OUTCOMES: TableSchema = TableSchema {
    extra: false,
    name: "outcomes",
    fields: &[
        req("outcome", Str),
        req("label", Str),
        opt("timepoint", Str),
        opt("definition", Str),
        opt("studies", Str),
        req("studies_source", Str),
        opt("subgroups", Str),
    ],
};

/// rob: RoB 2 domain and overall judgments, per study (`outcome` empty: every result of the
/// study) and per result where the answers name an outcome.
pub const ROB: TableSchema = TableSchema {
    extra: false,
    name: "rob_judgments",
    fields: &[
        req("study_id", Str),
        opt("outcome", Str),
        req("domain", Str),
        one_of("judgment", &["low", "some concerns", "high"]),
        req("basis", Str),
    ],
};

/// pool: per-study effects each analysis used (OR scale for display; log scale for the model).
pub const EFFECTS: TableSchema = TableSchema {
    extra: false,
    name: "per_study_effects",
    fields: &[
        req("outcome", Str),
        opt("subgroup", Str),
        req("study_id", Str),
        opt("events_treat", Int),
        opt("n_treat", Int),
        opt("events_ctrl", Int),
        opt("n_ctrl", Int),
        opt("yi", Float),
        opt("vi", Float),
        opt("estimate", Float),
        opt("ci_lb", Float),
        opt("ci_ub", Float),
        opt("weight", Float),
    ],
};

/// pool: one row per outcome × subgroup × model (two rows when an outcome asks for both the
/// fixed and the random-effects model). `estimate`, `ci_lb`, `ci_ub`, `pi_*` are on the `scale`
/// named in the row: `natural` (ratios as ratios, as RevMan prints them). On an outcome's overall
/// row, `Q_between*` is the test for subgroup differences across the levels of `subgroup_by`.
pub const RESULTS: TableSchema = TableSchema {
    extra: false,
    name: "results",
    fields: &[
        req("outcome", Str),
        opt("subgroup", Str),
        req("k", Int),
        opt("events_treat", Int),
        opt("n_treat", Int),
        opt("events_ctrl", Int),
        opt("n_ctrl", Int),
        opt("model", Str),
        opt("estimate", Float),
        opt("ci_lb", Float),
        opt("ci_ub", Float),
        opt("p", Float),
        opt("Q", Float),
        opt("Q_df", Int),
        opt("Q_p", Float),
        opt("I2", Float),
        opt("tau2", Float),
        opt("note", Str),
        req("studies", Str),
        one_of("measure", MEASURE_NAMES),
        one_of("scale", &["log", "natural"]),
        Field {
            name: "model_type",
            ty: Str,
            nullable: true,
            accepted: &["fixed", "random"],
        },
        opt("pi_lb", Float),
        opt("pi_ub", Float),
        opt("subgroup_by", Str),
        opt("Q_between", Float),
        opt("Q_between_df", Int),
        opt("Q_between_p", Float),
        // random-effects rows: Q-profile CIs for τ² and I² (DL, REML, PM); which I² is printed
        opt("tau2_lb", Float),
        opt("tau2_ub", Float),
        opt("I2_lb", Float),
        opt("I2_ub", Float),
        Field {
            name: "I2_from",
            ty: Str,
            nullable: true,
            accepted: &["Q", "tau2"],
        },
    ],
};

/// pool: sensitivity and small-study analyses of each outcome's overall analysis, as the
/// protocol asks for them: leave-one-out, cumulative, excluding studies at high risk of bias,
/// Egger's test, trim-and-fill, meta-regression on a covariate. `estimate`, `ci_*` are on the
/// row's `scale` (a meta-regression slope of a ratio measure is per unit on the log scale).
pub const SENSITIVITY: TableSchema = TableSchema {
    extra: false,
    name: "sensitivity",
    fields: &[
        req("outcome", Str),
        one_of(
            "analysis",
            &[
                "leave_one_out",
                "cumulative",
                "exclude_high_rob",
                "egger",
                "egger_rma",
                "peters",
                "harbord",
                "trimfill",
                "metaregression",
            ],
        ),
        req("step", Str),
        opt("k", Int),
        opt("estimate", Float),
        opt("ci_lb", Float),
        opt("ci_ub", Float),
        opt("p", Float),
        opt("I2", Float),
        opt("tau2", Float),
        one_of(
            "scale",
            &[
                "log",
                "natural",
                "logit",
                "arcsine",
                "double arcsine",
                "Fisher z",
            ],
        ),
        req("note", Str),
    ],
};

/// report: is each published pooled result consistent with the study data we have?
pub const CONSISTENCY: TableSchema = TableSchema {
    extra: false,
    name: "consistency",
    fields: &[
        req("outcome", Str),
        opt("subgroup", Str),
        req("published", Str),
        req("studies_assumed", Str),
        req("missing_cells", Int),
        opt("consistent_completions", Int),
        one_of("status", &["consistent", "inconsistent", "not checked"]),
        req("note", Str),
    ],
};

/// report: every published figure beside the recomputed one.
pub const AUDIT: TableSchema = TableSchema {
    extra: false,
    name: "audit",
    fields: &[
        req("item", Str),
        req("published", Str),
        opt("recomputed", Str),
        one_of("status", &["match", "mismatch", "not computable"]),
        req("why", Str),
    ],
};

/// `metapipe pool --group`: one row per group. `scale` says what scale `estimate`, `ci_*` and
/// `pi_*` are on: `log` for ratio measures (OR, RR, ROM), `natural` otherwise.
pub const POOL_GROUPS: TableSchema = TableSchema {
    extra: false,
    name: "pooled_groups",
    fields: &[
        req("group", Str),
        one_of("measure", MEASURE_NAMES),
        one_of("scale", &["log", "natural"]),
        req("k", Int),
        opt("estimate", Float),
        opt("se", Float),
        opt("ci_lb", Float),
        opt("ci_ub", Float),
        opt("z", Float),
        opt("p", Float),
        opt("Q", Float),
        opt("Q_df", Int),
        opt("Q_p", Float),
        opt("I2", Float),
        opt("H2", Float),
        opt("tau2", Float),
        opt("pi_lb", Float),
        opt("pi_ub", Float),
        opt("error", Str),
    ],
};

/// `metapipe gen-meta`: SYNTHETIC batches of 2×2 studies for benchmarks.
pub const GEN_BINARY: TableSchema = TableSchema {
    extra: false,
    name: "gen_binary",
    fields: &[
        req("group", Int),
        req("study", Int),
        req("ai", Int),
        req("n1i", Int),
        req("ci", Int),
        req("n2i", Int),
    ],
};

/// `metapipe gen-meta`: SYNTHETIC batches of generic effects for benchmarks.
pub const GEN_GENERIC: TableSchema = TableSchema {
    extra: false,
    name: "gen_generic",
    fields: &[
        req("group", Int),
        req("study", Int),
        req("yi", Float),
        req("vi", Float),
    ],
};

/// Every stage table, for documentation and tests.
pub const ALL: &[&TableSchema] = &[
    &RECORDS,
    &CLUSTERS,
    &MERGED,
    &MAYBE_PAIRS,
    &SCREENING,
    &AGREEMENT,
    &SCREENING_PROGRESS,
    &TO_SCREEN,
    &CHANGES,
    &PRISMA,
    &STUDIES,
    &ARMS,
    &OUTCOME_DATA,
    &EXTRACTION_CONFLICTS,
    &EXTRACTION_AGREEMENT,
    &ROB,
    &EFFECTS,
    &RESULTS,
    &SENSITIVITY,
    &AUDIT,
    &CONSISTENCY,
    &PRISMA_FLOW,
    &CLUSTER_LIST,
    &OUTCOMES,
    &SOF,
    &PRISMA_CHECKLIST,
    &POOL_GROUPS,
    &GEN_BINARY,
    &GEN_GENERIC,
];
