use super::*;
use metapipe_meta::conversions::SdMethod;

fn tmp(name: &str, body: &str) -> Input {
    Input {
        path: name.into(),
        bytes: body.as_bytes().to_vec(),
    }
}
/// The outcome sheet `oc` fails at its line 2, naming `col` and saying `says`.
fn fails_at(st: &Input, oc: &Input, outs: &[(String, OutcomeKind)], col: &str, says: &str) {
    let e = extract(st, None, oc, &spec(&[], None, outs))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("o.csv:2") && e.contains(col) && e.contains(says),
        "{e}"
    );
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
        conversions: Methods::default(),
        icc: None,
        log_outcomes: &[],
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

/// Reported medians, SEs, CIs and percentages become means, SDs and events, each recorded in
/// `derivation`, the row `derived`; a reported number is never overwritten.
#[test]
fn reported_statistics_are_converted_and_recorded() {
    let st = tmp(
        "s.csv",
        "study_id,label,n_treat,n_ctrl\na,A,50,48\nb,B,30,31\n",
    );
    let oc = tmp(
        "o.csv",
        "study_id,outcome,median_treat,q1_treat,q3_treat,mean_ctrl,se_ctrl,mean_treat,mean_ci_lb_treat,mean_ci_ub_treat,sd_ctrl,source\n\
         a,los,5,4,7,6.1,0.4,,,,,paper\n\
         b,los,,,,5.0,,4.2,3.5,4.9,2.2,paper\n",
    );
    let outs = [("los".to_string(), OutcomeKind::Continuous)];
    let ex = extract(&st, None, &oc, &spec(&[], None, &outs)).unwrap();
    let od = &ex.outcome_data;
    let (mt, sdt, sdc) = (
        od.float("mean_treat"),
        od.float("sd_treat"),
        od.float("sd_ctrl"),
    );
    let w = 0.7 + 0.39 / 50.0;
    let mean = w * (4.0 + 7.0) / 2.0 + (1.0 - w) * 5.0;
    assert!((mt.get(0).unwrap() - mean).abs() < 1e-12);
    // Shi/Wan from the IQR, n 50
    assert!(sdt.get(0).unwrap() > 2.0 && sdt.get(0).unwrap() < 2.5);
    assert!(
        (sdc.get(0).unwrap() - 0.4 * 48f64.sqrt()).abs() < 1e-12,
        "SD from the SE"
    );
    // a reported mean and SD stay as reported; the SD from the CI (t, n 30 < 60)
    assert_eq!(mt.get(1), Some(4.2));
    assert_eq!(sdc.get(1), Some(2.2));
    assert!(sdt.get(1).unwrap() > 1.8 && sdt.get(1).unwrap() < 1.95);
    assert_eq!(od.str("status").get(0), Some("derived"));
    let d = od.str("derivation");
    assert!(d.get(0).unwrap().contains("mean_treat = ") && d.get(0).unwrap().contains("luo2018"));
    assert!(d.get(0).unwrap().contains("sd_ctrl = ") && d.get(0).unwrap().contains("SE"));
    assert!(
        !d.get(1).unwrap().contains("mean_treat"),
        "a reported mean is not derived"
    );
}

/// `sd_from_median = "wan2014_tables"`: Wan et al.'s own Table 1 (ξ(10) = 3.078) and Table 2
/// (n 50 read at Q = 13: η = 1.313), recorded as such in the derivation.
#[test]
fn wan_2014_tables_give_the_papers_divisors() {
    let st = tmp("s.csv", "study_id,label,n_treat,n_ctrl\na,A,50,10\n");
    let oc = tmp(
        "o.csv",
        "study_id,outcome,median_treat,q1_treat,q3_treat,median_ctrl,min_ctrl,max_ctrl,source\n\
         a,los,5,4,7,6,2,10,paper\n",
    );
    let outs = [("los".to_string(), OutcomeKind::Continuous)];
    let mut sp = spec(&[], None, &outs);
    sp.conversions.sd = SdMethod::parse("wan2014_tables").unwrap();
    let ex = extract(&st, None, &oc, &sp).unwrap();
    let od = &ex.outcome_data;
    assert!((od.float("sd_treat").get(0).unwrap() - 3.0 / 1.313).abs() < 1e-12);
    assert!((od.float("sd_ctrl").get(0).unwrap() - 8.0 / 3.078).abs() < 1e-12);
    assert!(od
        .str("derivation")
        .get(0)
        .unwrap()
        .contains("wan2014_tables"));
}

/// Each impossible reported statistic is an error at its file, line and column.
#[test]
fn impossible_reported_statistics_name_file_line_and_column() {
    let st = tmp("s.csv", "study_id,label\na,A\n");
    let outs = [("los".to_string(), OutcomeKind::Continuous)];
    for (header, row, col, says) in [
        (
            "median_treat,q1_treat,q3_treat",
            "5,4,7",
            "n_treat",
            "needs its group size",
        ),
        (
            "median_treat,q1_treat,q3_treat,n_treat",
            "5,6,7,20",
            "median_treat",
            "does not surround",
        ),
        (
            "mean_treat,mean_ci_lb_treat,mean_ci_ub_treat,n_treat",
            "9,1,3,20",
            "mean_ci_lb_treat",
            "does not contain the mean",
        ),
        (
            "mean_ci_lb_treat,mean_ci_ub_treat,n_treat",
            "3,1,20",
            "mean_ci_lb_treat",
            "no width",
        ),
        (
            "mean_treat,mean_ci_lb_treat,n_treat",
            "2,1,20",
            "mean_ci_ub_treat",
            "both its limits",
        ),
        ("se_treat,n_treat", "-1,20", "se_treat", "must be > 0"),
    ] {
        let oc = tmp(
            "o.csv",
            &format!("study_id,outcome,{header}\na,los,{row}\n"),
        );
        fails_at(&st, &oc, &outs, col, says);
    }
}

/// A study's mean difference with its CI, t or p gives its SE (Handbook 6.5.2.3), recorded;
/// an md without what its SE needs is an error at its column.
#[test]
fn a_mean_difference_gets_its_se_from_its_ci_t_or_p() {
    let st = tmp(
        "s.csv",
        "study_id,label,n_treat,n_ctrl\na,A,25,25\nb,B,30,32\nc,C,40,40\n",
    );
    let oc = tmp(
        "o.csv",
        "study_id,outcome,md,md_ci_lb,md_ci_ub,md_t,md_p,source\n\
         a,los,-2.4,-4.1,-0.7,,,paper\n\
         b,los,-2.4,,,-2.9,,paper\n\
         c,los,-2.4,,,,0.013,paper\n",
    );
    let outs = [("los".to_string(), OutcomeKind::Continuous)];
    let ex = extract(&st, None, &oc, &spec(&[], None, &outs)).unwrap();
    let se = ex.outcome_data.float("md_se");
    assert!((se.get(1).unwrap() - 2.4 / 2.9).abs() < 1e-12);
    assert!(
        se.get(0).unwrap() > 0.8 && se.get(0).unwrap() < 0.9,
        "t with 48 df"
    );
    assert!(se.get(2).unwrap() > 0.9, "{:?}", se.get(2));
    let d = ex.outcome_data.str("derivation");
    assert!(d.get(2).unwrap().contains("md_se = ") && d.get(2).unwrap().contains("p 0.013"));
    assert_eq!(ex.outcome_data.str("status").get(0), Some("derived"));
    // an md alone has no SE; a CI not containing it; a p of 1
    for (cells, col, says) in [
        ("-2.4,,,,", "md_se", "required value is empty"),
        (
            "-2.4,0.5,1.5,,",
            "md_ci_lb",
            "does not contain the difference",
        ),
        ("-2.4,,,,1", "md_p", "0 < p < 1"),
    ] {
        let oc = tmp("o.csv", &format!("study_id,outcome,md,md_ci_lb,md_ci_ub,md_t,md_p,status,source\na,los,{cells},reported,paper\n"));
        fails_at(&st, &oc, &outs, col, says);
    }
}

/// Cluster-randomised trials enter with their effective sample sizes: sizes and events divided
/// by the design effect 1 + (m - 1) ICC (Handbook 23.1.4), the ICC the row's or the review's.
#[test]
fn cluster_trials_enter_with_effective_sizes() {
    let st = tmp(
        "s.csv",
        "study_id,label,n_treat,n_ctrl\na,A,145,290\nb,B,145,145\n",
    );
    let oc = tmp(
        "o.csv",
        "study_id,outcome,events_treat,events_ctrl,cluster_size,icc,icc_source,source\n\
         a,death,29,58,10,0.05,Smith 2020 table 2,paper\n\
         b,death,29,30,10,,,paper\n",
    );
    let outs = [("death".to_string(), OutcomeKind::Binary)];
    let mut sp = spec(&[], None, &outs);
    sp.icc = Some((0.1, "review protocol".into()));
    let ex = extract(&st, None, &oc, &sp).unwrap();
    let od = &ex.outcome_data;
    // DE 1.45: 145 -> 100, 29 -> 20, 290 -> 200, 58 -> 40
    assert_eq!(
        [
            od.int("n_treat").get(0),
            od.int("events_treat").get(0),
            od.int("n_ctrl").get(0),
            od.int("events_ctrl").get(0)
        ],
        [Some(100), Some(20), Some(200), Some(40)]
    );
    // the review's ICC 0.1: DE 1.9; 145 / 1.9 = 76.3 -> 76, 29 / 1.9 = 15.3 -> 15
    assert_eq!(od.int("n_treat").get(1), Some(76));
    assert_eq!(od.int("events_treat").get(1), Some(15));
    let d = od.str("derivation");
    assert!(
        d.get(0).unwrap().contains("design effect 1.45")
            && d.get(0).unwrap().contains("Smith 2020")
    );
    assert!(d.get(1).unwrap().contains("(the review's)"));
    // an ICC without its source; a cluster row with no ICC anywhere; an ICC above 1
    for (cells, col, says) in [
        ("29,58,10,0.05,", "icc_source", "needs its source"),
        ("29,58,10,,", "icc", "needs an ICC"),
        ("29,58,10,1.5,x", "icc", "within 0 to 1"),
    ] {
        let oc = tmp("o.csv", &format!("study_id,outcome,events_treat,events_ctrl,cluster_size,icc,icc_source\na,death,{cells}\n"));
        fails_at(&st, &oc, &outs, col, says);
    }
}

/// Crossover trials: the paired difference from the within-participant differences, or from the
/// periods' means and SDs with the within-participant correlation (Handbook 23.2, crossover
/// trials).
#[test]
fn crossover_trials_give_a_paired_difference() {
    let st = tmp(
        "s.csv",
        "study_id,label,n_treat,n_ctrl\na,A,16,16\nb,B,16,16\n",
    );
    let oc = tmp(
        "o.csv",
        "study_id,outcome,md,sd_diff,mean_treat,sd_treat,mean_ctrl,sd_ctrl,corr,source\n\
         a,fev,0.3,0.4,,,,,,paper\n\
         b,fev,,,2.5,0.6,2.1,0.5,0.7,paper\n",
    );
    let outs = [("fev".to_string(), OutcomeKind::Continuous)];
    let ex = extract(&st, None, &oc, &spec(&[], None, &outs)).unwrap();
    let od = &ex.outcome_data;
    assert_eq!(od.float("md_se").get(0), Some(0.1));
    let want = ((0.36 + 0.25 - 2.0 * 0.7 * 0.6 * 0.5) / 16f64).sqrt();
    assert!((od.float("md_se").get(1).unwrap() - want).abs() < 1e-12);
    assert!((od.float("md").get(1).unwrap() - 0.4).abs() < 1e-12);
    assert!(od.str("derivation").get(1).unwrap().contains("paired"));
    // the periods' means stay as reported
    assert_eq!(od.float("mean_treat").get(1), Some(2.5));
    let bad = tmp("o.csv", "study_id,outcome,mean_treat,corr\na,fev,2.5,0.7\n");
    fails_at(&st, &bad, &outs, "corr", "both periods");
}

/// The Handbook's crossover example (version 5.1, 16.4.6.4; chapter 23.2 in version 6): 10
/// participants, period means 7.0 (SD 2.38) and 6.5 (SD 2.21); MD 0.5 with an imputed SD of the
/// differences of 2 has SE 0.632, with an imputed correlation of 0.68 SE 0.583 — to the
/// Handbook's printed digits.
#[test]
fn crossover_handbook_example() {
    let st = tmp(
        "s.csv",
        "study_id,label,n_treat,n_ctrl\na,A,10,10\nb,B,10,10\n",
    );
    let oc = tmp(
        "o.csv",
        "study_id,outcome,md,sd_diff,mean_treat,sd_treat,mean_ctrl,sd_ctrl,corr,source\n\
         a,y,0.5,2,,,,,,Handbook 16.4.6.4\n\
         b,y,,,7.0,2.38,6.5,2.21,0.68,Handbook 16.4.6.4\n",
    );
    let outs = [("y".to_string(), OutcomeKind::Continuous)];
    let ex = extract(&st, None, &oc, &spec(&[], None, &outs)).unwrap();
    let se = ex.outcome_data.float("md_se");
    assert_eq!(format!("{:.3}", se.get(0).unwrap()), "0.632");
    assert_eq!(format!("{:.3}", se.get(1).unwrap()), "0.583");
    assert_eq!(
        format!("{:.1}", ex.outcome_data.float("md").get(1).unwrap()),
        "0.5"
    );
}

/// A multi-arm trial's arms are merged group by group (Handbook 6.5.2.10): events and sizes
/// summed; means and SDs combined so that they equal the mean and SD of the arms' pooled
/// participants (checked here on raw data).
#[test]
fn multi_arm_trials_merge_their_arms() {
    let sd = |x: &[f64]| {
        let m = x.iter().sum::<f64>() / x.len() as f64;
        (
            m,
            (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() as f64 - 1.0)).sqrt(),
        )
    };
    let (low, high, ctrl) = (
        [3.0, 4.0, 6.0, 7.0, 9.0],
        [5.0, 8.0, 8.0, 11.0],
        [2.0, 3.0, 5.0, 6.0],
    );
    let ((m1, s1), (m2, s2), (mc, sc)) = (sd(&low), sd(&high), sd(&ctrl));
    let both: Vec<f64> = low.iter().chain(&high).copied().collect();
    let (mb, sb) = sd(&both);
    let st = tmp("s.csv", "study_id,label,n_treat,n_ctrl\nt,T,9,4\n");
    let oc = tmp(
        "o.csv",
        &format!(
            "study_id,outcome,arm,mean_treat,sd_treat,n_treat,mean_ctrl,sd_ctrl,n_ctrl,events_treat,events_ctrl,source\n\
             t,pain,low dose,{m1},{s1},5,{mc},{sc},4,,,paper A\n\
             t,pain,high dose,{m2},{s2},4,,,,,,paper B\n\
             t,death,low dose,,,20,,,25,3,4,paper\n\
             t,death,high dose,,,19,,,,2,,paper\n"
        ),
    );
    let outs = [
        ("pain".to_string(), OutcomeKind::Continuous),
        ("death".to_string(), OutcomeKind::Binary),
    ];
    let ex = extract(&st, None, &oc, &spec(&[], None, &outs)).unwrap();
    let od = &ex.outcome_data;
    assert_eq!(od.num_rows(), 2, "one row per study and outcome");
    assert!((od.float("mean_treat").get(0).unwrap() - mb).abs() < 1e-12);
    assert!((od.float("sd_treat").get(0).unwrap() - sb).abs() < 1e-12);
    assert_eq!(od.int("n_treat").get(0), Some(9));
    assert_eq!(od.float("mean_ctrl").get(0), Some(mc));
    assert_eq!(
        [
            od.int("events_treat").get(1),
            od.int("n_treat").get(1),
            od.int("events_ctrl").get(1),
            od.int("n_ctrl").get(1)
        ],
        [Some(5), Some(39), Some(4), Some(25)]
    );
    assert_eq!(od.str("status").get(0), Some("derived"));
    assert!(od
        .str("derivation")
        .get(0)
        .unwrap()
        .contains("treat: arms low dose + high dose combined"));
    assert_eq!(od.str("source").get(0), Some("paper A; paper B"));
    // an arm row without its own size; a second row without arm; a generic outcome's arms
    let bad = tmp("o.csv", "study_id,outcome,arm,events_treat,n_treat,events_ctrl,n_ctrl\nt,death,a,1,10,2,10\nt,death,b,1,,,\n");
    let e = extract(&st, None, &bad, &spec(&[], None, &outs))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("o.csv:3") && e.contains("n_treat") && e.contains("its own"),
        "{e}"
    );
    let dup = tmp(
        "o.csv",
        "study_id,outcome,events_treat,events_ctrl\nt,death,1,2\nt,death,1,2\n",
    );
    let e = extract(&st, None, &dup, &spec(&[], None, &outs))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("o.csv:3") && e.contains("already given on line 2"),
        "{e}"
    );
}

/// A control group shared by two comparisons is split between them (Handbook 23.3.4).
#[test]
fn a_shared_control_is_split() {
    let st = tmp("s.csv", "study_id,label,n_treat,n_ctrl\nt,T,40,50\n");
    let oc = tmp(
        "o.csv",
        "study_id,outcome,events_treat,events_ctrl,split_ctrl,source\nt,death,6,9,2,paper\n",
    );
    let outs = [("death".to_string(), OutcomeKind::Binary)];
    let ex = extract(&st, None, &oc, &spec(&[], None, &outs)).unwrap();
    let od = &ex.outcome_data;
    assert_eq!(
        [od.int("events_ctrl").get(0), od.int("n_ctrl").get(0)],
        [Some(4), Some(25)]
    );
    assert_eq!(od.int("n_treat").get(0), Some(40));
    assert!(od.str("derivation").get(0).unwrap().contains("shared by 2"));
    let bad = tmp(
        "o.csv",
        "study_id,outcome,events_treat,events_ctrl,split_ctrl\nt,death,6,9,1\n",
    );
    fails_at(&st, &bad, &outs, "split_ctrl", "2 or more");
}

/// A generic estimate with only its p-value gets its SE (Handbook 6.3.2), on the log scale for
/// a ratio outcome.
#[test]
fn a_generic_estimate_gets_its_se_from_its_p_value() {
    let st = tmp("s.csv", "study_id,label\na,A\nb,B\n");
    let oc = tmp(
        "o.csv",
        "study_id,outcome,estimate,estimate_p,source\na,hr,0.7,0.03,paper\nb,diff,-1.2,0.2,paper\n",
    );
    let outs = [
        ("hr".to_string(), OutcomeKind::Generic),
        ("diff".to_string(), OutcomeKind::Generic),
    ];
    let mut sp = spec(&[], None, &outs);
    let logs = ["hr".to_string()];
    sp.log_outcomes = &logs;
    let ex = extract(&st, None, &oc, &sp).unwrap();
    let se = ex.outcome_data.float("se");
    let z = |p: f64| metapipe_meta::dist::qnorm_two_sided(1.0 - p);
    assert!((se.get(0).unwrap() - 0.7f64.ln().abs() / z(0.03)).abs() < 1e-12);
    assert!((se.get(1).unwrap() - 1.2 / z(0.2)).abs() < 1e-12);
    assert!(ex
        .outcome_data
        .str("derivation")
        .get(0)
        .unwrap()
        .contains("SE of the log from p 0.03"));
    let bad = tmp(
        "o.csv",
        "study_id,outcome,estimate,estimate_p\na,hr,0.7,1.5\n",
    );
    fails_at(&st, &bad, &outs, "estimate_p", "0 < p < 1");
}
