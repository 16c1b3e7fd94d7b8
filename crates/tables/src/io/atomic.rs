//! Atomic writes: every output goes to a temporary file in the target directory, is synced,
//! and is renamed over the target, so a reader sees the old file or the new one, never half.

use crate::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The name of [`write_atomic`]'s temporary file for a target named `name`, but for the
/// writer's process id.
pub(crate) fn temp_prefix(name: &str) -> String {
    format!(".{name}.tmp-")
}

/// Whether `file_name` is a temporary file [`write_atomic`] left for the file named `target` in
/// the same directory (a process killed mid-write leaves it; the target is untouched).
pub fn is_write_leftover(file_name: &str, target: &str) -> bool {
    file_name.starts_with(&temp_prefix(target))
}

/// The temporary file an atomic write of `path` goes through (its directory created): beside
/// the target, named by [`temp_prefix`] and this process's id.
pub(crate) fn temp_path(path: &Path) -> Result<PathBuf> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let name = path
        .file_name()
        .ok_or_else(|| Error::usage(format!("{}: not a file path", path.display())))?;
    Ok(dir.join(format!(
        "{}{}",
        temp_prefix(&name.to_string_lossy()),
        std::process::id()
    )))
}

/// Finish an atomic write: `written` is how filling the temporary file `tmp` went (an error
/// names the file it concerns); on success `tmp` is renamed over `path`, else removed.
pub(crate) fn finish_atomic(
    tmp: &Path,
    path: &Path,
    written: std::result::Result<(), (PathBuf, std::io::Error)>,
) -> Result<()> {
    if let Err((p, e)) = written {
        let _ = std::fs::remove_file(tmp);
        return Err(Error::io(&p, e));
    }
    std::fs::rename(tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(tmp);
        Error::io(path, e)
    })
}

/// Write `bytes` to `path` atomically (temp file in the same directory, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(path)?;
    let written = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    finish_atomic(&tmp, path, written.map_err(|e| (path.to_path_buf(), e)))
}

/// Write `path` atomically as the concatenation of byte ranges of other files (`(file, offset)`:
/// from `offset` to its end), copied by the kernel (`copy_file_range` where the file system has
/// it): a large output joined from parts without reading them into memory.
pub fn write_atomic_parts(path: &Path, parts: &[(PathBuf, u64)]) -> Result<()> {
    use std::io::{Seek, SeekFrom};
    let tmp = temp_path(path)?;
    let written = (|| -> std::result::Result<(), (PathBuf, std::io::Error)> {
        let mut f = std::fs::File::create(&tmp).map_err(|e| (path.to_path_buf(), e))?;
        for (part, offset) in parts {
            let mut src = std::fs::File::open(part).map_err(|e| (part.clone(), e))?;
            src.seek(SeekFrom::Start(*offset))
                .map_err(|e| (part.clone(), e))?;
            std::io::copy(&mut src, &mut f).map_err(|e| (part.clone(), e))?;
        }
        f.sync_all().map_err(|e| (path.to_path_buf(), e))
    })();
    finish_atomic(&tmp, path, written)
}
