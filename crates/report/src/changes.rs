//! What moved since the previous run: the previous and the new results joined (polars full join
//! on outcome, subgroup and model type; a missing key matches a missing key), compared row by
//! row into the `changes` table (studies added or removed, estimate, CI and I² before and after,
//! flags when the CI starts or stops including the null or the model changes).

use metapipe_tables::schema;
use metapipe_tables::{frame, pe, s, so, Builder, Result, Table};
use polars::prelude::*;

/// Previous and new results joined (polars full join on outcome, subgroup, model type; missing
/// keys match missing keys), compared row by row.
pub fn changes_table(prev: &Table, new: &Table, null_of: &dyn Fn(&str) -> f64) -> Result<Table> {
    let keys = ["outcome", "subgroup", "model_type"];
    let mut args = JoinArgs::new(JoinType::Full);
    args.nulls_equal = true;
    args.coalesce = JoinCoalesce::CoalesceColumns;
    let df = side(new, "_after")
        .and_then(|after| after.join(&side(prev, "_before")?, keys, keys, args, None))
        .and_then(|d| {
            d.sort(
                ["order_after", "order_before"],
                SortMultipleOptions::default().with_nulls_last(true),
            )
        })?;
    let c = |n: &str| df.column(n).map_err(pe);
    let (outcome, subgroup, model_type) = (
        c("outcome")?.str()?,
        c("subgroup")?.str()?,
        c("model_type")?.str()?,
    );
    let (in_a, in_b) = (c("in_after")?.bool()?, c("in_before")?.bool()?);
    let (st_a, st_b, m_a, m_b) = (
        c("studies_after")?.str()?,
        c("studies_before")?.str()?,
        c("model_after")?.str()?,
        c("model_before")?.str()?,
    );
    let f = |n: &str| c(n).and_then(|x| x.f64().map_err(pe).cloned());
    let before = |n: &str| f(&format!("{n}_before"));
    let after = |n: &str| f(&format!("{n}_after"));
    let figures = |n: &str| Ok::<_, metapipe_tables::Error>([before(n)?, after(n)?]);
    let [e, l, u, i] = [
        figures("estimate")?,
        figures("ci_lb")?,
        figures("ci_ub")?,
        figures("I2")?,
    ];
    let mut t = Builder::new(&schema::CHANGES);
    for r in 0..df.height() {
        let at = |x: &[Float64Chunked; 2]| [x[0].get(r), x[1].get(r)];
        let row = Compared {
            studies: [st_b.get(r), st_a.get(r)],
            present: [in_b.get(r).is_some(), in_a.get(r).is_some()],
            model: [m_b.get(r), m_a.get(r)],
            figures: [at(&e), at(&l), at(&u), at(&i)],
        };
        let o = outcome.get(r).unwrap_or_default();
        let (change, added, removed, flags) = row.compare(null_of(o));
        let [e, l, u, i] = row.figures;
        t.row(vec![
            s(o),
            so(subgroup.get(r)),
            so(model_type.get(r)),
            s(change),
            so(Some(added)),
            so(Some(removed)),
            metapipe_tables::f(e[0]),
            metapipe_tables::f(e[1]),
            metapipe_tables::f(l[0]),
            metapipe_tables::f(l[1]),
            metapipe_tables::f(u[0]),
            metapipe_tables::f(u[1]),
            metapipe_tables::f(i[0]),
            metapipe_tables::f(i[1]),
            so(Some(flags)),
        ]);
    }
    t.finish()
}

/// One side of the comparison: the results' keys and compared columns (suffixed), whether a row
/// is present, and its order.
fn side(t: &Table, suffix: &str) -> PolarsResult<DataFrame> {
    let mut d = t.df.select([
        "outcome",
        "subgroup",
        "model_type",
        "studies",
        "model",
        "estimate",
        "ci_lb",
        "ci_ub",
        "I2",
    ])?;
    for c in ["studies", "model", "estimate", "ci_lb", "ci_ub", "I2"] {
        d.rename(c, format!("{c}{suffix}").into())?;
    }
    let present = Column::new(format!("in{suffix}").into(), vec![true; d.height()]);
    d.with_column(present)?;
    frame::numbered(&d, &format!("order{suffix}"))
}

/// One analysis before ([0]) and after ([1]).
struct Compared<'a> {
    studies: [Option<&'a str>; 2],
    present: [bool; 2],
    model: [Option<&'a str>; 2],
    /// estimate, CI bounds and I²
    figures: [[Option<f64>; 2]; 4],
}

impl Compared<'_> {
    /// The change ("new", "removed", "unchanged", "updated"), the studies added and removed
    /// (";"-joined) and the flags ("; "-joined), the CI judged against `null`.
    fn compare(&self, null: f64) -> (&'static str, String, String, String) {
        let set = |x: Option<&str>| {
            x.unwrap_or("")
                .split(';')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect::<Vec<_>>()
        };
        let (before, after) = (set(self.studies[0]), set(self.studies[1]));
        let added: Vec<&str> = after
            .iter()
            .filter(|s| !before.contains(s))
            .map(String::as_str)
            .collect();
        let removed: Vec<&str> = before
            .iter()
            .filter(|s| !after.contains(s))
            .map(String::as_str)
            .collect();
        let [_, [l_b, l_a], [u_b, u_a], _] = self.figures;
        let crosses =
            |l: Option<f64>, u: Option<f64>| l.zip(u).map(|(l, u)| l <= null && null <= u);
        let mut flags = vec![];
        match (crosses(l_b, u_b), crosses(l_a, u_a)) {
            (Some(true), Some(false)) => {
                flags.push("the CI no longer includes the null".to_string())
            }
            (Some(false), Some(true)) => flags.push("the CI now includes the null".to_string()),
            (None, Some(_)) if self.present[0] => flags.push("newly pooled".to_string()),
            (Some(_), None) if self.present[1] => flags.push("no longer pooled".to_string()),
            _ => {}
        }
        if let [Some(x), Some(y)] = self.model {
            if x != y {
                flags.push(format!("model changed: {x} -> {y}"));
            }
        }
        let change = match self.present {
            [false, _] => "new",
            [_, false] => "removed",
            _ if added.is_empty()
                && removed.is_empty()
                && self.figures.iter().all(|[b, a]| a == b)
                && flags.is_empty() =>
            {
                "unchanged"
            }
            _ => "updated",
        };
        (change, added.join(";"), removed.join(";"), flags.join("; "))
    }
}
