//! The closed sets of values the stage tables and stages share: PRISMA stages, outcome data
//! families.

/// The PRISMA 2020 flow's stages, in the order of the diagram: the counts a review without
/// search exports may type into `[prisma]`.
pub const PRISMA_FLOW_STAGES: [&str; 7] = [
    "records_identified",
    "duplicates_removed",
    "records_screened",
    "excluded_title_abstract",
    "full_text_assessed",
    "excluded_full_text",
    "studies_included",
];

/// Every stage the `prisma` table may hold (a closed set: a table with any other is refused):
/// the flow, the exclusion reasons (`database` holds the reason), a living review's open work,
/// and an updated review's flow of the latest round with the previous and total counts.
pub const PRISMA_STAGES: &[&str] = &[
    "records_identified",
    "duplicates_removed",
    "records_screened",
    "excluded_title_abstract",
    "reports_sought",
    "reports_not_retrieved",
    "full_text_assessed",
    "excluded_full_text",
    "excluded_full_text_reason",
    "studies_included",
    "records_awaiting_screening",
    "reports_awaiting_assessment",
    "update_round",
    "update_previous_studies",
    "update_previous_reports",
    "update_records_identified",
    "update_duplicates_removed",
    "update_records_screened",
    "update_records_awaiting_screening",
    "update_excluded_title_abstract",
    "update_reports_sought",
    "update_reports_not_retrieved",
    "update_full_text_assessed",
    "update_excluded_full_text",
    "update_excluded_full_text_reason",
    "update_new_studies_included",
    "update_new_reports_included",
    "update_total_studies_included",
    "update_total_reports_included",
];

/// What an outcome's rows hold (its data family: which `outcome_data` columns it uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeKind {
    /// events and totals per arm
    Binary,
    /// mean, SD and n per arm
    Continuous,
    /// a reported estimate with its SE, or with its CI
    Generic,
    /// events and total of one group (`events, n`)
    Proportion,
    /// events in person-time of one group (`events, time`)
    Rate,
    /// events and person-time per arm (`events_treat, time_treat, events_ctrl, time_ctrl`)
    RatePair,
    /// a correlation and its sample size (`r, n`)
    Correlation,
    /// O − E and its variance V (`o_minus_e, v`)
    OMinusE,
}

impl OutcomeKind {
    /// Data of one group (no comparison: no arms, nothing favoured).
    pub fn one_group(self) -> bool {
        matches!(
            self,
            OutcomeKind::Proportion | OutcomeKind::Rate | OutcomeKind::Correlation
        )
    }

    /// The `outcome_data` columns a row of this kind needs, besides the generic kind's
    /// alternatives (an estimate with `se`, or with `ci_lb` and `ci_ub`).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            OutcomeKind::Binary => &["events_treat", "n_treat", "events_ctrl", "n_ctrl"],
            OutcomeKind::Continuous => &[
                "mean_treat",
                "sd_treat",
                "n_treat",
                "mean_ctrl",
                "sd_ctrl",
                "n_ctrl",
            ],
            OutcomeKind::Generic => &["estimate"],
            OutcomeKind::Proportion => &["events", "n"],
            OutcomeKind::Rate => &["events", "time"],
            OutcomeKind::RatePair => &["events_treat", "time_treat", "events_ctrl", "time_ctrl"],
            OutcomeKind::Correlation => &["r", "n"],
            OutcomeKind::OMinusE => &["o_minus_e", "v"],
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::schema::PRISMA;
    use crate::{i, s, so, Builder};

    #[test]
    fn a_prisma_table_holds_only_its_stages() {
        let mut b = Builder::new(&PRISMA);
        b.row(vec![s("records_identified"), so(None::<String>), i(416)]);
        assert!(b.finish().is_ok());
        let mut b = Builder::new(&PRISMA);
        b.row(vec![s("records_screend"), so(None::<String>), i(276)]);
        let e = b.finish().expect_err("a misspelt stage is refused");
        assert!(e.to_string().contains("records_screend"), "{e}");
    }
}
