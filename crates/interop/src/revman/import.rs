//! A RevMan review written as a metapipe review: `pipelines/NAME.toml` (one outcome per
//! analysis, with RevMan's settings), `data/NAME/studies.csv`, `outcome_data.csv`,
//! `published.csv` (RevMan's stored figures, for the audit) and a README saying what was
//! imported from where and what was not.

use super::*;
use std::fmt::Write as _;
use std::path::PathBuf;

/// A CSV cell: quoted when it must be.
fn cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s != s.trim() {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn line(cells: &[String]) -> String {
    let mut l = cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",");
    l.push('\n');
    l
}

fn num(x: Option<f64>) -> String {
    x.map(|v| format!("{v}")).unwrap_or_default()
}

/// A TOML basic string.
fn q(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            c if (c as u32) < 0x20 => o.push(' '),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// The studies column holding an analysis's subgroups.
fn subgroup_column(a: &Analysis) -> String {
    format!("subgroup_{}_{}", a.comparison, a.number)
}

/// The files of the imported review, by path under the project root.
pub fn files(rv: &Review, name: &str, source: &str) -> Result<Vec<(PathBuf, String)>> {
    let data = Path::new("data").join(name);
    let sub_cols: Vec<&Analysis> = rv.analyses.iter().filter(|a| a.has_subgroups()).collect();
    // studies, with each subgrouped analysis's subgroup as a text covariate
    let mut studies = {
        let mut h = vec!["study_id".to_string(), "label".into(), "year".into()];
        h.extend(sub_cols.iter().map(|a| subgroup_column(a)));
        line(&h)
    };
    for (s, year) in &rv.studies {
        let mut r = vec![s.clone(), s.clone(), year.clone().unwrap_or_default()];
        for a in &sub_cols {
            let subs: Vec<&str> = a
                .subgroups
                .iter()
                .filter(|g| g.rows.iter().any(|d| &d.study == s))
                .filter_map(|g| g.name.as_deref())
                .collect();
            if subs.len() > 1 {
                return Err(Error::data(format!("study {s} is in {} subgroups of analysis {} ({}): a study in two subgroups of one analysis is not imported", subs.len(), a.label(), subs.join(", "))));
            }
            r.push(subs.first().map(|x| x.to_string()).unwrap_or_default());
        }
        studies.push_str(&line(&r));
    }
    let mut outcome_data = line(
        &[
            "study_id",
            "outcome",
            "events_treat",
            "n_treat",
            "events_ctrl",
            "n_ctrl",
            "mean_treat",
            "sd_treat",
            "mean_ctrl",
            "sd_ctrl",
            "source",
        ]
        .map(String::from),
    );
    for a in &rv.analyses {
        for g in &a.subgroups {
            for d in &g.rows {
                outcome_data.push_str(&line(&data_line(a, d, source)?));
            }
        }
    }
    let published = published(rv, source);
    let cfg = config(rv, name, source);
    let readme = readme(rv, name, source);
    Ok(vec![
        (Path::new("pipelines").join(format!("{name}.toml")), cfg),
        (data.join("studies.csv"), studies),
        (data.join("outcome_data.csv"), outcome_data),
        (data.join("published.csv"), published),
        (data.join("README.md"), readme),
    ])
}

fn data_line(a: &Analysis, d: &DataRow, source: &str) -> Result<Vec<String>> {
    let mut src = format!("RevMan analysis {} ({source})", a.label());
    let mut events = d.events;
    if a.swap_events {
        // RevMan's "swap events and non-events": the analysis is of the non-events
        for k in 0..2 {
            events[k] = match (d.events[k], d.totals[k]) {
                (Some(e), Some(n)) => Some(n - e),
                _ => None,
            };
        }
        src.push_str("; non-events, as RevMan's swap events analyses them");
    }
    let count = |x: Option<f64>, col: &str| -> Result<String> {
        match x {
            Some(v) if v.fract() != 0.0 || v < 0.0 => {
                Err(Error::data(format!("{}: {v} is not a count", d.study)).field(col.to_string()))
            }
            Some(v) => Ok(format!("{}", v as i64)),
            None => Ok(String::new()),
        }
    };
    let dich = a.data_type == DataType::Dichotomous;
    Ok(vec![
        d.study.clone(),
        a.id(),
        if dich {
            count(events[0], "events_treat")?
        } else {
            String::new()
        },
        count(d.totals[0], "n_treat")?,
        if dich {
            count(events[1], "events_ctrl")?
        } else {
            String::new()
        },
        count(d.totals[1], "n_ctrl")?,
        num(d.means[0]),
        num(d.sds[0]),
        num(d.means[1]),
        num(d.sds[1]),
        src,
    ])
}

fn published(rv: &Review, source: &str) -> String {
    let mut out =
        line(&["source", "item", "kind", "of", "value", "where", "note"].map(String::from));
    let src = format!("RevMan ({source})");
    for a in &rv.analyses {
        let id = a.id();
        for (k, v) in &a.stored {
            let item = format!("{} {} {k}", a.label(), a.name);
            out.push_str(&line(&[
                src.clone(),
                item,
                "stat".into(),
                format!("{id}:{k}"),
                v.clone(),
                format!("analysis {}, overall", a.label()),
                String::new(),
            ]));
        }
        for g in &a.subgroups {
            let target = match &g.name {
                Some(n) => format!("{id}/{n}"),
                None => id.clone(),
            };
            for (k, v) in &g.stored {
                let item = format!("{} {} {k}", a.label(), g.name.as_deref().unwrap_or(""));
                out.push_str(&line(&[
                    src.clone(),
                    item,
                    "stat".into(),
                    format!("{target}:{k}"),
                    v.clone(),
                    format!("analysis {}, subgroup", a.label()),
                    String::new(),
                ]));
            }
            // a study's figures are of the whole analysis (RevMan prints a study's weight as its
            // share of the overall total, subgroups or not)
            for d in &g.rows {
                for (k, v) in &d.stored {
                    let item = format!("{} {} {k}", a.label(), d.study);
                    out.push_str(&line(&[
                        src.clone(),
                        item,
                        "study_stat".into(),
                        format!("{id}|{}:{k}", d.study),
                        v.clone(),
                        format!("analysis {}, study {}", a.label(), d.study),
                        String::new(),
                    ]));
                }
            }
        }
    }
    out
}

fn config(rv: &Review, name: &str, source: &str) -> String {
    let first = rv.analyses.first();
    let lab = |k: usize, dflt: &str| {
        first
            .map(|a| a.labels[k].clone())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| dflt.to_string())
    };
    let mut t = String::new();
    let _ = writeln!(
        t,
        "# Imported from {source} ({}) by `metapipe import revman`. One outcome per RevMan",
        rv.format
    );
    let _ = writeln!(
        t,
        "# analysis, with its settings; RevMan's stored results are rows of published.csv, checked"
    );
    let _ = writeln!(
        t,
        "# by the run's audit. What the import left out: data/{name}/README.md."
    );
    let _ = writeln!(t, "# Paths are relative to this file's directory.\n");
    let _ = writeln!(t, "[review]\nname = {}\ntitle = {}", q(name), q(&rv.title));
    let _ = writeln!(
        t,
        "published = {}",
        q(&format!("../data/{name}/published.csv"))
    );
    let _ = writeln!(
        t,
        "treat_label = {}\nctrl_label = {}\n",
        q(&lab(0, "Experimental")),
        q(&lab(1, "Control"))
    );
    let _ = writeln!(
        t,
        "[extraction]\nstudies = {}\noutcomes = {}\n",
        q(&format!("../data/{name}/studies.csv")),
        q(&format!("../data/{name}/outcome_data.csv"))
    );
    let _ = writeln!(t, "[extraction.covariates]\nyear = \"number\"");
    for a in rv.analyses.iter().filter(|a| a.has_subgroups()) {
        let _ = writeln!(t, "{} = \"text\"", subgroup_column(a));
    }
    for a in &rv.analyses {
        t.push_str(&outcome_block(
            a,
            [&lab(0, "Experimental"), &lab(1, "Control")],
        ));
    }
    t
}

/// An analysis as an `[[outcomes]]` entry; `groups` the review's group labels.
fn outcome_block(a: &Analysis, groups: [&str; 2]) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "\n# RevMan analysis {}: {} / {}",
        a.label(),
        a.comparison_name,
        a.name
    );
    let _ = writeln!(
        t,
        "[[outcomes]]\nid = {}\nlabel = {}",
        q(&a.id()),
        q(&format!("{} {}", a.label(), a.name))
    );
    let _ = writeln!(
        t,
        "definition = {}",
        q(&format!(
            "RevMan analysis {} of comparison {} ({})",
            a.label(),
            a.comparison,
            a.comparison_name
        ))
    );
    // the analysis's own groups where they are not the review's (the first analysis's)
    if !a.labels[0].is_empty() && a.labels[0] != groups[0] {
        let _ = writeln!(t, "treat_label = {}", q(&a.labels[0]));
    }
    if !a.labels[1].is_empty() && a.labels[1] != groups[1] {
        let _ = writeln!(t, "ctrl_label = {}", q(&a.labels[1]));
    }
    let _ = writeln!(t, "measure = {}", q(&a.measure));
    match a.measure.as_str() {
        "OR" | "RR" => {
            let _ = writeln!(t, "convention = \"revman\"");
        }
        "SMD" => {
            let _ = writeln!(t, "# RevMan 5's SMD is Hedges' g with an approximate small-sample correction and its own\n# variance; metapipe's is metafor's (exact correction): they differ slightly");
        }
        _ => {
            let _ = writeln!(
                t,
                "# RevMan's rules for this measure are metafor's (the default convention)"
            );
        }
    }
    let method = match (a.random, a.method.as_str()) {
        (true, _) => "DL",
        (false, "MH") => "MH",
        (false, "PETO") => "PETO",
        (false, _) => "FE",
    };
    let _ = writeln!(t, "method = {}", q(method));
    if a.level != 95.0 {
        let _ = writeln!(t, "level = {}", a.level);
    }
    if a.has_subgroups() {
        let _ = writeln!(t, "subgroup_by = {}", q(&subgroup_column(a)));
    }
    if !a.labels[2].is_empty() {
        let _ = writeln!(t, "favours_left = {}", q(&a.labels[2]));
    }
    if !a.labels[3].is_empty() {
        let _ = writeln!(t, "favours_right = {}", q(&a.labels[3]));
    }
    t
}

fn readme(rv: &Review, name: &str, source: &str) -> String {
    let mut t = format!("# {name}: imported from RevMan\n\nSource: `{source}`, a {}, read by `metapipe import revman`. Title: {}.\n\n", rv.format, rv.title);
    let _ = writeln!(
        t,
        "- `studies.csv`: the {} included studies with data in an analysis (name, year).",
        rv.studies.len()
    );
    let _ = writeln!(t, "- `outcome_data.csv`: each analysis's data rows (outcome `analysis_C_N` is RevMan's analysis C.N).");
    let _ = writeln!(t, "- `published.csv`: RevMan's stored results (`stat`: an analysis's figures; `study_stat`: a study's), which the run's audit compares with metapipe's.");
    let _ = writeln!(t, "- `../../pipelines/{name}.toml`: one outcome per analysis with RevMan's data type, effect measure, statistical method, model and CI level (`convention = \"revman\"`).\n");
    let mut notes = rv.notes.clone();
    for a in rv.analyses.iter().filter(|a| a.measure == "SMD") {
        notes.push(format!("analysis {} is an SMD: metapipe computes metafor's Hedges' g (exact small-sample correction), RevMan 5 an approximation (J = 1 - 3/(4N - 9)) with its own variance, so the two differ slightly", a.label()));
    }
    if !notes.is_empty() {
        let _ = writeln!(t, "Not imported, or to know:\n");
        for n in &notes {
            let _ = writeln!(t, "- {n}");
        }
    }
    t
}
