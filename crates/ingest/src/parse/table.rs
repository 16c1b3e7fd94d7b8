//! CSV exports (including the bib-dedupe benchmark layout).

use super::record::{finish, year_of, Record};
use metapipe_tables::{Error, Result};

/// CSV with a header row. Known columns (case-insensitive): ID, title, year, author(s), journal,
/// volume, number/issue, pages, doi, abstract, ENTRYTYPE; others go to `extra`.
pub fn parse_csv(text: &str, file: &str, database: &str) -> Result<Vec<Record>> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| Error::data(e.to_string()).line(1))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let idx = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
    };
    let (i_id, i_ti, i_yr, i_au, i_jo, i_vl, i_is, i_pg, i_doi, i_ab, i_ty) = (
        idx(&["ID", "record_id", "NCT Number", "TrialID"]),
        idx(&["title", "Study Title", "Public title", "Public_title"]),
        idx(&[
            "year",
            "First Posted",
            "Date registration",
            "Date_registration",
            "Start Date",
        ]),
        idx(&["author", "authors"]),
        idx(&["journal", "booktitle"]),
        idx(&["volume"]),
        idx(&["number", "issue"]),
        idx(&["pages"]),
        idx(&["doi"]),
        idx(&["abstract"]),
        idx(&["ENTRYTYPE", "type"]),
    );
    if i_ti.is_none() {
        return Err(Error::data("CSV has no title column")
            .line(1)
            .field("title"));
    }
    // a trial register's export (ClinicalTrials.gov: "NCT Number", "Study Title"; WHO ICTRP:
    // "TrialID", "Public title"): records are registrations
    let registry = headers.iter().any(|h| {
        ["NCT Number", "TrialID"]
            .iter()
            .any(|n| h.eq_ignore_ascii_case(n))
    });
    let mut out = vec![];
    for (n, row) in rdr.records().enumerate() {
        let ln = n + 2;
        let row = row.map_err(|e| Error::data(e.to_string()).line(ln))?;
        let get = |i: Option<usize>| {
            i.and_then(|i| row.get(i))
                .map(|s| s.trim())
                .filter(|s| !s.is_empty() && *s != "NA")
                .map(String::from)
        };
        let mut r = Record {
            database: database.into(),
            source_file: file.into(),
            source_line: ln,
            ..Default::default()
        };
        r.entry_type = get(i_ty).or_else(|| registry.then(|| "trial registration".to_string()));
        r.title = get(i_ti);
        if let Some(y) = get(i_yr) {
            r.year = Some(year_of(&y).ok_or_else(|| {
                Error::data(format!("not a year: {y:?}"))
                    .line(ln)
                    .field("year")
            })?);
        }
        r.authors = get(i_au)
            .map(|a| {
                a.split(" and ")
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        r.journal = get(i_jo);
        r.volume = get(i_vl);
        r.issue = get(i_is);
        r.pages = get(i_pg);
        r.doi = get(i_doi);
        r.abstract_ = get(i_ab);
        for (k, h) in headers.iter().enumerate() {
            if ![
                i_id, i_ti, i_yr, i_au, i_jo, i_vl, i_is, i_pg, i_doi, i_ab, i_ty,
            ]
            .contains(&Some(k))
            {
                if let Some(v) = row.get(k).filter(|v| !v.is_empty()) {
                    r.extra.push((h.clone(), v.to_string()));
                }
            }
        }
        let id = get(i_id);
        out.push(finish(r, id, database));
    }
    Ok(out)
}
