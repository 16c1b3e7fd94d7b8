//! # metapipe-rob
//!
//! RoB 2 (Sterne et al., BMJ 2019;366:l4898) for individually randomized parallel-group trials,
//! effect of assignment: signalling-question answers (Y, PY, PN, N, NI, NA) → domain judgments by
//! the algorithms of the RoB 2 guidance (Higgins et al. 2019, "Revised Cochrane risk-of-bias tool
//! for randomized trials (RoB 2)", full guidance document) → overall judgment.

use metapipe_tables::io::Input;
use metapipe_tables::schema::ROB;
use metapipe_tables::sheet::Sheet;
use metapipe_tables::{s, Builder, Error, Result, Table};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Judgment {
    Low,
    SomeConcerns,
    High,
}

impl Judgment {
    pub fn text(self) -> &'static str {
        match self {
            Judgment::Low => "low",
            Judgment::SomeConcerns => "some concerns",
            Judgment::High => "high",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Y,
    PY,
    PN,
    N,
    NI,
    NA,
}

impl Answer {
    pub fn parse(s: &str) -> Option<Answer> {
        Some(match s.trim().to_ascii_uppercase().as_str() {
            "Y" => Answer::Y,
            "PY" => Answer::PY,
            "PN" => Answer::PN,
            "N" => Answer::N,
            "NI" => Answer::NI,
            "NA" => Answer::NA,
            _ => return None,
        })
    }
    fn yes(self) -> bool {
        matches!(self, Answer::Y | Answer::PY)
    }
    fn no(self) -> bool {
        matches!(self, Answer::N | Answer::PN)
    }
    fn ni(self) -> bool {
        self == Answer::NI
    }
}

pub const DOMAINS: [(&str, &str); 5] = [
    ("D1", "randomization process"),
    ("D2", "deviations from intended interventions"),
    ("D3", "missing outcome data"),
    ("D4", "measurement of the outcome"),
    ("D5", "selection of the reported result"),
];

/// The questions each domain's algorithm reads.
pub const QUESTIONS: [(&str, &[&str]); 5] = [
    ("D1", &["1.1", "1.2", "1.3"]),
    ("D2", &["2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7"]),
    ("D3", &["3.1", "3.2", "3.3", "3.4"]),
    ("D4", &["4.1", "4.2", "4.3", "4.4", "4.5"]),
    ("D5", &["5.1", "5.2", "5.3"]),
];

type Answers = BTreeMap<String, Answer>;

fn a(ans: &Answers, q: &str) -> std::result::Result<Answer, String> {
    ans.get(q)
        .copied()
        .ok_or_else(|| format!("question {q} is not answered"))
}

/// Domain 1 algorithm.
pub fn domain1(ans: &Answers) -> std::result::Result<Judgment, String> {
    let (q1, q2, q3) = (a(ans, "1.1")?, a(ans, "1.2")?, a(ans, "1.3")?);
    Ok(if q2.no() {
        Judgment::High
    } else if q2.yes() {
        if q1.no() || q3.yes() {
            Judgment::SomeConcerns
        } else {
            Judgment::Low
        }
    } else if q3.yes() {
        Judgment::High
    } else {
        Judgment::SomeConcerns
    })
}

/// Domain 2 algorithm (effect of assignment to intervention): part 1 (2.1–2.5) and part 2
/// (2.6–2.7); the domain takes the worse.
pub fn domain2(ans: &Answers) -> std::result::Result<Judgment, String> {
    let (q1, q2) = (a(ans, "2.1")?, a(ans, "2.2")?);
    let part1 = if q1.no() && q2.no() {
        Judgment::Low
    } else {
        let q3 = a(ans, "2.3")?;
        if q3.no() {
            Judgment::Low
        } else if q3.ni() {
            Judgment::SomeConcerns
        } else {
            let (q4, q5) = (a(ans, "2.4")?, a(ans, "2.5")?);
            if q4.no() || q5.yes() {
                Judgment::SomeConcerns
            } else {
                Judgment::High
            }
        }
    };
    let q6 = a(ans, "2.6")?;
    let part2 = if q6.yes() {
        Judgment::Low
    } else {
        let q7 = a(ans, "2.7")?;
        if q7.no() {
            Judgment::SomeConcerns
        } else {
            Judgment::High
        }
    };
    Ok(part1.max(part2))
}

/// Domain 3 algorithm.
pub fn domain3(ans: &Answers) -> std::result::Result<Judgment, String> {
    if a(ans, "3.1")?.yes() {
        return Ok(Judgment::Low);
    }
    if a(ans, "3.2")?.yes() {
        return Ok(Judgment::Low);
    }
    if a(ans, "3.3")?.no() {
        return Ok(Judgment::Low);
    }
    Ok(if a(ans, "3.4")?.no() {
        Judgment::SomeConcerns
    } else {
        Judgment::High
    })
}

/// Domain 4 algorithm.
pub fn domain4(ans: &Answers) -> std::result::Result<Judgment, String> {
    let (q1, q2) = (a(ans, "4.1")?, a(ans, "4.2")?);
    if q1.yes() || q2.yes() {
        return Ok(Judgment::High);
    }
    let unsure = q1.ni() || q2.ni();
    let q3 = a(ans, "4.3")?;
    if q3.no() {
        return Ok(if unsure {
            Judgment::SomeConcerns
        } else {
            Judgment::Low
        });
    }
    let q4 = a(ans, "4.4")?;
    if q4.no() {
        return Ok(if unsure {
            Judgment::SomeConcerns
        } else {
            Judgment::Low
        });
    }
    Ok(if a(ans, "4.5")?.no() {
        Judgment::SomeConcerns
    } else {
        Judgment::High
    })
}

/// Domain 5 algorithm.
pub fn domain5(ans: &Answers) -> std::result::Result<Judgment, String> {
    let (q1, q2, q3) = (a(ans, "5.1")?, a(ans, "5.2")?, a(ans, "5.3")?);
    Ok(if q2.yes() || q3.yes() {
        Judgment::High
    } else if q2.no() && q3.no() {
        if q1.yes() {
            Judgment::Low
        } else {
            Judgment::SomeConcerns
        }
    } else {
        Judgment::SomeConcerns
    })
}

/// Overall: high if any domain is high, some concerns if any has some concerns, else low.
pub fn overall(domains: &[Judgment]) -> Judgment {
    domains.iter().copied().max().unwrap_or(Judgment::Low)
}

/// Judgments per study: (study, domain id, judgment, basis).
pub fn judge(
    answers: &BTreeMap<String, Answers>,
) -> std::result::Result<Vec<(String, String, Judgment, String)>, String> {
    let mut out = vec![];
    for (study, ans) in answers {
        let fns: [fn(&Answers) -> std::result::Result<Judgment, String>; 5] =
            [domain1, domain2, domain3, domain4, domain5];
        let mut js = vec![];
        for ((d, _), f) in DOMAINS.iter().zip(fns) {
            let j = f(ans).map_err(|e| format!("{study} {d}: {e}"))?;
            let qs = QUESTIONS.iter().find(|(x, _)| x == d).unwrap().1;
            let basis = qs
                .iter()
                .filter_map(|q| ans.get(*q).map(|v| format!("{q}={v:?}")))
                .collect::<Vec<_>>()
                .join(" ");
            out.push((study.clone(), d.to_string(), j, basis));
            js.push(j);
        }
        out.push((
            study.clone(),
            "overall".into(),
            overall(&js),
            "worst domain".into(),
        ));
    }
    Ok(out)
}

/// Read answers (`study_id, question, answer`) and judge every study in `studies`.
pub fn rob_stage(input: &Input, studies: &[String]) -> Result<Table> {
    let sheet = Sheet::read(input, &["study_id", "question", "answer"])?;
    let mut answers: BTreeMap<String, Answers> = BTreeMap::new();
    for r in sheet.rows() {
        let study = r.get("study_id").unwrap_or("").to_string();
        if !studies.contains(&study) {
            return Err(r.err("study_id", format!("unknown study {study:?}")));
        }
        let q = r.get("question").unwrap_or("").to_string();
        if !QUESTIONS.iter().any(|(_, qs)| qs.contains(&q.as_str())) {
            let why = format!("{q:?} is not a RoB 2 signalling question");
            return Err(r.err("question", why));
        }
        let raw = r.get("answer").unwrap_or("");
        let ans = Answer::parse(raw).ok_or_else(|| {
            r.err(
                "answer",
                format!("{raw:?}: expected Y, PY, PN, N, NI or NA"),
            )
        })?;
        let mine = answers.entry(study.clone()).or_default();
        if mine.insert(q.clone(), ans).is_some() {
            let why = format!("{study} question {q} answered twice");
            return Err(r.err("question", why));
        }
    }
    // an included study without answers awaits assessment (a living review's new trial): the
    // run says so and goes on; its judgments are simply absent
    let waiting: Vec<&String> = studies
        .iter()
        .filter(|st| !answers.contains_key(*st))
        .collect();
    if !waiting.is_empty() {
        tracing::warn!(
            "{}: included studies awaiting RoB 2 assessment: {waiting:?}",
            sheet.path.display()
        );
    }
    let js = judge(&answers).map_err(|e| Error::data(e).file(&sheet.path))?;
    let mut t = Builder::new(&ROB);
    for (st, d, j, basis) in js {
        t.row(vec![s(st), s(d), s(j.text()), s(basis)]);
    }
    t.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Answer::*;

    fn ans(pairs: &[(&str, Answer)]) -> Answers {
        pairs.iter().map(|(q, a)| (q.to_string(), *a)).collect()
    }

    #[test]
    fn d1_allocation_unclear_is_some_concerns() {
        assert_eq!(
            domain1(&ans(&[("1.1", NI), ("1.2", NI), ("1.3", N)])).unwrap(),
            Judgment::SomeConcerns
        );
        assert_eq!(
            domain1(&ans(&[("1.1", Y), ("1.2", Y), ("1.3", N)])).unwrap(),
            Judgment::Low
        );
        assert_eq!(
            domain1(&ans(&[("1.1", Y), ("1.2", N), ("1.3", N)])).unwrap(),
            Judgment::High
        );
        assert_eq!(
            domain1(&ans(&[("1.1", NI), ("1.2", NI), ("1.3", Y)])).unwrap(),
            Judgment::High
        );
    }

    #[test]
    fn d2_open_label_unclear_carers() {
        let a = ans(&[("2.1", Y), ("2.2", NI), ("2.3", NI), ("2.6", Y)]);
        assert_eq!(domain2(&a).unwrap(), Judgment::SomeConcerns);
        let blinded = ans(&[("2.1", N), ("2.2", N), ("2.6", Y)]);
        assert_eq!(domain2(&blinded).unwrap(), Judgment::Low);
        let bad = ans(&[("2.1", N), ("2.2", N), ("2.6", N), ("2.7", Y)]);
        assert_eq!(domain2(&bad).unwrap(), Judgment::High);
    }

    #[test]
    fn missing_answer_is_an_error() {
        assert!(domain3(&ans(&[("3.1", N)])).is_err());
    }

    #[test]
    fn overall_is_worst() {
        assert_eq!(
            overall(&[Judgment::Low, Judgment::SomeConcerns, Judgment::Low]),
            Judgment::SomeConcerns
        );
        assert_eq!(overall(&[Judgment::Low; 5]), Judgment::Low);
    }
}
