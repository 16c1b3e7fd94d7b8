use super::*;

fn tmp(name: &str, body: &str) -> Input {
    Input {
        path: name.into(),
        bytes: body.as_bytes().to_vec(),
    }
}
fn spec<'a>(
    cov: &'a [Covariate],
    factor: Option<&'a str>,
    outcomes: &'a [(String, OutcomeKind)],
) -> Spec<'a> {
    Spec {
        covariates: cov,
        comparison_factor: factor,
        outcomes,
    }
}

#[test]
fn factorial_margins_from_arms() {
    let st = tmp("s1.csv", "study_id,label,n_treat,n_ctrl\nf2x2,F,,\n");
    let ar = tmp("a1.csv", "study_id,arm,drug_a,drug_b,n\nf2x2,a,a,none,43\nf2x2,a + b,a,b,32\nf2x2,a + c,a,c,37\nf2x2,b,none,b,82\nf2x2,c,none,c,76\nf2x2,usual care,none,none,72\n");
    let oc = tmp(
        "o1.csv",
        "study_id,outcome,events_treat,events_ctrl\nf2x2,death,1,2\n",
    );
    let outs = [("death".to_string(), OutcomeKind::Binary)];
    let ex = extract(&st, Some(&ar), &oc, &spec(&[], Some("drug_a"), &outs)).unwrap();
    assert_eq!(
        (
            ex.studies.int("n_treat").get(0),
            ex.studies.int("n_ctrl").get(0)
        ),
        (Some(112), Some(230))
    );
    assert_eq!(
        ex.studies.str("n_source").get(0),
        Some(
            "derived from arms along drug_a: treat = a + a + b + a + c; ctrl = b + c + usual care"
        )
    );
    let m = factor_margins(&ex.arms).unwrap();
    let b = metapipe_tables::frame::rows_equal(&m, "factor", "drug_b").unwrap();
    assert_eq!(
        (
            b.column("treat").unwrap().i64().unwrap().get(0),
            b.column("ctrl").unwrap().i64().unwrap().get(0)
        ),
        (Some(227), Some(115))
    );
    // denominators default to the derived arm sizes
    assert_eq!(ex.outcome_data.int("n_treat").get(0), Some(112));
}

#[test]
fn covariates_are_typed_columns() {
    let st = tmp(
        "s.csv",
        "study_id,label,latitude,alloc,blinded\na,A,44,random,yes\nb,B,,systematic,no\n",
    );
    let cov = [
        Covariate {
            name: "latitude".into(),
            kind: CovKind::Number,
        },
        Covariate {
            name: "alloc".into(),
            kind: CovKind::Text,
        },
        Covariate {
            name: "blinded".into(),
            kind: CovKind::YesNo,
        },
    ];
    let oc = tmp("o.csv", "study_id,outcome,estimate,se\na,y,0.1,0.2\n");
    let outs = [("y".to_string(), OutcomeKind::Generic)];
    let ex = extract(&st, None, &oc, &spec(&cov, None, &outs)).unwrap();
    assert_eq!(
        ex.studies
            .df
            .column("latitude")
            .unwrap()
            .f64()
            .unwrap()
            .get(1),
        None
    );
    assert_eq!(
        ex.studies
            .df
            .column("blinded")
            .unwrap()
            .bool()
            .unwrap()
            .get(0),
        Some(true)
    );
    assert_eq!(ex.studies.extra_columns().len(), 3);
    let bad = tmp(
        "s.csv",
        "study_id,label,latitude,alloc,blinded\na,A,north,random,yes\n",
    );
    let e = extract(&bad, None, &oc, &spec(&cov, None, &outs)).unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (Some(2), Some("latitude")));
}

#[test]
fn bad_rows_are_named_by_file_line_and_field() {
    let st = tmp("s2.csv", "study_id,label,n_treat,n_ctrl\nx,X,10,10\n");
    let outs = [
        ("mortality".to_string(), OutcomeKind::Binary),
        ("los".to_string(), OutcomeKind::Continuous),
        ("hr".to_string(), OutcomeKind::Generic),
    ];
    let cases = [
            ("study_id,outcome,events_treat,n_treat,events_ctrl,n_ctrl,status,source_url\nx,mortality,11,10,1,10,reported,http://x\n", 2, "events_treat"),
            ("study_id,outcome,mean_treat,sd_treat,mean_ctrl,sd_ctrl\nx,los,5,-1,6,2\n", 2, "sd_treat"),
            ("study_id,outcome,mean_treat,sd_treat,mean_ctrl\nx,los,5,1,6\n", 2, "sd_ctrl"),
            ("study_id,outcome,estimate,ci_lb,ci_ub\nx,hr,0.5,0.6,0.9\n", 2, "ci_lb"),
            ("study_id,outcome,estimate\nx,hr,0.5\n", 2, "se"),
            ("study_id,outcome,events_treat,events_ctrl\nx,nope,1,1\n", 2, "outcome"),
            ("study_id,outcome,events_treat,events_ctrl\nx,mortality,1,1\nx,mortality,2,2\n", 3, "outcome"),
            ("study_id,outcome,events_treat,events_ctrl,status\nx,mortality,1,1,reported\n", 2, "source_url"),
        ];
    for (body, line, field) in cases {
        let e = extract(&st, None, &tmp("o2.csv", body), &spec(&[], None, &outs)).unwrap_err();
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(line), Some(field)),
            "{body}: {e}"
        );
        assert_eq!(e.file.as_deref(), Some(std::path::Path::new("o2.csv")));
    }
}

#[test]
fn status_is_inferred_when_absent() {
    let st = tmp("s.csv", "study_id,label\na,A\nb,B\n");
    let outs = [("los".to_string(), OutcomeKind::Continuous)];
    let oc = tmp("o.csv", "study_id,outcome,mean_treat,sd_treat,n_treat,mean_ctrl,sd_ctrl,n_ctrl\na,los,5,1,10,6,2,11\nb,los,,,,,,\n");
    let ex = extract(&st, None, &oc, &spec(&[], None, &outs)).unwrap();
    assert_eq!(
        ex.outcome_data
            .str("status")
            .iter()
            .flatten()
            .collect::<Vec<_>>(),
        vec!["reported", "missing"]
    );
}
