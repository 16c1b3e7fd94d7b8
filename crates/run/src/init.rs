//! `metapipe init NAME`: a new review's config (every key, commented) and its input templates.

use metapipe_tables::io::write_atomic;
use metapipe_tables::Error;
use std::path::{Path, PathBuf};

const PIPELINE: &str = include_str!("templates/pipeline.toml");
const FILES: [(&str, &str); 3] = [
    ("studies.csv", include_str!("templates/studies.csv")),
    (
        "outcome_data.csv",
        include_str!("templates/outcome_data.csv"),
    ),
    ("published.csv", include_str!("templates/published.csv")),
];

/// A review name: letters, digits, - and _ (it names `pipelines/NAME.toml` and `data/NAME/`).
pub(crate) fn check_name(name: &str) -> Result<(), Error> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Error::usage(format!(
            "{name:?}: a review name is letters, digits, - and _"
        )));
    }
    Ok(())
}

/// Write new files (`metapipe COMMAND`'s): when any of them exists, none (never overwrites).
pub(crate) fn write_new(files: &[(PathBuf, String)], command: &str) -> Result<(), Error> {
    if let Some((p, _)) = files.iter().find(|(p, _)| p.exists()) {
        return Err(Error::usage(format!(
            "{} exists; metapipe {command} never overwrites",
            p.display()
        )));
    }
    for (p, body) in files {
        write_atomic(p, body.as_bytes())?;
    }
    Ok(())
}

/// Write `pipelines/NAME.toml` and `data/NAME/` under `root`; refuses to overwrite anything.
pub fn init(root: &Path, name: &str) -> Result<String, Error> {
    check_name(name)?;
    let cfg = root.join("pipelines").join(format!("{name}.toml"));
    let data = root.join("data").join(name);
    let mut targets = vec![(cfg.clone(), PIPELINE.replace("{name}", name))];
    targets.extend(
        FILES
            .iter()
            .map(|(f, body)| (data.join(f), body.to_string())),
    );
    write_new(&targets, "init")?;
    Ok(format!("wrote {} and {}/ (studies.csv, outcome_data.csv, published.csv); fill the sheets, then: metapipe run {}\n", cfg.display(), data.display(), cfg.display()))
}
