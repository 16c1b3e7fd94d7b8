//! # metapipe-rob
//!
//! RoB 2 (Sterne et al., BMJ 2019;366:l4898) for individually randomized parallel-group trials,
//! effect of assignment: signalling-question answers (Y, PY, PN, N, NI, NA) → domain judgments by
//! the algorithms of the RoB 2 guidance (Higgins et al. 2019, "Revised Cochrane risk-of-bias tool
//! for randomized trials (RoB 2)", full guidance document) → overall judgment.

use metapipe_tables::io::Input;
use metapipe_tables::schema::ROB;
use metapipe_tables::sheet::Sheet;
use metapipe_tables::{s, so, Builder, Error, Result, Table};
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

/// One assessment's judgments: (domain id, judgment, basis), the five domains then `overall`.
fn judge_one(ans: &Answers) -> std::result::Result<Vec<(String, Judgment, String)>, String> {
    let fns: [fn(&Answers) -> std::result::Result<Judgment, String>; 5] =
        [domain1, domain2, domain3, domain4, domain5];
    let mut out = vec![];
    let mut js = vec![];
    for ((d, _), f) in DOMAINS.iter().zip(fns) {
        let j = f(ans).map_err(|e| format!("{d}: {e}"))?;
        let qs = QUESTIONS.iter().find(|(x, _)| x == d).unwrap().1;
        let basis = qs
            .iter()
            .filter_map(|q| ans.get(*q).map(|v| format!("{q}={v:?}")))
            .collect::<Vec<_>>()
            .join(" ");
        out.push((d.to_string(), j, basis));
        js.push(j);
    }
    out.push(("overall".into(), overall(&js), "worst domain".into()));
    Ok(out)
}

/// The answers of one study: those for all its results (`study`) and those for one outcome's
/// result (`results`, by outcome id), which override the study's for the questions they answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StudyAnswers {
    pub study: Answers,
    pub results: BTreeMap<String, Answers>,
}

/// A judgment row: (study, outcome — `None` for every result of the study —, domain id,
/// judgment, basis).
pub type JudgmentRow = (String, Option<String>, String, Judgment, String);

/// Judgments per study and, where answers are given per result, per outcome. RoB 2 assesses a
/// result: a study's answers without an outcome apply to all its results; answers with an
/// outcome complete or override them for that outcome's result. A study's own answers are
/// judged alone when they are complete; when they are not and the study has per-result answers,
/// they are the shared part (typically domains 1 and 2) and only the results are judged.
pub fn judge(
    answers: &BTreeMap<String, StudyAnswers>,
) -> std::result::Result<Vec<JudgmentRow>, String> {
    let mut out = vec![];
    for (study, sa) in answers {
        let push = |out: &mut Vec<JudgmentRow>, outcome: Option<&String>, rows: Vec<_>| {
            for (d, j, basis) in rows {
                out.push((study.clone(), outcome.cloned(), d, j, basis));
            }
        };
        match judge_one(&sa.study) {
            Ok(rows) if !sa.study.is_empty() => push(&mut out, None, rows),
            Err(e) if sa.results.is_empty() => return Err(format!("{study} {e}")),
            _ => {}
        }
        for (outcome, own) in &sa.results {
            let mut merged = sa.study.clone();
            merged.extend(own.iter().map(|(q, a)| (q.clone(), *a)));
            let rows =
                judge_one(&merged).map_err(|e| format!("{study} (outcome {outcome}) {e}"))?;
            push(&mut out, Some(outcome), rows);
        }
    }
    Ok(out)
}

/// Read answers (`study_id, question, answer`, optionally `outcome`) and judge every study in
/// `studies`; an `outcome` must be one of `outcomes`.
pub fn rob_stage(input: &Input, studies: &[String], outcomes: &[String]) -> Result<Table> {
    let sheet = Sheet::read(input, &["study_id", "question", "answer"])?;
    let mut answers: BTreeMap<String, StudyAnswers> = BTreeMap::new();
    for r in sheet.rows() {
        let study = r.get("study_id").unwrap_or("").to_string();
        if !studies.contains(&study) {
            return Err(r.err("study_id", format!("unknown study {study:?}")));
        }
        let outcome = r
            .get("outcome")
            .filter(|o| !o.is_empty())
            .map(str::to_string);
        if let Some(o) = &outcome {
            if !outcomes.contains(o) {
                let why = format!("unknown outcome {o:?} (the config's outcomes: {outcomes:?})");
                return Err(r.err("outcome", why));
            }
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
        let sa = answers.entry(study.clone()).or_default();
        let mine = match &outcome {
            None => &mut sa.study,
            Some(o) => sa.results.entry(o.clone()).or_default(),
        };
        if mine.insert(q.clone(), ans).is_some() {
            let of = outcome
                .map(|o| format!(" for outcome {o}"))
                .unwrap_or_default();
            let why = format!("{study} question {q} answered twice{of}");
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
    for (st, outcome, d, j, basis) in js {
        t.row(vec![s(st), so(outcome), s(d), s(j.text()), s(basis)]);
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

    fn complete(d3: Answer) -> Answers {
        ans(&[
            ("1.1", Y),
            ("1.2", Y),
            ("1.3", N),
            ("2.1", N),
            ("2.2", N),
            ("2.6", Y),
            ("3.1", d3),
            ("3.2", N),
            ("3.3", Y),
            ("3.4", Y),
            ("4.1", N),
            ("4.2", N),
            ("4.3", N),
            ("5.1", Y),
            ("5.2", N),
            ("5.3", N),
        ])
    }

    fn overall_of(rows: &[JudgmentRow], outcome: Option<&str>) -> Judgment {
        rows.iter()
            .find(|r| r.1.as_deref() == outcome && r.2 == "overall")
            .map(|r| r.3)
            .unwrap()
    }

    #[test]
    fn a_result_s_answers_override_the_study_s() {
        // the study's answers are complete (low); the mortality result's missing data are not
        let sa = StudyAnswers {
            study: complete(Y),
            results: [("mortality".to_string(), ans(&[("3.1", N)]))].into(),
        };
        let rows = judge(&[("s".to_string(), sa)].into()).unwrap();
        assert_eq!(overall_of(&rows, None), Judgment::Low);
        assert_eq!(overall_of(&rows, Some("mortality")), Judgment::High);
        assert_eq!(rows.len(), 12, "six rows for the study, six for the result");
    }

    #[test]
    fn shared_answers_alone_are_not_judged_but_complete_results_are() {
        // domains 1, 2 and 5 shared; 3 and 4 per result
        let mut shared = complete(Y);
        for q in ["3.1", "3.2", "3.3", "3.4", "4.1", "4.2", "4.3"] {
            shared.remove(q);
        }
        let own = ans(&[("3.1", Y), ("4.1", N), ("4.2", N), ("4.3", N)]);
        let sa = StudyAnswers {
            study: shared.clone(),
            results: [("mortality".to_string(), own)].into(),
        };
        let rows = judge(&[("s".to_string(), sa)].into()).unwrap();
        assert!(rows.iter().all(|r| r.1.as_deref() == Some("mortality")));
        assert_eq!(overall_of(&rows, Some("mortality")), Judgment::Low);
        // without any result's answers, incomplete answers are an error naming the study
        let alone = StudyAnswers {
            study: shared,
            results: BTreeMap::new(),
        };
        let e = judge(&[("s".to_string(), alone)].into()).unwrap_err();
        assert!(e.starts_with("s D3"), "{e}");
        // an incomplete result names its outcome
        let sa = StudyAnswers {
            study: complete(Y),
            results: [("mv".to_string(), ans(&[("3.1", N), ("3.2", N), ("3.3", Y)]))].into(),
        };
        let mut bad = sa.clone();
        bad.study.remove("3.4");
        let e = judge(&[("s".to_string(), bad)].into()).unwrap_err();
        assert!(e.contains("(outcome mv) D3"), "{e}");
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
