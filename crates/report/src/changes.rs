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
    let side = |t: &Table, suffix: &str| -> PolarsResult<DataFrame> {
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
        d.with_column(Column::new(
            format!("in{suffix}").into(),
            vec![true; d.height()],
        ))?;
        frame::numbered(&d, &format!("order{suffix}"))
    };
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
    let (e_a, e_b, l_a, l_b, u_a, u_b, i_a, i_b) = (
        f("estimate_after")?,
        f("estimate_before")?,
        f("ci_lb_after")?,
        f("ci_lb_before")?,
        f("ci_ub_after")?,
        f("ci_ub_before")?,
        f("I2_after")?,
        f("I2_before")?,
    );
    let mut t = Builder::new(&schema::CHANGES);
    for r in 0..df.height() {
        let set = |x: Option<&str>| {
            x.unwrap_or("")
                .split(';')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect::<Vec<_>>()
        };
        let (after, before) = (set(st_a.get(r)), set(st_b.get(r)));
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
        let o = outcome.get(r).unwrap_or_default();
        let null = null_of(o);
        let crosses =
            |l: Option<f64>, u: Option<f64>| l.zip(u).map(|(l, u)| l <= null && null <= u);
        let mut flags = vec![];
        match (
            crosses(l_b.get(r), u_b.get(r)),
            crosses(l_a.get(r), u_a.get(r)),
        ) {
            (Some(true), Some(false)) => {
                flags.push("the CI no longer includes the null".to_string())
            }
            (Some(false), Some(true)) => flags.push("the CI now includes the null".to_string()),
            (None, Some(_)) if in_b.get(r).is_some() => flags.push("newly pooled".to_string()),
            (Some(_), None) if in_a.get(r).is_some() => flags.push("no longer pooled".to_string()),
            _ => {}
        }
        if let (Some(x), Some(y)) = (m_b.get(r), m_a.get(r)) {
            if x != y {
                flags.push(format!("model changed: {x} -> {y}"));
            }
        }
        let same = |a: Option<f64>, b: Option<f64>| a == b;
        let change = match (in_b.get(r).is_some(), in_a.get(r).is_some()) {
            (false, _) => "new",
            (_, false) => "removed",
            _ if added.is_empty()
                && removed.is_empty()
                && same(e_a.get(r), e_b.get(r))
                && same(l_a.get(r), l_b.get(r))
                && same(u_a.get(r), u_b.get(r))
                && same(i_a.get(r), i_b.get(r))
                && flags.is_empty() =>
            {
                "unchanged"
            }
            _ => "updated",
        };
        t.row(vec![
            s(o),
            so(subgroup.get(r)),
            so(model_type.get(r)),
            s(change),
            so(Some(added.join(";"))),
            so(Some(removed.join(";"))),
            metapipe_tables::f(e_b.get(r)),
            metapipe_tables::f(e_a.get(r)),
            metapipe_tables::f(l_b.get(r)),
            metapipe_tables::f(l_a.get(r)),
            metapipe_tables::f(u_b.get(r)),
            metapipe_tables::f(u_a.get(r)),
            metapipe_tables::f(i_b.get(r)),
            metapipe_tables::f(i_a.get(r)),
            so(Some(flags.join("; "))),
        ]);
    }
    t.finish()
}
