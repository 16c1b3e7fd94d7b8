//! # metapipe-extract
//!
//! Extraction sheets (CSV, one fact per row with its source) → the studies, arms and
//! outcome_data tables. Factorial trials are recorded arm by arm; the comparison's arm sizes are
//! derived from the arms, never typed. A cell no source gives stays missing, with its reason.
//! Adding a found number is a one-line change in `outcome_data.csv`.

use metapipe_tables::io::Input;
use metapipe_tables::schema::{ARMS, OUTCOME_DATA, STUDIES};
use metapipe_tables::{b, i, s, so, Builder, Error, Result, Table};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Study {
    pub study_id: String,
    pub ref_: Option<String>,
    pub label: String,
    pub drug: String,
    pub design: Option<String>,
    pub hyperinflammation: bool,
    pub n_treat: i64,
    pub n_ctrl: i64,
    /// "table 1" when typed from the review's table, "arms: …" when derived from arms
    pub n_source: String,
    pub citation: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Arm {
    pub study_id: String,
    pub arm: String,
    /// treat or ctrl in the review's comparison
    pub group: String,
    pub n: i64,
    /// (factor, level) pairs, e.g. ("il1_blockade", "anakinra")
    pub factors: Vec<(String, String)>,
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeRow {
    pub study_id: String,
    pub outcome: String,
    pub timepoint: Option<String>,
    pub events_treat: Option<i64>,
    pub n_treat: i64,
    pub events_ctrl: Option<i64>,
    pub n_ctrl: i64,
    pub status: String,
    pub source: Option<String>,
    pub evidence: Option<String>,
}

/// A CSV file as (line, header-indexed row) with file/line/field errors.
pub struct Sheet {
    pub path: std::path::PathBuf,
    pub headers: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
}

impl Sheet {
    pub fn parse(input: &Input, required: &[&str]) -> Result<Sheet> {
        let (path, text) = (input.path.as_path(), input.text()?);
        let mut rdr = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let headers: Vec<String> = rdr.headers().map_err(|e| Error::data(e.to_string()).file(path).line(1))?.iter().map(|h| h.trim().to_string()).collect();
        for r in required {
            if !headers.iter().any(|h| h == r) {
                return Err(Error::data(format!("missing column (have: {})", headers.join(","))).file(path).line(1).field(*r));
            }
        }
        let mut rows = vec![];
        for (n, r) in rdr.records().enumerate() {
            let r = r.map_err(|e| Error::data(e.to_string()).file(path).line(n + 2))?;
            rows.push((n + 2, r.iter().map(|x| x.trim().to_string()).collect()));
        }
        if rows.is_empty() {
            return Err(Error::data("no rows (header only)").file(path));
        }
        Ok(Sheet { path: path.to_path_buf(), headers, rows })
    }
    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(move |(ln, cells)| Row { sheet: self, line: *ln, cells })
    }
}

pub struct Row<'a> {
    sheet: &'a Sheet,
    pub line: usize,
    cells: &'a [String],
}

impl Row<'_> {
    pub fn get(&self, name: &str) -> Option<&str> {
        let k = self.sheet.headers.iter().position(|h| h == name)?;
        self.cells.get(k).map(|s| s.as_str()).filter(|s| !s.is_empty())
    }
    pub fn err(&self, field: &str, msg: impl Into<String>) -> Error {
        Error::data(msg).file(&self.sheet.path).line(self.line).field(field)
    }
    pub fn req(&self, name: &str) -> Result<&str> {
        self.get(name).ok_or_else(|| self.err(name, "required value is empty"))
    }
    /// A non-negative whole number, or `None` if empty.
    pub fn count(&self, name: &str) -> Result<Option<i64>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => match v.parse::<i64>() {
                Ok(x) if x >= 0 => Ok(Some(x)),
                Ok(_) => Err(self.err(name, format!("{v} is negative; expected a count >= 0"))),
                Err(_) => Err(self.err(name, format!("{v:?} is not a whole number"))),
            },
        }
    }
    pub fn flag(&self, name: &str) -> Result<bool> {
        match self.req(name)?.to_ascii_lowercase().as_str() {
            "yes" | "true" | "y" | "1" => Ok(true),
            "no" | "false" | "n" | "0" => Ok(false),
            v => Err(self.err(name, format!("{v:?} is not yes/no"))),
        }
    }
}

/// Arm sizes of a factorial comparison: arms whose `factor` is not "none" against arms whose
/// `factor` is "none".
pub fn factor_margins(arms: &[Arm], study_id: &str, factor: &str) -> Option<(i64, i64)> {
    let of: Vec<&Arm> = arms.iter().filter(|a| a.study_id == study_id).collect();
    let level = |a: &Arm| a.factors.iter().find(|(f, _)| f == factor).map(|(_, v)| v.clone());
    if of.is_empty() || of.iter().any(|a| level(a).is_none()) {
        return None;
    }
    let t = of.iter().filter(|a| level(a).as_deref() != Some("none")).map(|a| a.n).sum();
    let c = of.iter().filter(|a| level(a).as_deref() == Some("none")).map(|a| a.n).sum();
    Some((t, c))
}

/// Read studies and arms; where a study has arms, its comparison sizes are derived from them
/// along `factor` (e.g. `il1_blockade`). Every column of `arms.csv` other than study_id, arm, n
/// and source is a factor.
pub fn read_studies(studies: &Input, arms: &Input, factor: &str) -> Result<(Vec<Study>, Vec<Arm>)> {
    let sa = Sheet::parse(arms, &["study_id", "arm", "n", factor])?;
    let factor_cols: Vec<String> = sa.headers.iter().filter(|h| !["study_id", "arm", "n", "source"].contains(&h.as_str())).cloned().collect();
    let mut arm_list = vec![];
    for r in sa.rows() {
        let n = r.count("n")?.ok_or_else(|| r.err("n", "required value is empty"))?;
        let mut factors = vec![];
        for fc in &factor_cols {
            factors.push((fc.clone(), r.req(fc)?.to_string()));
        }
        let in_treat = factors.iter().find(|(f, _)| f == factor).map(|(_, v)| v != "none").unwrap_or(false);
        arm_list.push(Arm {
            study_id: r.req("study_id")?.into(),
            arm: r.req("arm")?.into(),
            group: if in_treat { "treat".into() } else { "ctrl".into() },
            n,
            factors,
            source: r.get("source").map(String::from),
        });
    }
    let ss = Sheet::parse(studies, &["study_id", "label", "drug", "hyperinflammation", "n_treat", "n_ctrl"])?;
    let mut out = vec![];
    let mut seen = BTreeMap::new();
    for r in ss.rows() {
        let id = r.req("study_id")?.to_string();
        if seen.insert(id.clone(), r.line).is_some() {
            return Err(r.err("study_id", format!("{id} listed twice")));
        }
        let arms_of: Vec<&Arm> = arm_list.iter().filter(|a| a.study_id == id).collect();
        let (typed_t, typed_c) = (r.count("n_treat")?, r.count("n_ctrl")?);
        let (n_treat, n_ctrl, n_source) = if arms_of.is_empty() {
            let t = typed_t.ok_or_else(|| r.err("n_treat", "required value is empty (or give the arms in arms.csv)"))?;
            let c = typed_c.ok_or_else(|| r.err("n_ctrl", "required value is empty (or give the arms in arms.csv)"))?;
            (t, c, "study table".to_string())
        } else {
            let names = |g: &str| arms_of.iter().filter(|a| a.group == g).map(|a| a.arm.as_str()).collect::<Vec<_>>().join(" + ");
            let (t, c) = factor_margins(&arm_list, &id, factor).ok_or_else(|| r.err("study_id", format!("arms of {id} lack factor {factor}")))?;
            if typed_t.is_some_and(|x| x != t) || typed_c.is_some_and(|x| x != c) {
                return Err(r.err("n_treat", format!("typed sizes {typed_t:?} vs {typed_c:?} disagree with the arms ({t} vs {c})")));
            }
            (t, c, format!("derived from arms along {factor}: treat = {}; ctrl = {}", names("treat"), names("ctrl")))
        };
        out.push(Study {
            study_id: id,
            ref_: r.get("ref").map(String::from),
            label: r.req("label")?.into(),
            drug: r.req("drug")?.into(),
            design: r.get("design").map(String::from),
            hyperinflammation: r.flag("hyperinflammation")?,
            n_treat,
            n_ctrl,
            n_source,
            citation: r.get("citation").map(String::from),
        });
    }
    for a in &arm_list {
        if !seen.contains_key(&a.study_id) {
            return Err(Error::data(format!("arm {:?} belongs to unknown study {:?}", a.arm, a.study_id)).file(&arms.path).field("study_id"));
        }
    }
    Ok((out, arm_list))
}

/// Read per-arm outcome counts. `status` is reported, derived or missing; a missing row has no
/// event counts, and its denominators default to the randomized arm sizes.
pub fn read_outcomes(input: &Input, studies: &[Study]) -> Result<Vec<OutcomeRow>> {
    let sh = Sheet::parse(input, &["study_id", "outcome", "events_treat", "n_treat", "events_ctrl", "n_ctrl", "status"])?;
    let mut out = vec![];
    let mut seen = BTreeMap::new();
    for r in sh.rows() {
        let sid = r.req("study_id")?.to_string();
        let st = studies.iter().find(|s| s.study_id == sid).ok_or_else(|| r.err("study_id", format!("unknown study {sid:?} (not in studies.csv)")))?;
        let outcome = r.req("outcome")?.to_string();
        if let Some(prev) = seen.insert((sid.clone(), outcome.clone()), r.line) {
            return Err(r.err("outcome", format!("{sid} {outcome} already given on line {prev}")));
        }
        let status = r.req("status")?.to_string();
        let (et, ec) = (r.count("events_treat")?, r.count("events_ctrl")?);
        let nt = r.count("n_treat")?.unwrap_or(st.n_treat);
        let nc = r.count("n_ctrl")?.unwrap_or(st.n_ctrl);
        match status.as_str() {
            "reported" | "derived" => {
                if et.is_none() {
                    return Err(r.err("events_treat", format!("status {status} needs both event counts")));
                }
                if ec.is_none() {
                    return Err(r.err("events_ctrl", format!("status {status} needs both event counts")));
                }
                if r.get("source_url").is_none() {
                    return Err(r.err("source_url", format!("a {status} number needs its source")));
                }
            }
            "missing" => {
                if et.is_some() || ec.is_some() {
                    return Err(r.err("status", "status missing but event counts are given"));
                }
            }
            other => return Err(r.err("status", format!("{other:?}: expected reported, derived or missing"))),
        }
        if let Some(e) = et.filter(|e| *e > nt) {
            return Err(r.err("events_treat", format!("{e} events > n_treat {nt}")));
        }
        if let Some(e) = ec.filter(|e| *e > nc) {
            return Err(r.err("events_ctrl", format!("{e} events > n_ctrl {nc}")));
        }
        out.push(OutcomeRow {
            study_id: sid,
            outcome,
            timepoint: r.get("timepoint").map(String::from),
            events_treat: et,
            n_treat: nt,
            events_ctrl: ec,
            n_ctrl: nc,
            status,
            source: r.get("source_url").map(String::from),
            evidence: r.get("evidence").map(String::from),
        });
    }
    Ok(out)
}

pub fn studies_table(st: &[Study]) -> Result<Table> {
    let mut t = Builder::new(&STUDIES);
    for x in st {
        t.row(vec![s(&x.study_id), so(x.ref_.clone()), s(&x.label), s(&x.drug), so(x.design.clone()), b(x.hyperinflammation), i(x.n_treat), i(x.n_ctrl), s(&x.n_source), so(x.citation.clone())]);
    }
    t.finish()
}

pub fn arms_table(arms: &[Arm]) -> Result<Table> {
    let mut t = Builder::new(&ARMS);
    for a in arms {
        t.row(vec![s(&a.study_id), s(&a.arm), s(&a.group), s(a.factors.iter().map(|(f, v)| format!("{f}={v}")).collect::<Vec<_>>().join("; ")), i(a.n), so(a.source.clone())]);
    }
    t.finish()
}

pub fn outcome_table(rows: &[OutcomeRow]) -> Result<Table> {
    let mut t = Builder::new(&OUTCOME_DATA);
    for r in rows {
        t.row(vec![s(&r.study_id), s(&r.outcome), i(r.events_treat), i(r.n_treat), i(r.events_ctrl), i(r.n_ctrl), s(&r.status), so(r.source.clone()), so(r.timepoint.clone()), so(r.evidence.clone())]);
    }
    t.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str, body: &str) -> Input {
        Input { path: name.into(), bytes: body.as_bytes().to_vec() }
    }

    #[test]
    fn factorial_margins_from_arms() {
        let st = tmp("s1.csv", "study_id,label,drug,hyperinflammation,n_treat,n_ctrl\ncov_aid,COV-AID,anakinra,yes,,\n");
        let ar = tmp("a1.csv", "study_id,arm,il1_blockade,il6_blockade,n\ncov_aid,anakinra,anakinra,none,43\ncov_aid,anakinra + tocilizumab,anakinra,tocilizumab,32\ncov_aid,anakinra + siltuximab,anakinra,siltuximab,37\ncov_aid,tocilizumab,none,tocilizumab,82\ncov_aid,siltuximab,none,siltuximab,76\ncov_aid,usual care,none,none,72\n");
        let (s, arms) = read_studies(&st, &ar, "il1_blockade").unwrap();
        assert_eq!((s[0].n_treat, s[0].n_ctrl), (112, 230));
        assert_eq!(factor_margins(&arms, "cov_aid", "il6_blockade"), Some((227, 115)));
    }

    #[test]
    fn events_above_n_rejected_with_location() {
        let st = tmp("s2.csv", "study_id,label,drug,hyperinflammation,n_treat,n_ctrl\nx,X,anakinra,no,10,10\n");
        let ar = tmp("a2.csv", "study_id,arm,f,n\nx,a,drug,10\nx,b,none,10\n");
        let (s, _) = read_studies(&st, &ar, "f").unwrap();
        let oc = tmp("o2.csv", "study_id,outcome,events_treat,n_treat,events_ctrl,n_ctrl,status,source_url\nx,mortality,11,10,1,10,reported,http://x\n");
        let e = read_outcomes(&oc, &s).unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (Some(2), Some("events_treat")));
        assert_eq!(e.file.as_deref(), Some(std::path::Path::new("o2.csv")));
    }
}
