//! `metapipe screen-sim`: the figures on a tiny set computed by hand, the same order for the same
//! seed, and bad input refused at its line.

mod common;
use common::*;

/// 20 records, 4 relevant (rows 3, 8, 13, 18: the same trial wording), 16 irrelevant (each its
/// own wording). SYNTHETIC.
fn dataset(dir: &std::path::Path) -> std::path::PathBuf {
    let mut text = String::from("record_id,title,abstract,label_included\n");
    for i in 1..=20 {
        if i % 5 == 3 {
            text.push_str(&format!("{i},Aspirin after myocardial infarction,randomised placebo-controlled trial of aspirin,1\n"));
        } else {
            text.push_str(&format!(
                "{i},Cohort {i} of diet and sleep,observational follow-up number {i} of habits,0\n"
            ));
        }
    }
    let p = dir.join("tiny.csv");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn the_figures_of_a_tiny_review_are_the_hand_computed_ones() {
    let d = tmpdir("mp-screen-sim", "tiny");
    let data = dataset(&d);
    let o = metapipe(
        &d,
        &[
            "screen-sim",
            data.to_str().unwrap(),
            "--seed",
            "3",
            "--format",
            "json",
            "--order",
            "a.csv",
        ],
    );
    ok(&o);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["records"], 20);
    assert_eq!(j["relevant"], 4);
    // the priors (one relevant, one not), then the three other relevant records, which share
    // the prior's wording: 95% of 4 is 3.8, so all 4, found after 5 records:
    // WSS@95 = (20 − 5) / 20 − 0.05 = 0.70; 10% of 20 = 2 records, the priors: recall 1/4
    assert!((j["wss95"].as_f64().unwrap() - 0.70).abs() < 1e-12, "{j}");
    assert!(
        (j["recall_at_10"].as_f64().unwrap() - 0.25).abs() < 1e-12,
        "{j}"
    );
    let order = std::fs::read_to_string(d.join("a.csv")).unwrap();
    let labels: Vec<&str> = order
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(&labels[..5], &["1", "0", "1", "1", "1"]);
    // the same seed, the same order; another seed, other priors
    ok(&metapipe(
        &d,
        &[
            "screen-sim",
            data.to_str().unwrap(),
            "--seed",
            "3",
            "--order",
            "b.csv",
        ],
    ));
    assert_eq!(order, std::fs::read_to_string(d.join("b.csv")).unwrap());
    ok(&metapipe(
        &d,
        &[
            "screen-sim",
            data.to_str().unwrap(),
            "--seed",
            "4",
            "--order",
            "c.csv",
        ],
    ));
    assert_ne!(order, std::fs::read_to_string(d.join("c.csv")).unwrap());
}

#[test]
fn a_label_that_is_not_0_or_1_is_refused_at_its_line() {
    let d = tmpdir("mp-screen-sim", "bad");
    let data = dataset(&d);
    let text = std::fs::read_to_string(&data).unwrap().replace(
        "5,Cohort 5 of diet and sleep,observational follow-up number 5 of habits,0",
        "5,Cohort 5,x,yes",
    );
    std::fs::write(&data, text).unwrap();
    let o = metapipe(&d, &["screen-sim", data.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("tiny.csv:6") && err.contains("label_included"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
}
