//! `metapipe init NAME`: a new review's config (every key, commented) and its input templates.

use metapipe_tables::io::write_atomic;
use metapipe_tables::Error;
use std::path::Path;

const PIPELINE: &str = include_str!("templates/pipeline.toml");
const FILES: [(&str, &str); 3] = [
    ("studies.csv", include_str!("templates/studies.csv")),
    (
        "outcome_data.csv",
        include_str!("templates/outcome_data.csv"),
    ),
    ("published.csv", include_str!("templates/published.csv")),
];

/// Write `pipelines/NAME.toml` and `data/NAME/` under `root`; refuses to overwrite anything.
pub fn init(root: &Path, name: &str) -> Result<String, Error> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Error::usage(format!(
            "{name:?}: a review name is letters, digits, - and _"
        )));
    }
    let cfg = root.join("pipelines").join(format!("{name}.toml"));
    let data = root.join("data").join(name);
    let mut targets = vec![(cfg.clone(), PIPELINE.replace("{name}", name))];
    targets.extend(
        FILES
            .iter()
            .map(|(f, body)| (data.join(f), body.to_string())),
    );
    for (p, _) in &targets {
        if p.exists() {
            return Err(Error::usage(format!(
                "{} exists; metapipe init never overwrites",
                p.display()
            )));
        }
    }
    for (p, body) in &targets {
        write_atomic(p, body.as_bytes())?;
    }
    Ok(format!("wrote {} and {}/ (studies.csv, outcome_data.csv, published.csv); fill the sheets, then: metapipe run {}\n", cfg.display(), data.display(), cfg.display()))
}
