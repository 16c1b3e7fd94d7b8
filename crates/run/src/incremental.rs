//! Incremental reruns: each stage's inputs (files, config sections, upstream stages) are
//! content-hashed; a stage whose inputs hash as in the previous run is not run, and the files it
//! wrote then are taken from the previous outputs (after checking them: size and modification
//! time as recorded, else the content hash), so the result is byte-identical to a full rerun.
//! The record sits beside the outputs (`out/.<name>.stages.json`), not inside them: the outputs
//! stay free of host-dependent bytes. The executable's own hash is part of every key: a new build
//! reruns everything. (The hashes of the ~100 MB program and of large input files are kept in
//! the record with their size and modification time, and reused while both are unchanged, as
//! cargo and make trust timestamps; a living review's rerun then reads only its new round.)

use metapipe_tables::io::{read_parquet, write_atomic, write_csv, write_parquet};
use metapipe_tables::schema::TableSchema;
use metapipe_tables::{Error, Result, Table};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tracing::info;

/// The staging directory a run writes into (exchanged with `out/<name>/` at the end), and the
/// files the running stage wrote.
pub struct Stage {
    pub(crate) dir: PathBuf,
    /// the previous run's outputs (`out/<name>/`), if any
    pub(crate) previous: PathBuf,
    /// files written by the stage running now (relative to `dir`), with their content hash
    /// when it was taken from the bytes written
    pub(crate) written: std::cell::RefCell<Vec<(String, Hash)>>,
}

impl Stage {
    pub fn put(&self, t: &Table) -> Result<()> {
        self.put_at(t, &format!("{}.parquet", t.schema.name))
    }
    /// Write a table as Parquet at `rel` (relative to the output directory; a per-round part).
    pub fn put_at(&self, t: &Table, rel: &str) -> Result<()> {
        self.written
            .borrow_mut()
            .push((rel.to_string(), Hash::ReadBack));
        let p = self.dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        write_parquet(t, &p)
    }
    /// Write an output file (relative to the output directory).
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        self.written
            .borrow_mut()
            .push((rel.to_string(), Hash::Of(h(bytes))));
        write_atomic(&self.dir.join(rel), bytes)
    }
    /// Write an output file joined from byte ranges of files already in the output directory
    /// (`(relative path, offset)`), copied by the kernel.
    pub fn write_parts(&self, rel: &str, parts: &[(String, u64)]) -> Result<()> {
        self.written
            .borrow_mut()
            .push((rel.to_string(), Hash::NotTaken));
        let parts: Vec<(PathBuf, u64)> =
            parts.iter().map(|(p, o)| (self.dir.join(p), *o)).collect();
        metapipe_tables::io::write_atomic_parts(&self.dir.join(rel), &parts)
    }
    pub fn get(&self, s: &'static TableSchema) -> Result<Table> {
        read_parquet(&self.dir.join(format!("{}.parquet", s.name)), s)
    }
    /// A table an optional stage wrote, if it ran.
    pub fn maybe(&self, s: &'static TableSchema) -> Result<Option<Table>> {
        let p = self.dir.join(format!("{}.parquet", s.name));
        if p.exists() {
            read_parquet(&p, s).map(Some)
        } else {
            Ok(None)
        }
    }
    pub fn csv(&self, t: &Table, name: &str) -> Result<()> {
        self.written
            .borrow_mut()
            .push((name.to_string(), Hash::ReadBack));
        write_csv(t, &self.dir.join(name))
    }
}

/// The content hash of a file a stage wrote: to be read back, known from the bytes written, or
/// not taken (a file joined from others by the kernel: reused only while its size and time are
/// as recorded, else its stage reruns).
pub(crate) enum Hash {
    ReadBack,
    Of(u64),
    NotTaken,
}

/// [`h`] of a value's debug text (a stage input that is a config section or a typed plan).
pub fn h_debug(x: &dyn std::fmt::Debug) -> u64 {
    h(format!("{x:?}").as_bytes())
}

/// A stable content hash (the same bytes hash the same on every machine): FNV-1a over 8-byte
/// little-endian words, then the tail bytes. Word-wise because every run hashes the program
/// itself (~100 MB), on the start-up path.
pub fn h(bytes: &[u8]) -> u64 {
    const PRIME: u64 = 0x100000001b3;
    let mut x: u64 = 0xcbf29ce484222325 ^ bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        x = (x ^ u64::from_le_bytes(w.try_into().expect("8 bytes")))
            .wrapping_mul(PRIME)
            .rotate_left(29);
    }
    for b in words.remainder() {
        x = (x ^ *b as u64).wrapping_mul(PRIME);
    }
    x
}

/// What one stage read and wrote in a run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct StageRecord {
    pub key: String,
    /// each input's hash, by name (to say which changed)
    pub inputs: BTreeMap<String, String>,
    /// each file written (relative to the output directory) and its content hash (empty when
    /// not taken: [`Hash::NotTaken`])
    pub files: BTreeMap<String, String>,
    /// each file's size and modification time when written: a previous output that still has
    /// both is taken without reading it again (hard links keep them), as make trusts timestamps
    #[serde(default)]
    pub stamps: BTreeMap<String, String>,
    /// what the stage returned to the later stages
    pub value: serde_json::Value,
}

/// A file's size and modification time (nanoseconds), as `size@time`; none if it cannot be read
/// or the file system keeps no time.
fn stamp(p: &Path) -> Option<String> {
    let m = std::fs::metadata(p).ok()?;
    if m.is_dir() {
        // a directory's time does not change when a file in it is rewritten: always hash
        return None;
    }
    let t = m
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!("{}@{}", m.len(), t.as_nanos()))
}

/// The running program: where it is, its size and modification time, and its content hash.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
struct Program {
    path: String,
    len: u64,
    /// modification time, nanoseconds since the Unix epoch
    modified: String,
    hash: String,
}

impl Program {
    /// The running program; its hash taken from `known` when path, size and modification time
    /// are the same, else computed.
    fn current(known: Option<&Program>) -> Program {
        let Some(path) = std::env::current_exe().ok() else {
            return Program::default();
        };
        let meta = std::fs::metadata(&path).ok();
        let len = meta.as_ref().map_or(0, |m| m.len());
        let modified = meta
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos().to_string())
            .unwrap_or_default();
        let mut p = Program {
            path: path.display().to_string(),
            len,
            modified,
            hash: String::new(),
        };
        match known {
            Some(k)
                if !p.modified.is_empty()
                    && (k.path.as_str(), k.len, k.modified.as_str())
                        == (p.path.as_str(), p.len, p.modified.as_str()) =>
            {
                p.hash = k.hash.clone()
            }
            _ => {
                p.hash = std::fs::read(&path)
                    .map(|b| format!("{:016x}", h(&b)))
                    .unwrap_or_default()
            }
        }
        p
    }
}

/// The record beside the outputs: the program that wrote them, what each stage read and wrote,
/// and the content hashes of the input files by path with their size and modification time.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct RunRecord {
    program: Program,
    stages: BTreeMap<String, StageRecord>,
    #[serde(default)]
    inputs: BTreeMap<String, (String, String)>,
}

pub struct Cache {
    prev: BTreeMap<String, StageRecord>,
    now: BTreeMap<String, StageRecord>,
    /// input files' (stamp, hash) by path, from the previous run and for the next
    prev_inputs: BTreeMap<String, (String, String)>,
    now_inputs: BTreeMap<String, (String, String)>,
    program: Program,
    exe: u64,
    previous_dir: PathBuf,
}

impl Cache {
    /// The previous run's record (none when missing or unreadable: every stage runs).
    pub fn load(path: &Path, previous_dir: &Path) -> Cache {
        let prev: Option<RunRecord> = std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let program = Program::current(prev.as_ref().map(|r| &r.program));
        let exe = u64::from_str_radix(&program.hash, 16).unwrap_or(0);
        let (prev, prev_inputs) = prev.map(|r| (r.stages, r.inputs)).unwrap_or_default();
        Cache {
            prev,
            now: BTreeMap::new(),
            prev_inputs,
            now_inputs: BTreeMap::new(),
            program,
            exe,
            previous_dir: previous_dir.to_path_buf(),
        }
    }

    /// The content hash of an input file: taken from the previous run's record while the file's
    /// size and modification time are those recorded (as for the program), else computed. A
    /// file modified less than a second before it was read is not recorded (an edit within the
    /// file system's timestamp granularity could keep both).
    pub fn input_hash<'a>(
        &mut self,
        path: &Path,
        read: impl FnOnce() -> Result<&'a metapipe_tables::io::Input>,
    ) -> Result<u64> {
        let key = path.display().to_string();
        let st = stamp(path);
        let hash = match (self.prev_inputs.get(&key), &st) {
            (Some((s, hash)), Some(now)) if s == now && u64::from_str_radix(hash, 16).is_ok() => {
                u64::from_str_radix(hash, 16).expect("checked")
            }
            _ => h(&read()?.bytes),
        };
        let settled = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age.as_secs_f64() >= 1.0);
        if let (Some(st), true) = (st, settled) {
            self.now_inputs.insert(key, (st, format!("{hash:016x}")));
        }
        Ok(hash)
    }

    /// The key of a stage that ran (or was reused) in this run. Asking for a stage that has not
    /// run is a bug in the order of the stages (a dependency would be silently dropped): it
    /// panics.
    pub fn key(&self, stage: &str) -> u64 {
        let record = self
            .now
            .get(stage)
            .unwrap_or_else(|| panic!("stage {stage:?} is used as an input before it has run"));
        u64::from_str_radix(&record.key, 16)
            .unwrap_or_else(|_| panic!("stage {stage:?} has a malformed key {:?}", record.key))
    }

    /// Run `f` as stage `name`, or reuse the previous run's outputs when its inputs are
    /// unchanged; logs which, why, and how long it took.
    pub fn stage<T: Serialize + DeserializeOwned>(
        &mut self,
        st: &Stage,
        name: &str,
        inputs: Vec<(String, u64)>,
        f: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        let t0 = std::time::Instant::now();
        let inputs: BTreeMap<String, String> = inputs
            .into_iter()
            .map(|(k, v)| (k, format!("{v:016x}")))
            .collect();
        let mut all = format!("{:016x}", self.exe);
        for (k, v) in &inputs {
            all.push_str(&format!("\n{k}={v}"));
        }
        let key = format!("{:016x}", h(all.as_bytes()));
        let why = match self.prev.get(name) {
            None => "first run (no record of a previous one)".to_string(),
            Some(p) if p.key == key => match self.reuse(st, p) {
                Ok(()) => {
                    let value: T = serde_json::from_value(p.value.clone())
                        .map_err(|e| Error::data(format!("stage record of {name}: {e}")))?;
                    self.now.insert(name.to_string(), p.clone());
                    info!(
                        stage = name,
                        "skipped: inputs unchanged; outputs taken from the previous run"
                    );
                    return Ok(value);
                }
                Err(why) => why,
            },
            Some(p) => changed(&inputs, &p.inputs),
        };
        st.written.borrow_mut().clear();
        let value = {
            let _progress = Progress::start(name);
            f()?
        };
        let (files, stamps) = written(st)?;
        let value_json = serde_json::to_value(&value)
            .map_err(|e| Error::data(format!("stage record of {name}: {e}")))?;
        self.now.insert(
            name.to_string(),
            StageRecord {
                key,
                inputs,
                files,
                stamps,
                value: value_json,
            },
        );
        info!(
            stage = name,
            seconds = format!("{:.3}", t0.elapsed().as_secs_f64()),
            "ran: {why}"
        );
        Ok(value)
    }

    /// Put a stage's previous outputs into the staging directory, if they are all there as
    /// written (content hashes checked): hard links (the previous directory is replaced by this
    /// run's), copies where the file system has none.
    fn reuse(&self, st: &Stage, p: &StageRecord) -> std::result::Result<(), String> {
        for (rel, hash) in &p.files {
            let path = self.previous_dir.join(rel);
            if stamp(&path).is_some_and(|s| p.stamps.get(rel) == Some(&s)) {
                continue;
            }
            let bytes = std::fs::read(&path)
                .map_err(|_| format!("the previous output {rel} is missing"))?;
            if hash.is_empty() || format!("{:016x}", h(&bytes)) != *hash {
                return Err(format!("the previous output {rel} was changed since"));
            }
        }
        for rel in p.files.keys() {
            let (from, to) = (self.previous_dir.join(rel), st.dir.join(rel));
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            if std::fs::hard_link(&from, &to).is_err() {
                let bytes = std::fs::read(&from).map_err(|e| e.to_string())?;
                st.write(rel, &bytes).map_err(|e| e.to_string())?;
            }
        }
        st.written.borrow_mut().clear();
        Ok(())
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let record = RunRecord {
            program: self.program.clone(),
            stages: self.now.clone(),
            inputs: self.now_inputs.clone(),
        };
        let text = serde_json::to_string_pretty(&record).map_err(|e| Error::data(e.to_string()))?;
        metapipe_tables::io::write_atomic(path, text.as_bytes())
    }
}

/// Whether a progress line is on the terminal now, and the lock that orders it with log lines.
static PROGRESS_SHOWN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static STDERR: std::sync::Mutex<()> = std::sync::Mutex::new(());
const PROGRESS_WIDTH: usize = 60;

/// Clear the progress line if one is shown (the caller holds [`STDERR`]).
fn clear_progress() {
    if PROGRESS_SHOWN.swap(false, std::sync::atomic::Ordering::SeqCst) {
        eprint!("\r{}\r", " ".repeat(PROGRESS_WIDTH));
    }
}

/// Where the log goes (stderr): a log line first clears the progress line, which the progress
/// thread draws again on its next tick, so the two never share a line.
pub struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _g = STDERR.lock().unwrap_or_else(|e| e.into_inner());
        clear_progress();
        std::io::stderr().write_all(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// A progress line on a terminal for a stage that runs over a second ("ingest … 3 s"), cleared
/// when the stage ends; nothing when stderr is not a terminal (logs, CI).
struct Progress {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    fn start(stage: &str) -> Progress {
        use std::io::IsTerminal;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        if !std::io::stderr().is_terminal() {
            return Progress { stop, handle: None };
        }
        let (flag, stage) = (stop.clone(), stage.to_string());
        let handle = std::thread::spawn(move || {
            let t0 = std::time::Instant::now();
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                // woken early when the stage ends (Drop unparks), so a stage never waits for a tick
                std::thread::park_timeout(std::time::Duration::from_millis(200));
                let secs = t0.elapsed().as_secs();
                if secs >= 1 && !flag.load(std::sync::atomic::Ordering::Relaxed) {
                    let _g = STDERR.lock().unwrap_or_else(|e| e.into_inner());
                    let line: String = format!("  {stage} … {secs} s")
                        .chars()
                        .take(PROGRESS_WIDTH)
                        .collect();
                    eprint!("\r{line}");
                    PROGRESS_SHOWN.store(true, std::sync::atomic::Ordering::SeqCst);
                }
            }
            let _g = STDERR.lock().unwrap_or_else(|e| e.into_inner());
            clear_progress();
        });
        Progress {
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            h.thread().unpark();
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests;

/// Why a stage with a previous record runs again: the inputs that changed, else the program.
fn changed(now: &BTreeMap<String, String>, before: &BTreeMap<String, String>) -> String {
    let changed: Vec<&str> = now
        .keys()
        .chain(before.keys())
        .filter(|k| now.get(*k) != before.get(*k))
        .map(String::as_str)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if changed.is_empty() {
        "the program changed".to_string()
    } else {
        format!("changed: {}", changed.join(", "))
    }
}

/// The files a stage wrote, with their content hashes and stamps (for the stage record).
type Written = (BTreeMap<String, String>, BTreeMap<String, String>);

fn written(st: &Stage) -> Result<Written> {
    let (mut files, mut stamps) = (BTreeMap::new(), BTreeMap::new());
    for (rel, hash) in st.written.borrow_mut().drain(..) {
        let p = st.dir.join(&rel);
        let hash = match hash {
            Hash::Of(x) => format!("{x:016x}"),
            Hash::ReadBack => format!(
                "{:016x}",
                h(&std::fs::read(&p).map_err(|e| Error::io(&p, e))?)
            ),
            Hash::NotTaken => String::new(),
        };
        files.insert(rel.clone(), hash);
        stamps.insert(rel, stamp(&p).unwrap_or_default());
    }
    Ok((files, stamps))
}
