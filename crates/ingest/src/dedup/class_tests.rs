//! The duplicate classes of issue 29, each written from its description (synthetic records, not
//! taken from any benchmark): what should merge, and the nearest case that should not.

use super::tests::{n_clusters, rec};
use super::*;

fn with_issue(mut r: Record, issue: &str) -> Record {
    r.issue = Some(issue.into()).filter(|v: &String| !v.is_empty());
    r
}

fn with_authors(mut r: Record, authors: &[&str]) -> Record {
    r.authors = authors.iter().map(|a| a.to_string()).collect();
    r
}

#[test]
fn a_number_field_that_is_not_an_issue_number_does_not_block() {
    // an EndNote-style export whose `number` is the library's record number: three copies of
    // one article (one title cut at its subtitle, one under its translated title), numbers
    // 735, 736 and 738, the same authors, year, volume and pages
    let base = rec(
        "a:1",
        "Perioperative anakinra in cardiac surgery: a randomised trial",
        "Meyer, T",
        2011,
        "Journal of Cardiac Surgery",
        "26",
        "312-318",
        "",
    );
    let full = with_issue(base.clone(), "735");
    let cut = with_issue(
        Record {
            record_id: "b:1".into(),
            title: Some("Perioperative anakinra in cardiac surgery".into()),
            ..base.clone()
        },
        "736",
    );
    let de = with_issue(
        Record {
            record_id: "c:1".into(),
            title: Some("Perioperatives Anakinra in der Herzchirurgie".into()),
            ..base.clone()
        },
        "738",
    );
    assert_eq!(n_clusters(&[full.clone(), cut.clone(), de.clone()]), 1);
    // the same numbers where the pages do not place the two copies: kept apart, as a recurring
    // column in consecutive issues is
    let nowhere = |r: Record| Record { pages: None, ..r };
    assert_eq!(n_clusters(&[nowhere(full), nowhere(cut)]), 2);
}

#[test]
fn translated_titles_merge_on_the_same_place() {
    // MEDLINE's bracketed English translation against the original French title; the journal
    // abbreviated in one copy and spelt out, mis-encoded, in the other
    let medline = with_authors(
        rec(
            "pubmed:1",
            "[Comparison of amoxicillin and cefamandole in the prophylaxis of infection after cardiac surgery].",
            "",
            1989,
            "Ann Fr Anesth Reanim",
            "8",
            "11-6",
            "",
        ),
        &["Dupont, P", "Martin, J"],
    );
    let embase = with_authors(
        rec(
            "embase:1",
            "Comparaison de l'amoxicilline et du cefamandole dans la prophylaxie de l'infection apres chirurgie cardiaque",
            "",
            1989,
            "Annales fran?aises d'anesth?sie et de r?animation",
            "8",
            "11-16",
            "",
        ),
        &["Dupont, P.", "Martin, J."],
    );
    assert_eq!(n_clusters(&[medline.clone(), embase.clone()]), 1);
    // the same place in another journal is another article
    let elsewhere = Record {
        journal: Some("Acta Anaesthesiologica Belgica".into()),
        ..embase
    };
    assert_eq!(n_clusters(&[medline, elsewhere]), 2);
    // a German title and its English translation sharing the DOI, journal, volume, issue and
    // (one) page, by different transliterations of the author
    let doi = "10.1055/s-0031-1234567";
    let de = with_issue(
        rec(
            "a:2",
            "Ergebnisse der Nierentransplantation bei Kindern",
            "Mueller, K",
            2013,
            "Dtsch Med Wochenschr",
            "138",
            "e17",
            doi,
        ),
        "4",
    );
    let en = with_issue(
        rec(
            "b:2",
            "Outcomes of kidney transplantation in children",
            "Muller, K.",
            2013,
            "Deutsche Medizinische Wochenschrift",
            "138",
            "e17",
            doi,
        ),
        "4",
    );
    assert_eq!(n_clusters(&[de.clone(), en.clone()]), 1);
    // the same DOI at another page (an erratum indexed under its article's DOI) stays apart
    let other_page = Record {
        pages: Some("e1042".into()),
        ..en
    };
    assert_eq!(n_clusters(&[de, other_page]), 2);
}

#[test]
fn authors_in_another_order_or_with_full_names_are_the_same_people() {
    let title = "Platform openness and the growth of third-party software ecosystems";
    let a = with_authors(
        rec(
            "a:1",
            title,
            "",
            2020,
            "Information Systems Research",
            "31",
            "",
            "",
        ),
        &["Hong, Yili", "Zheng, Alvin Zuyin"],
    );
    let b = with_authors(
        rec("b:1", title, "", 2020, "Inf Syst Res", "", "", ""),
        &["Zheng, A.Z.", "Hong, Y."],
    );
    assert_eq!(n_clusters(&[a.clone(), b.clone()]), 1);
    // the same title by another team in the same year (a common topic phrase) stays apart
    let other = with_authors(b, &["Zheng, A.Z.", "Li, K."]);
    assert_eq!(n_clusters(&[a, other]), 2);
}

#[test]
fn a_preprint_and_its_journal_version_stay_apart_unless_a_person_merges_them() {
    // the project's convention (docs/dedup.md): two DOIs are two reports; the same title and
    // authors a year apart on a preprint server and in a journal are left to a person
    let title = "Anakinra for severe COVID-19 pneumonia: a cohort study";
    let pre = with_authors(
        rec(
            "a:1",
            title,
            "",
            2020,
            "medRxiv",
            "",
            "",
            "10.1101/2020.05.01.20087999",
        ),
        &["Cavalli, G", "De Luca, G"],
    );
    let art = with_authors(
        rec(
            "b:1",
            title,
            "",
            2021,
            "Lancet Rheumatol",
            "2",
            "e325-e331",
            "10.1016/S2665-9913(20)30127-2",
        ),
        &["Cavalli, G", "De Luca, G"],
    );
    let d = dedup(
        &[pre.clone(), art.clone()],
        |_| 0,
        &[],
        &Thresholds::default(),
    );
    assert_eq!(d.clusters.len(), 2);
    let human = [HumanDecision {
        record_a: "a:1".into(),
        record_b: "b:1".into(),
        duplicate: true,
    }];
    assert_eq!(
        dedup(&[pre, art], |_| 0, &human, &Thresholds::default())
            .clusters
            .len(),
        1
    );
}
