use super::*;

/// Every completion, checked exactly: the reference for the pruned search.
fn brute(studies: &[Arm2], p: &Printed) -> (u64, Vec<Option<(u32, u32, u32, u32)>>) {
    let (known, missing) = split(studies);
    let missing: Vec<(u32, u32)> = missing.iter().map(|&(_, a, b)| (a, b)).collect();
    let mut count = 0;
    let mut ranges: Vec<Option<(u32, u32, u32, u32)>> = vec![None; missing.len()];
    let total: u64 = missing
        .iter()
        .map(|&(a, b)| ((a + 1) * (b + 1)) as u64)
        .product();
    for mut code in 0..total {
        let mut tables = known.clone();
        let mut ch = vec![];
        for &(n1, n2) in &missing {
            let size = ((n1 + 1) * (n2 + 1)) as u64;
            let v = (code % size) as u32;
            code /= size;
            let (a, c) = (v / (n2 + 1), v % (n2 + 1));
            ch.push((a, c));
            tables.push(Binary::new(a as f64, n1 as f64, c as f64, n2 as f64));
        }
        if reproduces(&tables, p).is_some() {
            count += 1;
            for (m, r) in ranges.iter_mut().enumerate() {
                let (a, c) = ch[m];
                *r = Some(match *r {
                    None => (a, a, c, c),
                    Some((a0, a1, c0, c1)) => (a0.min(a), a1.max(a), c0.min(c), c1.max(c)),
                });
            }
        }
    }
    (count, ranges)
}

fn printed_of(tables: &[Binary]) -> Printed {
    let f = revman_mh(tables, Measure::OR, 0.95).unwrap();
    let r2 = |x: f64| (x * 100.0).round() / 100.0;
    Printed {
        or: r2(f.estimate.exp()),
        lb: r2(f.ci_lb.exp()),
        ub: r2(f.ci_ub.exp()),
        dp: 2,
        i2: f.i2.round(),
    }
}

#[test]
fn pruned_search_equals_brute_force() {
    let truth = [
        Binary::new(8., 60., 14., 58.),
        Binary::new(3., 25., 5., 24.),
        Binary::new(2., 12., 4., 11.),
        Binary::new(5., 14., 6., 13.),
    ];
    let p = printed_of(&truth);
    for hide in [vec![2usize], vec![2, 3], vec![1, 3]] {
        let studies: Vec<Arm2> = truth
            .iter()
            .enumerate()
            .map(|(i, t)| {
                if hide.contains(&i) {
                    Arm2::Missing(t.n1i as u32, t.n2i as u32)
                } else {
                    Arm2::Known(*t)
                }
            })
            .collect();
        let out = search(&studies, &p, u64::MAX);
        let (count, ranges) = brute(&studies, &p);
        assert!(out.complete);
        assert!(
            out.pruned,
            "the bounds are exercised (printed I² {} settles the fixed model)",
            p.i2
        );
        assert_eq!(out.completions, count, "hidden {hide:?}");
        assert_eq!(out.ranges, ranges, "hidden {hide:?}");
        // the true counts are among the completions
        assert!(count >= 1);
        for (m, &i) in hide.iter().enumerate() {
            let (a0, a1, c0, c1) = out.ranges[m].unwrap();
            assert!(
                a0 as f64 <= truth[i].ai
                    && truth[i].ai <= a1 as f64
                    && c0 as f64 <= truth[i].ci
                    && truth[i].ci <= c1 as f64
            );
        }
    }
}

#[test]
fn impossible_i2_is_inconsistent() {
    let truth = [
        Binary::new(8., 60., 14., 58.),
        Binary::new(3., 25., 5., 24.),
        Binary::new(2., 12., 4., 11.),
    ];
    let mut p = printed_of(&truth);
    p.i2 = 99.0; // three studies of this size cannot be this heterogeneous with this OR and CI
    let studies = [
        Arm2::Known(truth[0]),
        Arm2::Known(truth[1]),
        Arm2::Missing(12, 11),
    ];
    let out = search(&studies, &p, u64::MAX);
    assert!(out.complete);
    assert_eq!(out.completions, 0);
    assert_eq!(brute(&studies, &p).0, 0);
}

#[test]
fn budget_is_reported() {
    let truth = [
        Binary::new(8., 60., 14., 58.),
        Binary::new(3., 25., 5., 24.),
    ];
    let p = printed_of(&truth);
    let out = search(&[Arm2::Missing(60, 58), Arm2::Missing(25, 24)], &p, 100);
    assert!(!out.complete);
}
