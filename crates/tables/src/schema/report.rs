//! The report's own tables: the Summary of findings (GRADE) and the PRISMA 2020 checklist.

use super::{one_of, opt, req, ColType::*, Field, TableSchema};

/// The GRADE certainty levels, highest first.
pub const CERTAINTY: &[&str] = &["high", "moderate", "low", "very low"];

/// report: `sof.csv`, the Summary of findings: one row per outcome and assumed baseline risk.
/// Binary outcomes fill the relative effect and the absolute effects per `per` participants
/// (assumed risk without the intervention, the corresponding risk with it and its CI, the
/// difference); continuous ones fill `control_mean` and the difference (MD or SMD) with its CI.
/// `certainty`/`downgrades` are the review team's `[[grade]]` judgment (empty until the team
/// judges every domain); `suggested_*` are the rules' suggestion (none for an outcome not
/// pooled), never the judgment; `flags`
/// names each domain where they differ.
pub const SOF: TableSchema = TableSchema {
    extra: false,
    name: "sof",
    fields: &[
        req("outcome", Str),
        req("label", Str),
        req("studies", Int),
        opt("participants", Int),
        req("measure", Str),
        opt("model", Str),
        opt("relative", Float),
        opt("relative_ci_lb", Float),
        opt("relative_ci_ub", Float),
        opt("baseline", Str),
        opt("per", Int),
        opt("assumed_per_1000", Float),
        opt("corresponding_per_1000", Float),
        opt("corresponding_ci_lb", Float),
        opt("corresponding_ci_ub", Float),
        opt("control_mean", Float),
        opt("difference", Float),
        opt("difference_ci_lb", Float),
        opt("difference_ci_ub", Float),
        Field {
            name: "certainty",
            ty: Str,
            nullable: true,
            accepted: CERTAINTY,
        },
        opt("downgrades", Str),
        Field {
            name: "suggested_certainty",
            ty: Str,
            nullable: true,
            accepted: CERTAINTY,
        },
        req("suggested_downgrades", Str),
        opt("flags", Str),
        opt("footnotes", Str),
    ],
};

/// report: `prisma_checklist.csv`, PRISMA 2020's items: those the run answers filled (with where
/// the answer is), the rest left for the review team.
pub const PRISMA_CHECKLIST: TableSchema = TableSchema {
    extra: false,
    name: "prisma_checklist",
    fields: &[
        req("section", Str),
        req("item", Str),
        req("topic", Str),
        one_of("status", &["filled", "for the team"]),
        opt("answer", Str),
        opt("location", Str),
    ],
};
