use super::*;

#[test]
fn titles() {
    assert_eq!(
        title("Effect of Anti-Interleukin Drugs (COV-AID): a Trial."),
        "effect of anti interleukin drugs cov aid a trial"
    );
    assert_eq!(title("Effet de l'anakinra [French]"), "effet de l anakinra");
    assert_eq!(
        title("Update on HPV infection. [Review] [33 refs]"),
        "update on hpv infection"
    );
    assert_eq!(
        title("Erratum: Severe deficiency of ADAMTS 13 (The Journal of Pediatrics (M"),
        "severe deficiency of adamts 13"
    );
    assert_eq!(
        title("Severe deficiency of ADAMTS 13 (vol 142, pg 310, 2003)"),
        "severe deficiency of adamts 13"
    );
    assert_eq!(
        title("Severe deficiency (ADAMTS 13).[Erratum appears in J Pediatr. 2003 Jun"),
        "severe deficiency adamts 13"
    );
    assert_eq!(
        title("[Paroxysmal nocturnal hemoglobinuria therapy: Spanish experience]. [Spanish]"),
        "paroxysmal nocturnal hemoglobinuria therapy spanish experience"
    );
    assert_eq!(title("A &amp; B"), "a b");
}

#[test]
fn surnames() {
    for a in [
        "Declercq, J",
        "Declercq J",
        "J. Declercq",
        "Declercq JA",
        "Declercq, Jozefien",
    ] {
        assert_eq!(surname(a), "declercq", "{a}");
    }
    assert_eq!(surname("Van Damme, KF"), "vandamme");
    assert_eq!(surname("Van Damme KF"), "vandamme");
}

#[test]
fn page_forms() {
    assert_eq!(pages("1427-38"), (Some("1427".into()), Some("1438".into())));
    assert_eq!(
        pages("1427-1438"),
        (Some("1427".into()), Some("1438".into()))
    );
    assert_eq!(pages("e0269065").0.as_deref(), Some("e0269065"));
    assert_eq!(pages("532, 534-536, 538-540").0.as_deref(), Some("532"));
}

#[test]
fn banded_similarity_matches_full_levenshtein() {
    fn full(a: &str, b: &str) -> f64 {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for i in 1..=a.len() {
            let mut cur = vec![i; b.len() + 1];
            for j in 1..=b.len() {
                cur[j] = (prev[j] + 1)
                    .min(cur[j - 1] + 1)
                    .min(prev[j - 1] + usize::from(a[i - 1] != b[j - 1]));
            }
            prev = cur;
        }
        1.0 - prev[b.len()] as f64 / a.len().max(b.len()) as f64
    }
    let pairs = [
        (
            "effect of anakinra in covid 19",
            "effect of anakinra in covid19",
        ),
        (
            "the need for orthodontic treatment",
            "need for orthodontic treatment in ahus",
        ),
        ("abcdefghij", "abcdefghij"),
        (
            "interferon a possible prognostic marker",
            "interferon gamma ifn gamma a possible prognostic marker",
        ),
        ("kitten sitting", "sitting kitten"),
    ];
    for (a, b) in pairs {
        let f = full(a, b);
        let s = similarity(a, b);
        if f >= MIN_SIMILARITY {
            assert!((s - f).abs() < 1e-12, "{a} / {b}: {s} vs {f}");
        } else {
            assert_eq!(s, 0.0, "{a} / {b}");
        }
    }
}

#[test]
fn bit_parallel_levenshtein_matches_dp() {
    fn dp(a: &[u8], b: &[u8]) -> usize {
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for i in 1..=a.len() {
            let mut cur = vec![i; b.len() + 1];
            for j in 1..=b.len() {
                cur[j] = (prev[j] + 1)
                    .min(cur[j - 1] + 1)
                    .min(prev[j - 1] + usize::from(a[i - 1] != b[j - 1]));
            }
            prev = cur;
        }
        prev[b.len()]
    }
    let mut x: u64 = 12345;
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as usize
    };
    for _ in 0..2000 {
        let la = next() % 200;
        let a: Vec<u8> = (0..la).map(|_| b"abcde "[next() % 6]).collect();
        let mut b = a.clone();
        for _ in 0..next() % 30 {
            let op = next() % 3;
            let p = if b.is_empty() { 0 } else { next() % b.len() };
            match op {
                0 if !b.is_empty() => {
                    b.remove(p);
                }
                1 => b.insert(p, b"abcdef"[next() % 6]),
                _ if !b.is_empty() => b[p] = b"abcdef"[next() % 6],
                _ => {}
            }
        }
        assert_eq!(
            levenshtein(&a, &b),
            dp(&a, &b),
            "{:?} / {:?}",
            String::from_utf8_lossy(&a),
            String::from_utf8_lossy(&b)
        );
    }
}

#[test]
fn journals() {
    let a = journal_tokens("The Lancet Respiratory Medicine");
    let b = journal_tokens("Lancet Respir Med");
    let c = journal_tokens("LANCET RESPIRATORY MEDICINE");
    let d = journal_tokens("Lancet Rheumatol");
    assert!(journals_compatible(&a, &b));
    assert!(journals_compatible(&a, &c));
    assert!(!journals_compatible(&a, &d));
    assert!(journals_compatible(
        &journal_tokens("Immunity, Inflammation and Disease"),
        &journal_tokens("Immun Inflamm Dis")
    ));
}

#[test]
fn dois() {
    assert_eq!(
        doi("https://doi.org/10.1001/JAMA.2021.9508").as_deref(),
        Some("10.1001/jama.2021.9508")
    );
    assert_eq!(doi("not a doi"), None);
}

#[test]
fn a_thousands_group_joins_its_number() {
    let n = |t: &str| title_numbers(&title(t));
    assert_eq!(
        n("among 10 000 women in Guanacaste"),
        n("among 10000 women in Guanacaste")
    );
    assert_eq!(n("among 10 000 women"), ["10000"]);
    assert_eq!(n("1 000 000 records"), ["1000000"]);
    assert_eq!(n("p16 ink4a"), ["16", "4"]);
    // a run of other than three digits after the space is a number of its own
    assert_eq!(n("phase 2 trial of 40 patients"), ["2", "40"]);
    assert_eq!(n("COVID-19 in 2020"), ["19", "2020"]);
}
