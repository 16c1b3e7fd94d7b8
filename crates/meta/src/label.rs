//! A fitted model's identity as typed values, and the names it goes by: the label a results
//! row carries ("random effects: DerSimonian-Laird (RevMan 5)"), read back exactly by
//! [`ModelId::parse`], and RevMan's short form on a forest plot ("M-H, Random").

use crate::types::{Method, Test};

/// Whose rules an analysis follows where the tools differ (`convention` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Convention {
    /// metafor's defaults: REML, z test, double-zero studies kept (escalc's 0.5), metafor's
    /// prediction interval
    Metafor,
    /// RevMan 5: its zero-cell rule, MH, DL with τ² from the MH Q (OR, RR; z test)
    RevMan5,
    /// the Cochrane Statistical Methods Group's random-effects methods (RevMan since 2025):
    /// REML, Hartung-Knapp-Sidik-Jonkman, Q-profile CI for τ², prediction interval by t with
    /// k − 2 df, I² from τ²; double-zero studies not estimable for OR and RR
    Cochrane,
}

/// What a results row's model is: its method (which says fixed or random), the convention and
/// the test of the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelId {
    pub method: Method,
    pub convention: Convention,
    pub test: Test,
}

const METHODS: [Method; 12] = [
    Method::MH,
    Method::Peto,
    Method::FE,
    Method::DL,
    Method::REML,
    Method::ML,
    Method::PM,
    Method::SJ,
    Method::HE,
    Method::EB,
    Method::Glmm,
    Method::GlmmFe,
];

/// A method's name in a model label.
fn long_name(m: Method) -> &'static str {
    match m {
        Method::MH => "Mantel-Haenszel",
        Method::Peto => "Peto",
        Method::FE => "inverse variance",
        Method::DL => "DerSimonian-Laird",
        Method::REML => "REML",
        Method::ML => "ML",
        Method::PM => "Paule-Mandel",
        Method::SJ => "Sidik-Jonkman",
        Method::HE => "Hedges",
        Method::EB => "empirical Bayes",
        Method::Glmm => "binomial-normal GLMM (ML)",
        Method::GlmmFe => "logistic regression (binomial GLM)",
    }
}

impl ModelId {
    /// "fixed" or "random" (the results table's `model_type`).
    pub fn kind(&self) -> &'static str {
        if self.method.is_random() {
            "random"
        } else {
            "fixed"
        }
    }

    /// The parenthesised notes of a label: the convention, and a random-effects model's
    /// Knapp-Hartung test.
    fn notes(&self) -> Vec<&'static str> {
        let mut notes = vec![];
        match self.convention {
            Convention::RevMan5 => notes.push("RevMan 5"),
            Convention::Cochrane => notes.push("Cochrane"),
            Convention::Metafor => {}
        }
        match self.test {
            Test::Knha if self.method.is_random() => notes.push("Knapp-Hartung"),
            Test::Adhoc if self.method.is_random() => notes.push("Knapp-Hartung, ad hoc"),
            _ => {}
        }
        notes
    }

    /// The label of the results table's `model` column, e.g. "fixed effect: Mantel-Haenszel
    /// (RevMan 5)", "random effects: REML (Cochrane, Knapp-Hartung)".
    pub fn label(&self) -> String {
        let notes = self.notes();
        let suffix = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join(", "))
        };
        let kind = if self.method.is_random() {
            "random effects"
        } else {
            "fixed effect"
        };
        format!("{kind}: {}{suffix}", long_name(self.method))
    }

    /// The model a [`label`](Self::label) names (a fixed-effect model's test, which its label
    /// does not show, read as z); `None` for any other text.
    pub fn parse(label: &str) -> Option<ModelId> {
        let conventions = [
            Convention::Metafor,
            Convention::RevMan5,
            Convention::Cochrane,
        ];
        let tests = [Test::Z, Test::Knha, Test::Adhoc];
        METHODS.iter().find_map(|&method| {
            conventions.iter().find_map(|&convention| {
                tests.iter().find_map(|&test| {
                    let id = ModelId {
                        method,
                        convention,
                        test,
                    };
                    (id.label() == label).then_some(id)
                })
            })
        })
    }

    /// RevMan's short name of the model on a forest plot: "M-H, Fixed", "IV, Random",
    /// "Peto, Fixed" (RevMan 5's DerSimonian-Laird for binary data is "M-H, Random": its
    /// heterogeneity is from the Mantel-Haenszel Q).
    pub fn revman_short(&self) -> String {
        let random = self.method.is_random();
        let method = match self.method {
            Method::Peto => "Peto",
            Method::Glmm | Method::GlmmFe => "GLMM",
            Method::MH => "M-H",
            _ if random && self.convention == Convention::RevMan5 => "M-H",
            _ => "IV",
        };
        format!("{method}, {}", if random { "Random" } else { "Fixed" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_reads_back_as_its_model() {
        for &method in &METHODS {
            for convention in [
                Convention::Metafor,
                Convention::RevMan5,
                Convention::Cochrane,
            ] {
                for test in [Test::Z, Test::Knha, Test::Adhoc] {
                    let id = ModelId {
                        method,
                        convention,
                        test,
                    };
                    let back = ModelId::parse(&id.label()).expect("a label reads back");
                    // a fixed-effect label does not show the test; everything else it does
                    assert_eq!(back.label(), id.label());
                    assert_eq!((back.method, back.convention), (method, convention));
                    if method.is_random() {
                        assert_eq!(back.test, test);
                    }
                }
            }
        }
        assert_eq!(
            ModelId::parse("fixed effect: Mantel-Haenszel (RevMan 6)"),
            None
        );
    }

    #[test]
    fn revman_short_names() {
        let id = |method, convention| ModelId {
            method,
            convention,
            test: Test::Z,
        };
        let short = |m, c| id(m, c).revman_short();
        assert_eq!(short(Method::MH, Convention::RevMan5), "M-H, Fixed");
        assert_eq!(short(Method::DL, Convention::RevMan5), "M-H, Random");
        assert_eq!(short(Method::DL, Convention::Metafor), "IV, Random");
        assert_eq!(short(Method::Peto, Convention::Metafor), "Peto, Fixed");
        assert_eq!(short(Method::FE, Convention::Cochrane), "IV, Fixed");
        assert_eq!(short(Method::REML, Convention::Cochrane), "IV, Random");
    }
}
