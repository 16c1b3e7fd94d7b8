use super::*;
use metapipe_meta::effect::Measure;
use metapipe_meta::model::{Method, Options, Test};
use metapipe_tables::schema::{OUTCOME_DATA, STUDIES};
use metapipe_tables::{f, i, s, so, Builder};

fn studies(rows: &[(&str, &str)]) -> Table {
    let mut b = Builder::new(&STUDIES);
    for (id, _) in rows {
        b.row(vec![
            s(*id),
            s(*id),
            so(None::<String>),
            so(None::<String>),
            i(10),
            i(10),
            so(None::<String>),
            so(None::<String>),
        ]);
    }
    let mut df = b.finish().unwrap().df;
    df.with_column(Column::new(
        "drug".into(),
        rows.iter().map(|r| r.1).collect::<Vec<_>>(),
    ))
    .unwrap();
    Table::new(&STUDIES, df).unwrap()
}

/// The cells of the one-group, rate, correlation and O − E columns and `derivation`, empty.
fn new_families_empty() -> Vec<metapipe_tables::Cell> {
    let mut v = vec![i(None), i(None)];
    v.extend((0..6).map(|_| f(None)));
    // md, md_se, estimate_p, derivation
    v.extend([f(None), f(None), f(None), so(None::<String>)]);
    v
}

/// Outcome rows: (study, binary counts) or (study, generic estimate, se).
fn data(rows: &[(&str, Option<i64>, i64, Option<i64>, i64)]) -> Table {
    let mut b = Builder::new(&OUTCOME_DATA);
    for (id, a, n1, c, n2) in rows {
        let status = if a.is_some() { "reported" } else { "missing" };
        let mut r = vec![
            s(*id),
            s("m"),
            i(*a),
            i(*n1),
            i(*c),
            i(*n2),
            s(status),
            so(None::<String>),
            so(None::<String>),
            so(None::<String>),
        ];
        r.extend((0..8).map(|_| f(None)));
        r.extend(new_families_empty());
        b.row(r);
    }
    b.finish().unwrap()
}

fn generic(rows: &[(&str, f64, f64)]) -> Table {
    let mut b = Builder::new(&OUTCOME_DATA);
    for (id, y, se) in rows {
        let mut r = vec![
            s(*id),
            s("m"),
            i(None),
            i(None),
            i(None),
            i(None),
            s("reported"),
            so(None::<String>),
            so(None::<String>),
            so(None::<String>),
        ];
        r.extend([
            f(None),
            f(None),
            f(None),
            f(None),
            f(*y),
            f(*se),
            f(None),
            f(None),
        ]);
        r.extend(new_families_empty());
        b.row(r);
    }
    b.finish().unwrap()
}

fn revman_rule() -> Spec {
    Spec {
        measure: Measure::OR,
        log_scale: false,
        fixed: Method::MH,
        random: Method::DL,
        choice: Choice::Rule {
            i2_above: 50.0,
            q_p_below: 0.10,
        },
        convention: crate::Convention::RevMan5,
        zeros: metapipe_meta::analysis::Zeros::RevMan5,
        opts: Options::default(),
        prediction: false,
        study_ci_level: 0.95,
    }
}

fn plan(studies: StudySet, spec: Spec) -> OutcomePlan {
    OutcomePlan {
        id: "m".into(),
        studies,
        subgroup_by: None,
        common_tau2: false,
        subgroups: vec![],
        pool_available: false,
        spec,
        sensitivity: Sensitivity::default(),
    }
}

fn listed(ids: &[&str]) -> StudySet {
    StudySet::Listed(ids.iter().map(|x| x.to_string()).collect())
}

#[test]
fn incomplete_is_not_pooled_and_names_missing() {
    let an = run(
        &[plan(listed(&["a", "b"]), revman_rule())],
        &studies(&[("a", "x"), ("b", "x")]),
        &data(&[("a", Some(1), 10, Some(2), 10), ("b", None, 10, None, 10)]),
    )
    .unwrap();
    let a = &an[0];
    assert!(a.models.is_empty());
    assert_eq!(a.missing, vec!["b".to_string()]);
    assert!(a.note.as_ref().unwrap().contains("no sourced data for b"));
}

#[test]
fn complete_is_pooled_with_mh_and_matches_meta() {
    let mut p = plan(listed(&["a", "b"]), revman_rule());
    p.subgroup_by = Some(("drug".into(), None));
    let an = run(
        &[p],
        &studies(&[("a", "x"), ("b", "y")]),
        &data(&[
            ("a", Some(4), 50, Some(8), 50),
            ("b", Some(10), 100, Some(12), 100),
        ]),
    )
    .unwrap();
    assert_eq!(an.len(), 3, "overall + levels x, y");
    let f = &an[0].models[0].fit;
    let direct = metapipe_meta::mantel_haenszel(
        &[
            metapipe_meta::effect::Binary::new(4., 50., 8., 50.),
            metapipe_meta::effect::Binary::new(10., 100., 12., 100.),
        ],
        Measure::OR,
        0.95,
    )
    .unwrap();
    assert_eq!(f.estimate, direct.estimate);
    let r = results_table(&an).unwrap();
    assert_eq!(
        (
            r.int("events_treat").get(0),
            r.int("n_treat").get(0),
            r.int("events_ctrl").get(0),
            r.int("n_ctrl").get(0)
        ),
        (Some(14), Some(150), Some(20), Some(150))
    );
    assert_eq!(an[1].studies, vec!["a".to_string()]);
    assert_eq!(an[1].subgroup.as_deref(), Some("x"));
    // the test for subgroup differences: Q between the two single-study subgroup estimates
    let b = an[0].between.as_ref().unwrap();
    let (e1, e2) = (&an[1].models[0].fit, &an[2].models[0].fit);
    let w = (1.0 / e1.se.powi(2), 1.0 / e2.se.powi(2));
    let mean = (w.0 * e1.estimate + w.1 * e2.estimate) / (w.0 + w.1);
    let q = w.0 * (e1.estimate - mean).powi(2) + w.1 * (e2.estimate - mean).powi(2);
    assert_eq!(b.tests.len(), 1);
    assert!((b.tests[0].1 - q).abs() < 1e-12 && b.tests[0].2 == 1);
    assert!((r.float("Q_between").get(0).unwrap() - q).abs() < 1e-12);
    assert_eq!(r.str("subgroup_by").get(0), Some("drug"));
}

#[test]
fn plan_order_is_kept_and_unknown_subgroup_column_is_an_error() {
    let p = plan(listed(&["b", "a"]), revman_rule());
    let an = run(
        std::slice::from_ref(&p),
        &studies(&[("a", "x"), ("b", "x")]),
        &data(&[
            ("a", Some(4), 50, Some(8), 50),
            ("b", Some(10), 100, Some(12), 100),
        ]),
    )
    .unwrap();
    assert_eq!(an[0].studies, vec!["b".to_string(), "a".to_string()]);
    let bad = OutcomePlan {
        subgroups: vec![Subgroup {
            column: "nope".into(),
            value: "1".into(),
            name: "n".into(),
        }],
        ..p
    };
    assert!(run(&[bad], &studies(&[("a", "x")]), &data(&[])).is_err());
}

#[test]
fn generic_outcome_on_log_scale_equals_rma_on_the_logs() {
    // hazard ratios with 95% CIs and with SEs of the log; REML with Knapp-Hartung, both models
    let spec = Spec {
        measure: Measure::GEN,
        log_scale: true,
        fixed: Method::FE,
        random: Method::REML,
        choice: Choice::Both,
        convention: crate::Convention::Metafor,
        zeros: metapipe_meta::analysis::Zeros::Escalc,
        opts: Options {
            test: Test::Knha,
            ..Options::default()
        },
        prediction: true,
        study_ci_level: 0.95,
    };
    let rows = [("a", 0.8, 0.1), ("b", 0.6, 0.2), ("c", 1.1, 0.15)];
    let od = generic(
        &rows
            .iter()
            .map(|(id, hr, se)| (*id, *hr, *se))
            .collect::<Vec<_>>(),
    );
    let an = run(
        &[plan(StudySet::All, spec)],
        &studies(&[("a", "x"), ("b", "x"), ("c", "y")]),
        &od,
    )
    .unwrap();
    assert_eq!(an[0].models.len(), 2);
    let yi: Vec<f64> = rows.iter().map(|r| r.1.ln()).collect();
    let vi: Vec<f64> = rows.iter().map(|r| r.2 * r.2).collect();
    let reml = metapipe_meta::model::rma_uni(&yi, &vi, Method::REML, &spec.opts).unwrap();
    let fe = metapipe_meta::model::rma_uni(&yi, &vi, Method::FE, &Options::default()).unwrap();
    let r = results_table(&an).unwrap();
    assert_eq!(r.num_rows(), 2);
    assert_eq!(r.str("model_type").get(0), Some("fixed"));
    assert!((r.float("estimate").get(0).unwrap() - fe.estimate.exp()).abs() < 1e-12);
    assert!((r.float("estimate").get(1).unwrap() - reml.estimate.exp()).abs() < 1e-12);
    assert!((r.float("ci_ub").get(1).unwrap() - reml.ci_ub.exp()).abs() < 1e-12);
    assert!((r.float("pi_lb").get(1).unwrap() - reml.pi_lb.unwrap().exp()).abs() < 1e-12);
    assert_eq!(
        r.str("model").get(1),
        Some("random effects: REML (Knapp-Hartung)")
    );
}

#[test]
fn all_means_every_study_with_a_row_and_unstated_pools_nothing() {
    let st = studies(&[("a", "x"), ("b", "x"), ("c", "x")]);
    let od = data(&[
        ("c", Some(4), 50, Some(8), 50),
        ("a", Some(10), 100, Some(12), 100),
    ]);
    let an = run(&[plan(StudySet::All, revman_rule())], &st, &od).unwrap();
    assert_eq!(
        an[0].studies,
        vec!["a".to_string(), "c".to_string()],
        "studies-table order, only those with a row"
    );
    let an = run(&[plan(StudySet::Unstated, revman_rule())], &st, &od).unwrap();
    assert!(an[0].models.is_empty());
    assert_eq!(an[0].note.as_deref(), Some("not computable: the review does not say which studies it pooled; sourced data exist only for c, a"));
}

/// A mean-difference outcome pools a study that gives arm data with one that gives only its
/// mean difference and SE (`md`, `md_se`): the effects are escalc's MD and (md, md_se²).
#[test]
fn a_mean_difference_with_its_se_pools_beside_arm_data() {
    let mut b = Builder::new(&OUTCOME_DATA);
    for (id, arms, md) in [
        ("a", Some((5.0, 2.0, 4.0, 2.5)), None),
        ("b", None, Some((1.4, 0.6))),
        ("c", Some((6.0, 1.5, 5.5, 1.8)), None),
    ] {
        let g = |k: usize| arms.map(|a: (f64, f64, f64, f64)| [a.0, a.1, a.2, a.3][k]);
        let mut r = vec![
            s(id),
            s("m"),
            i(None),
            i(Some(10)),
            i(None),
            i(Some(10)),
            s("reported"),
            so(None::<String>),
            so(None::<String>),
            so(None::<String>),
            f(g(0)),
            f(g(1)),
            f(g(2)),
            f(g(3)),
        ];
        r.extend((0..4).map(|_| f(None)));
        r.extend([i(None), i(None)]);
        r.extend((0..6).map(|_| f(None)));
        r.extend([
            f(md.map(|m| m.0)),
            f(md.map(|m| m.1)),
            f(None),
            so(None::<String>),
        ]);
        b.row(r);
    }
    let od = b.finish().unwrap();
    let spec = Spec {
        measure: Measure::MD,
        log_scale: false,
        fixed: Method::FE,
        random: Method::REML,
        choice: Choice::Fixed,
        convention: crate::Convention::Metafor,
        zeros: metapipe_meta::analysis::Zeros::Escalc,
        opts: Options::default(),
        prediction: false,
        study_ci_level: 0.95,
    };
    let st = studies(&[("a", "x"), ("b", "x"), ("c", "x")]);
    let an = run(&[plan(StudySet::All, spec)], &st, &od).unwrap();
    let yi = [1.0, 1.4, 0.5];
    let vi = [0.4 + 0.625, 0.36, 0.225 + 0.324];
    let fe = metapipe_meta::model::rma_uni(&yi, &vi, Method::FE, &Options::default()).unwrap();
    assert_eq!(an[0].models[0].fit.k, 3);
    assert!((an[0].models[0].fit.estimate - fe.estimate).abs() < 1e-12);
    // the same study under SMD has no data: a mean difference is not standardized
    let smd = Spec {
        measure: Measure::SMD,
        ..spec
    };
    let an = run(&[plan(StudySet::All, smd)], &st, &od).unwrap();
    assert!(
        an[0].note.as_deref().unwrap_or("").contains("b"),
        "{:?}",
        an[0].note
    );
}
