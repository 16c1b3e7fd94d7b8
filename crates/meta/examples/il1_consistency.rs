//! Exploratory: the consistency search on the IL-1 mortality figures (timings printed).
use metapipe_meta::consistency::{search, Arm2, Printed};
use metapipe_meta::Binary;
fn main() {
    let save_more = Arm2::Known(Binary::new(13., 405., 13., 189.));
    let anaconda = Arm2::Known(Binary::new(9., 37., 3., 34.));
    let three_c = Arm2::Known(Binary::new(4., 29., 3., 16.));
    let corimuno = Arm2::Missing(59, 55);
    let cov_aid = Arm2::Missing(112, 230);
    let kharazmi = Arm2::Missing(15, 15);
    let can_covid = Arm2::Missing(227, 227);
    let sets: Vec<(&str, Vec<Arm2>, Printed)> = vec![
        (
            "canakinumab",
            vec![three_c, can_covid],
            Printed {
                or: 0.73,
                lb: 0.36,
                ub: 1.47,
                dp: 2,
                i2: 0.0,
            },
        ),
        (
            "anakinra (refs 23-26, four)",
            vec![corimuno, cov_aid, kharazmi, save_more],
            Printed {
                or: 0.88,
                lb: 0.56,
                ub: 1.38,
                dp: 2,
                i2: 45.0,
            },
        ),
        (
            "anakinra (refs 23-26, 31: five)",
            vec![corimuno, cov_aid, kharazmi, save_more, anaconda],
            Printed {
                or: 0.88,
                lb: 0.56,
                ub: 1.38,
                dp: 2,
                i2: 45.0,
            },
        ),
        (
            "overall (seven)",
            vec![
                corimuno, cov_aid, kharazmi, save_more, three_c, can_covid, anaconda,
            ],
            Printed {
                or: 0.83,
                lb: 0.57,
                ub: 1.22,
                dp: 2,
                i2: 18.0,
            },
        ),
    ];
    let budget: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000_000);
    for (name, studies, p) in sets {
        let t = std::time::Instant::now();
        let out = search(&studies, &p, budget);
        println!(
            "{name}: completions {} complete {} nodes {} pruned {} model {:?} ranges {:?} ({:.2} s)",
            out.completions,
            out.complete,
            out.nodes,
            out.pruned,
            out.model,
            out.ranges,
            t.elapsed().as_secs_f64()
        );
    }
}
