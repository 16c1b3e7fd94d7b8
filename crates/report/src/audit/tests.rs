use super::*;

#[test]
fn parses_published_or() {
    assert_eq!(
        parse_or("0.83 (0.57-1.22) I2 18%"),
        Some((0.83, 0.57, 1.22, Some(18.0)))
    );
    assert_eq!(
        parse_or("-1.5 (-2.1 to -0.9)"),
        Some((-1.5, -2.1, -0.9, None))
    );
    assert_eq!(parse_or("0.49 (0.34-0.70)"), Some((0.49, 0.34, 0.70, None)));
}

#[test]
fn clinical_recovery_ci_is_not_log_symmetric() {
    assert!(!log_symmetric_possible(1.40, 0.64, 3.47, 2));
    assert!(log_symmetric_possible(1.40, 0.64, 3.06, 2));
    assert!(log_symmetric_possible(0.83, 0.57, 1.22, 2));
}

#[test]
fn control_rate_impossible_with_766() {
    assert!(counts_for_percent(10.5, 766, 1).is_empty());
    assert_eq!(counts_for_percent(10.5, 732, 1), vec![77]);
    assert_eq!(counts_for_percent(7.7, 884, 1), vec![68]);
}

#[test]
fn references_parse() {
    assert_eq!(
        parse_ref("studies.n_treat+n_ctrl"),
        Some(("studies", vec!["n_treat", "n_ctrl"], vec![]))
    );
    assert_eq!(
        parse_ref("studies.n_treat[region=north]"),
        Some(("studies", vec!["n_treat"], vec![("region", "north")]))
    );
    assert_eq!(
        parse_ref("outcome_data.events_ctrl/n_ctrl[study_id=x,outcome=m]"),
        Some((
            "outcome_data",
            vec!["events_ctrl", "n_ctrl"],
            vec![("study_id", "x"), ("outcome", "m")]
        ))
    );
    assert_eq!(parse_ref("nodot"), None);
}
