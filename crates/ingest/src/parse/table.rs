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
    let c = Columns::find(&headers);
    if c.title.is_none() {
        return Err(Error::data("CSV has no title column")
            .line(1)
            .field("title"));
    }
    let mut out = vec![];
    for row in rdr.records() {
        // the line the record starts on (a quoted abstract may span lines)
        let row = row.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            Error::data(e.to_string()).line(line)
        })?;
        let ln = row.position().map_or(0, |p| p.line() as usize);
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
        r.entry_type = get(c.ty).or_else(|| c.registry.then(|| "trial registration".to_string()));
        r.title = get(c.title);
        if let Some(y) = get(c.year) {
            r.year = Some(year_of(&y).ok_or_else(|| {
                Error::data(format!("not a year: {y:?}"))
                    .line(ln)
                    .field("year")
            })?);
        }
        r.authors = get(c.authors)
            .map(|a| {
                a.split(" and ")
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        r.journal = get(c.journal);
        r.volume = get(c.volume);
        r.issue = get(c.issue);
        r.pages = get(c.pages);
        r.doi = get(c.doi);
        r.abstract_ = get(c.abstract_);
        for (k, h) in headers.iter().enumerate() {
            if !c.known().contains(&Some(k)) {
                if let Some(v) = row.get(k).filter(|v| !v.is_empty()) {
                    r.extra.push((h.clone(), v.to_string()));
                }
            }
        }
        let id = get(c.id);
        out.push(finish(r, id, database));
    }
    Ok(out)
}

/// The positions of the columns a search export's CSV may have (names case-insensitive).
struct Columns {
    id: Option<usize>,
    title: Option<usize>,
    year: Option<usize>,
    authors: Option<usize>,
    journal: Option<usize>,
    volume: Option<usize>,
    issue: Option<usize>,
    pages: Option<usize>,
    doi: Option<usize>,
    abstract_: Option<usize>,
    ty: Option<usize>,
    /// a trial register's export (ClinicalTrials.gov: "NCT Number", "Study Title"; WHO ICTRP:
    /// "TrialID", "Public title"): records are registrations
    registry: bool,
}

impl Columns {
    fn find(headers: &[String]) -> Columns {
        let idx = |names: &[&str]| {
            headers
                .iter()
                .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
        };
        Columns {
            id: idx(&["ID", "record_id", "NCT Number", "TrialID"]),
            title: idx(&["title", "Study Title", "Public title", "Public_title"]),
            year: idx(&[
                "year",
                "First Posted",
                "Date registration",
                "Date_registration",
                "Start Date",
            ]),
            authors: idx(&["author", "authors"]),
            journal: idx(&["journal", "booktitle"]),
            volume: idx(&["volume"]),
            issue: idx(&["number", "issue"]),
            pages: idx(&["pages"]),
            doi: idx(&["doi"]),
            abstract_: idx(&["abstract"]),
            ty: idx(&["ENTRYTYPE", "type"]),
            registry: idx(&["NCT Number", "TrialID"]).is_some(),
        }
    }

    /// The columns read into the record's own fields (the others go to `extra`).
    fn known(&self) -> [Option<usize>; 11] {
        [
            self.id,
            self.title,
            self.year,
            self.authors,
            self.journal,
            self.volume,
            self.issue,
            self.pages,
            self.doi,
            self.abstract_,
            self.ty,
        ]
    }
}
