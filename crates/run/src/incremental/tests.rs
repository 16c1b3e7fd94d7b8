use super::*;

#[test]
fn a_log_line_clears_the_progress_line_first() {
    use std::io::Write;
    PROGRESS_SHOWN.store(true, std::sync::atomic::Ordering::SeqCst);
    LogWriter.write_all(b"a log line\n").unwrap();
    assert!(
        !PROGRESS_SHOWN.load(std::sync::atomic::Ordering::SeqCst),
        "cleared before the log line"
    );
}

#[test]
fn program_hash_is_reused_only_for_the_same_file_size_and_time() {
    let fresh = Program::current(None);
    assert_eq!(fresh.hash.len(), 16, "hashed: {fresh:?}");
    // a record of this very program (same path, size, time) is trusted, even its hash
    let recorded = Program {
        hash: "00000000000000aa".into(),
        ..fresh.clone()
    };
    assert_eq!(Program::current(Some(&recorded)).hash, "00000000000000aa");
    // another modification time or size: hashed again
    for other in [
        Program {
            modified: "1".into(),
            ..recorded.clone()
        },
        Program {
            len: recorded.len + 1,
            ..recorded.clone()
        },
    ] {
        assert_eq!(Program::current(Some(&other)).hash, fresh.hash);
    }
}

fn set_age(p: &Path, secs: u64) {
    let f = std::fs::File::options().write(true).open(p).unwrap();
    f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(secs))
        .unwrap();
}

#[test]
fn input_hash_is_reused_only_for_the_same_size_and_time() {
    let dir = std::env::temp_dir().join(format!("metapipe-input-hash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("log.csv");
    let read = |p: &Path| metapipe_tables::io::Input::read(p).unwrap();
    std::fs::write(&p, "record_id\na:1\n").unwrap();
    let mut c = Cache::load(&dir.join("none.json"), &dir);
    // a file written just now is hashed and not recorded (an edit in the same clock tick
    // could keep its size and time)
    let i = read(&p);
    assert_eq!(c.input_hash(&p, || Ok(&i)).unwrap(), h(&i.bytes));
    assert!(c.now_inputs.is_empty());
    set_age(&p, 10);
    assert_eq!(c.input_hash(&p, || Ok(&i)).unwrap(), h(&i.bytes));
    assert_eq!(c.now_inputs.len(), 1);
    // the next run takes the recorded hash without reading the file
    let mut next = Cache {
        prev_inputs: c.now_inputs.clone(),
        ..Cache::load(&dir.join("none.json"), &dir)
    };
    assert_eq!(
        next.input_hash(&p, || Err(Error::data("read"))).unwrap(),
        h(&i.bytes)
    );
    // an edit (same size, another time) is read and hashed again
    std::fs::write(&p, "record_id\na:2\n").unwrap();
    set_age(&p, 5);
    let j = read(&p);
    let mut after = Cache {
        prev_inputs: c.now_inputs.clone(),
        ..Cache::load(&dir.join("none.json"), &dir)
    };
    assert_eq!(after.input_hash(&p, || Ok(&j)).unwrap(), h(&j.bytes));
    assert_ne!(h(&i.bytes), h(&j.bytes));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_previous_output_is_reused_by_its_stamp_or_its_hash() {
    let dir = std::env::temp_dir().join(format!("metapipe-reuse-{}", std::process::id()));
    let (prev, now) = (dir.join("prev"), dir.join("now"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&prev).unwrap();
    // a stage's outputs: one written from bytes (hashed), one joined by the kernel (not)
    let st = Stage {
        dir: prev.clone(),
        previous: dir.join("none"),
        written: Default::default(),
    };
    st.write("a.txt", b"alpha").unwrap();
    st.write_parts("b.txt", &[("a.txt".into(), 1)]).unwrap();
    assert_eq!(std::fs::read(prev.join("b.txt")).unwrap(), b"lpha");
    let files: BTreeMap<String, String> = [
        ("a.txt", format!("{:016x}", h(b"alpha"))),
        ("b.txt", String::new()),
    ]
    .into_iter()
    .map(|(r, x)| (r.to_string(), x))
    .collect();
    let stamps = files
        .keys()
        .map(|r| (r.clone(), stamp(&prev.join(r)).unwrap()))
        .collect();
    let record = StageRecord {
        key: String::new(),
        inputs: BTreeMap::new(),
        files,
        stamps,
        value: serde_json::Value::Null,
    };
    let reuse = |record: &StageRecord| {
        let _ = std::fs::remove_dir_all(&now);
        std::fs::create_dir_all(&now).unwrap();
        Cache::load(&dir.join("none.json"), &prev).reuse(
            &Stage {
                dir: now.clone(),
                previous: prev.clone(),
                written: Default::default(),
            },
            record,
        )
    };
    // stamps as recorded: both taken, the joined file too
    assert_eq!(reuse(&record), Ok(()));
    assert_eq!(std::fs::read(now.join("b.txt")).unwrap(), b"lpha");
    // another modification time: the hashed file is checked by its content; the joined one
    // is not taken (its stage reruns)
    set_age(&prev.join("a.txt"), 100);
    set_age(&prev.join("b.txt"), 100);
    let mut only_a = record.clone();
    only_a.files.remove("b.txt");
    assert_eq!(reuse(&only_a), Ok(()));
    assert!(reuse(&record).unwrap_err().contains("b.txt"));
    // an edited output is never taken
    std::fs::write(prev.join("a.txt"), b"alphx").unwrap();
    assert!(reuse(&only_a).unwrap_err().contains("a.txt"));
    let _ = std::fs::remove_dir_all(&dir);
}
