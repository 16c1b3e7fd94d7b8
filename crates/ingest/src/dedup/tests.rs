use super::*;
use crate::normalize as norm;

pub(super) fn rec(
    id: &str,
    title: &str,
    au: &str,
    year: i64,
    journal: &str,
    vol: &str,
    pages: &str,
    doi: &str,
) -> Record {
    Record {
        record_id: id.into(),
        title: Some(title.into()),
        authors: vec![au.into()],
        year: Some(year),
        journal: Some(journal.into()),
        volume: Some(vol.into()).filter(|v: &String| !v.is_empty()),
        pages: Some(pages.into()).filter(|v: &String| !v.is_empty()),
        doi: Some(doi.into()).filter(|v: &String| !v.is_empty()),
        ..Default::default()
    }
}

#[test]
fn variants_of_one_paper_merge() {
    let r = vec![
            rec(
                "a:1",
                "Effect of anti-interleukin drugs (COV-AID): a factorial, randomised, controlled trial.",
                "Declercq J",
                2021,
                "Lancet Respir Med",
                "9",
                "1427-38",
                "10.1016/S2213-2600(21)00377-5",
            ),
            rec("b:1", "EFFECT OF ANTI-INTERLEUKIN DRUGS (COV-AID). A FACTORIAL, RANDOMISED, CONTROLLED TRIAL", "Declercq, J", 2021, "LANCET RESPIRATORY MEDICINE", "9", "1427-1438", ""),
            rec(
                "c:1",
                "Effect of anti-interleukin drugs (COV-AID): a factorial, randomised, controlled trial",
                "J. Declercq",
                2021,
                "The Lancet Respiratory Medicine",
                "9",
                "1427",
                "https://doi.org/10.1016/s2213-2600(21)00377-5",
            ),
        ];
    let d = dedup(&r, |_| 0, &[], &Thresholds::default());
    assert_eq!(d.clusters.len(), 1);
}

#[test]
fn numbered_titles_stay_apart() {
    let r = vec![
        rec(
            "a:1",
            "Synthetic record 012: colchicine in patients with COVID-19, a case series",
            "Synthetic A",
            2021,
            "Synth J Med",
            "3",
            "10-20",
            "",
        ),
        rec(
            "a:2",
            "Synthetic record 013: colchicine in patients with COVID-19, a case series",
            "Synthetic A",
            2021,
            "Synth J Med",
            "3",
            "31-40",
            "",
        ),
    ];
    let d = dedup(&r, |_| 0, &[], &Thresholds::default());
    assert_eq!(d.clusters.len(), 2);
}

#[test]
fn same_locus_and_author_outweigh_a_title_typo() {
    let r = vec![
            rec(
                "a:1",
                "p6INK4a expression does not predict the outcome of cervical intraepithelial neoplasia grade 1",
                "Guedes, A C",
                2007,
                "International Journal of Gynecological Cancer",
                "17",
                "1099-1103",
                "",
            ),
            rec("b:1", "p16(INK4a) Expression does not predict the outcome of cervical intraepithelial neoplasia grade 1", "Guedes AC", 2007, "Int J Gynecol Cancer", "17", "1099-103", ""),
        ];
    assert_eq!(
        dedup(&r, |_| 0, &[], &Thresholds::default()).clusters.len(),
        1
    );
}

#[test]
fn meeting_abstract_before_the_article_merges_but_a_later_erratum_does_not() {
    let article = rec("a:1", "Perinatal asphyxia may present with features of neonatal atypical hemolytic uremic syndrome", "Biran, V.", 2007, "Pediatric Nephrology", "22", "2129-2132", "");
    let abstract_ = rec("a:2", "Perinatal asphyxia may present with features of neonatal atypical hemolytic uremic syndrome", "Biran, V.", 2007, "Pediatric Nephrology", "22", "1514", "");
    let erratum = rec("a:3", "Perinatal asphyxia may present with features of neonatal atypical hemolytic uremic syndrome", "Biran, V.", 2007, "Pediatric Nephrology", "22", "2400", "");
    assert_eq!(
        dedup(
            &[article.clone(), abstract_],
            |_| 0,
            &[],
            &Thresholds::default()
        )
        .clusters
        .len(),
        1
    );
    assert_eq!(
        dedup(&[article, erratum], |_| 0, &[], &Thresholds::default())
            .clusters
            .len(),
        2
    );
}

#[test]
fn correction_notice_stays_apart_from_the_article() {
    let article =
            rec("a:1", "Severe deficiency of the specific von Willebrand factor-cleaving protease (ADAMTS 13) activity", "Veyradier, A.", 2003, "Journal of Pediatrics", "142", "310-317", "");
    let notice =
            rec("a:2", "Erratum: Severe deficiency of the specific von Willebrand factor-cleaving protease (ADAMTS 13) activity", "Veyradier, A.", 2003, "Journal of Pediatrics", "142", "616", "");
    let notice2 = rec(
            "a:3",
            "Severe deficiency of the specific von Willebrand factor-cleaving protease (ADAMTS 13) activity (vol 142, pg 310, 2003)",
            "Veyradier",
            2003,
            "Journal of Pediatrics",
            "142",
            "616-616",
            "",
        );
    let d = dedup(
        &[article, notice, notice2],
        |_| 0,
        &[],
        &Thresholds::default(),
    );
    assert_eq!(
        d.clusters.len(),
        2,
        "the two notices are one record, the article another"
    );
}

#[test]
fn conference_paper_and_journal_article_stay_apart() {
    // as the special_cases set has them (labelled distinct): the journal article has a second
    // author the conference paper lacks
    let mut a = rec(
        "a:1",
        "Cultural universality versus particularity in CMC",
        "Stahl, Bernd Carsten",
        2004,
        "Journal of Global Information Technology Management",
        "7",
        "47-65",
        "",
    );
    a.authors.push("Elbeltagi, Ibrahim".into());
    let mut b = rec(
        "a:2",
        "Cultural universality versus particularity in CMC",
        "Stahl, Bernd-Carsten",
        2003,
        "Americas Conference on Information Systems",
        "",
        "",
        "",
    );
    a.entry_type = Some("article".into());
    b.entry_type = Some("inproceedings".into());
    assert_eq!(
        dedup(&[a.clone(), b.clone()], |_| 0, &[], &Thresholds::default())
            .clusters
            .len(),
        2
    );
    // the same authors, a year apart, pages on one side only: one work in two venues
    b.authors = a.authors.clone();
    assert_eq!(
        dedup(&[a, b], |_| 0, &[], &Thresholds::default())
            .clusters
            .len(),
        1
    );
}

#[test]
fn human_decision_applied() {
    let r = vec![
        rec(
            "a:1",
            "Anakinra in severe COVID-19 pneumonia",
            "Doe J",
            2021,
            "J A",
            "",
            "",
            "",
        ),
        rec(
            "b:1",
            "Anakinra in severe COVID-19 pneumonia: a pilot",
            "Roe R",
            2021,
            "J B",
            "",
            "",
            "",
        ),
    ];
    assert_eq!(
        dedup(&r, |_| 0, &[], &Thresholds::default()).clusters.len(),
        2
    );
    let h = [HumanDecision {
        record_a: "a:1".into(),
        record_b: "b:1".into(),
        duplicate: true,
    }];
    assert_eq!(
        dedup(&r, |_| 0, &h, &Thresholds::default()).clusters.len(),
        1
    );
}

pub(super) fn n_clusters(r: &[Record]) -> usize {
    dedup(r, |_| 0, &[], &Thresholds::default()).clusters.len()
}

#[test]
fn serial_items_in_different_issues_stay_apart() {
    let mut a = rec(
        "a:1",
        "Editor's comments",
        "Rai, Arun",
        2015,
        "MIS Quarterly",
        "39",
        "",
        "",
    );
    let mut b = a.clone();
    b.record_id = "b:1".into();
    a.issue = Some("1".into());
    b.issue = Some("2".into());
    assert_eq!(
        n_clusters(&[a.clone(), b.clone()]),
        2,
        "a recurring column in consecutive issues"
    );
    b.issue = Some("1".into());
    assert_eq!(n_clusters(&[a, b]), 1);
}

#[test]
fn contradictions_block_whatever_else_agrees() {
    let base = rec(
        "a:1",
        "Outcomes of renal transplantation in children",
        "Doe, J",
        2010,
        "Pediatric Nephrology",
        "25",
        "100-110",
        "",
    );
    // two page ranges sharing neither end
    let mut other = base.clone();
    other.record_id = "b:1".into();
    other.pages = Some("200-210".into());
    assert_eq!(n_clusters(&[base.clone(), other]), 2);
    // a reply or a retraction notice against the article
    for t in [
        "Reply to: Outcomes of renal transplantation in children",
        "Retraction: Outcomes of renal transplantation in children",
        "Comment on: Outcomes of renal transplantation in children",
    ] {
        let mut n = base.clone();
        n.record_id = "b:2".into();
        n.title = Some(t.into());
        n.pages = Some("400".into());
        assert_eq!(n_clusters(&[base.clone(), n]), 2, "{t}");
    }
    // different parts of a series
    let p1 = rec(
        "a:3",
        "Guidelines for kidney donation, part I: evaluation",
        "Doe, J",
        2010,
        "Pediatric Nephrology",
        "25",
        "",
        "",
    );
    let p2 = rec(
        "b:3",
        "Guidelines for kidney donation, part II: evaluation",
        "Doe, J",
        2010,
        "Pediatric Nephrology",
        "25",
        "",
        "",
    );
    assert_eq!(n_clusters(&[p1, p2]), 2);
}

#[test]
fn translated_title_with_identical_locators_is_one_article() {
    let en = rec(
        "a:1",
        "Quality of life after kidney transplantation",
        "Müller, K",
        2012,
        "Der Nephrologe",
        "7",
        "131-139",
        "",
    );
    let de = rec(
        "b:1",
        "Lebensqualität nach Nierentransplantation",
        "Müller, K.",
        2012,
        "Der Nephrologe",
        "7",
        "131-9",
        "",
    );
    assert_eq!(n_clusters(&[en.clone(), de]), 1);
    // a one-page item at the same place is not enough
    let letter = rec(
        "b:2",
        "Lebensqualität nach Nierentransplantation",
        "Müller, K",
        2012,
        "Der Nephrologe",
        "7",
        "131",
        "",
    );
    let en1 = Record {
        pages: Some("131".into()),
        ..en
    };
    assert_eq!(n_clusters(&[en1, letter]), 2);
}

#[test]
fn title_cut_at_the_subtitle_is_one_article() {
    let full = rec(
        "a:1",
        "Infrastructure in the wild: what mapping words to concepts reveals",
        "Smith, A",
        2019,
        "Information Systems Journal",
        "29",
        "12-40",
        "",
    );
    let cut = rec(
        "b:1",
        "Infrastructure in the wild",
        "Smith, A.",
        2019,
        "Inf Syst J",
        "29",
        "",
        "",
    );
    assert_eq!(n_clusters(&[full, cut]), 1);
}

#[test]
fn non_latin_titles_are_compared_and_never_empty() {
    assert_eq!(
        norm::title("Эффективность вакцины"),
        "effektivnost vaktsiny"
    );
    assert!(!norm::title("脳卒中").is_empty());
    let a = rec(
        "a:1",
        "Эффективность вакцины против гриппа у детей",
        "Иванов, И",
        2015,
        "Вопросы вирусологии",
        "60",
        "5-10",
        "10.5555/x.1",
    );
    let b = Record {
        authors: vec![],
        journal: None,
        volume: None,
        pages: None,
        ..rec(
            "b:1",
            "Эффективность вакцины против гриппа у детей",
            "",
            2015,
            "",
            "",
            "",
            "10.5555/X.1",
        )
    };
    assert_eq!(n_clusters(&[a, b]), 1);
}

/// The state a round leaves, read back as the next round sees it.
fn earlier_of(recs: &[Record], human: &[HumanDecision]) -> (Earlier, Dedup) {
    let d = dedup(recs, |_| 0, human, &Thresholds::default());
    let facts = crate::state::RoundFacts {
        first: 0,
        clusters_before: 0,
        ids: recs.iter().map(|r| r.record_id.as_str()).collect(),
        keys: &d.keys,
        cluster_of: &d.cluster_of,
        representatives: &d.representative,
    };
    let mut e = Earlier::default();
    e.push(
        crate::state::RoundState::decode(crate::state::RoundState::encode(&facts), "test").unwrap(),
    );
    (e, d)
}

#[test]
fn a_later_round_joins_earlier_clusters_and_never_merges_two() {
    let t1 = "Anakinra in patients with severe COVID-19 pneumonia: a randomised trial";
    let t2 = "Tocilizumab in hospitalised adults with COVID-19: a randomised trial";
    let round1 = [
        rec("a:1", t1, "Doe J", 2021, "Lancet", "9", "100-9", ""),
        rec("a:2", t2, "Roe R", 2021, "BMJ", "372", "n311", ""),
        rec(
            "a:3",
            "Something else entirely about sepsis",
            "Poe P",
            2020,
            "JAMA",
            "1",
            "1-2",
            "",
        ),
    ];
    let (earlier, d1) = earlier_of(&round1, &[]);
    assert_eq!(d1.clusters.len(), 3);
    // the first article again, and a new article twice
    let t3 = "Canakinumab in patients with COVID-19 and elevated C-reactive protein";
    let round2 = [
        rec(
            "b:1",
            &format!("{t1}."),
            "Doe, J.",
            2021,
            "The Lancet",
            "9",
            "100",
            "",
        ),
        rec("b:2", t3, "Moe M", 2022, "JAMA", "326", "230-9", ""),
        rec("b:3", t3, "Moe, M", 2022, "JAMA", "326", "230", ""),
    ];
    let d2 = dedup_round(&earlier, &round2, |_| 0, &[], &Thresholds::default());
    assert_eq!(
        d2.cluster_of[0], d1.cluster_of[0],
        "joins the earlier cluster"
    );
    assert_eq!(
        d2.matched[0].as_ref().map(|m| m.0),
        Some(0),
        "matched with the earlier record (global index)"
    );
    assert_eq!(
        (d2.clusters.len(), d2.cluster_of[1], d2.cluster_of[2]),
        (1, 3, 3),
        "one new cluster, numbered after the earlier ones"
    );
    assert_eq!(d2.representative, [1]);
    // the two rounds deduplicated at once find the same clusters
    let all: Vec<Record> = round1.iter().chain(&round2).cloned().collect();
    assert_eq!(
        dedup(&all, |_| 0, &[], &Thresholds::default())
            .clusters
            .len(),
        4
    );
}

/// A record matching two clusters an earlier round kept apart (a reviewer said so) joins the
/// first; its pair with the other goes to a person.
#[test]
fn a_record_matching_two_clusters_kept_apart_joins_the_first() {
    let t1 = "Anakinra in patients with severe COVID-19 pneumonia: a randomised trial";
    let copies = [
        rec("a:1", t1, "Doe J", 2021, "Lancet", "9", "100-9", ""),
        rec("a:9", t1, "Doe J", 2021, "Lancet", "9", "100-9", "10.1/x"),
    ];
    assert_eq!(earlier_of(&copies, &[]).0.n_clusters(), 1);
    let (apart, _) = earlier_of(
        &copies,
        &[HumanDecision {
            record_a: "a:1".into(),
            record_b: "a:9".into(),
            duplicate: false,
        }],
    );
    assert_eq!(apart.n_clusters(), 2);
    let d = dedup_round(
        &apart,
        &[rec("b:9", t1, "Doe J", 2021, "Lancet", "9", "100-9", "")],
        |_| 0,
        &[],
        &Thresholds::default(),
    );
    assert_eq!(d.cluster_of[0], 0, "joins the first");
    assert_eq!(d.maybe.len(), 1);
    assert_eq!((d.maybe[0].0, d.maybe[0].1), (1, 2));
    assert!(
        d.maybe[0].3.contains("kept apart by earlier rounds"),
        "{}",
        d.maybe[0].3
    );
}
