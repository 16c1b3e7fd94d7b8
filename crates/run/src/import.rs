//! `metapipe import revman FILE --name NAME`: the IO shell around `metapipe_interop`: read the
//! file, write the review it gives (`pipelines/NAME.toml`, `data/NAME/`) atomically, refusing to
//! overwrite anything and writing nothing when the file is bad.

use metapipe_interop::revman;
use metapipe_tables::io::Input;
use metapipe_tables::Error;
use std::path::Path;

/// Import a RevMan review under `root`; returns what was written.
pub fn import_revman(path: &Path, root: &Path, name: &str) -> Result<String, Error> {
    crate::init::check_name(name)?;
    let input = Input::read(path)?;
    let rv = revman::read(path, &input.bytes)?;
    let source = path
        .file_name()
        .and_then(|f| f.to_str())
        .unwrap_or("")
        .to_string();
    let files = revman::files(&rv, name, &source).map_err(|e| e.file(path))?;
    let targets: Vec<_> = files
        .iter()
        .map(|(p, body)| (root.join(p), body.clone()))
        .collect();
    crate::init::write_new(&targets, "import")?;
    let figures = files
        .iter()
        .find(|(p, _)| p.ends_with("published.csv"))
        .map_or(0, |(_, b)| b.lines().count().saturating_sub(1));
    Ok(format!(
        "imported {} analyses of {} studies from {source} ({}); {figures} of RevMan's figures in data/{name}/published.csv; run: metapipe run pipelines/{name}.toml\n",
        rv.analyses.len(),
        rv.studies.len(),
        rv.format
    ))
}
