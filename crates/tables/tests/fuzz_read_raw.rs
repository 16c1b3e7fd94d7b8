//! Fuzzing the user-table reader behind `metapipe pool`: arbitrary bytes (CSV-like and
//! Parquet-like) give a table or an error, never a panic.

use metapipe_tables::io::open_user;
use proptest::prelude::*;

fn check(bytes: &[u8]) {
    let p = std::env::temp_dir().join(format!(
        "mp-fuzz-raw-{}-{:?}.bin",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&p, bytes).unwrap();
    // open, then read every column as numbers and as text
    if let Ok(src) = open_user(&p) {
        let names: Vec<&str> = src.names.iter().map(|s| s.as_str()).collect();
        let mut uniq = names.clone();
        uniq.sort();
        uniq.dedup();
        if let Ok(t) = src.read(&uniq) {
            for n in &uniq {
                let _ = t.num(n);
                let _ = t.text(n);
            }
        }
    }
    let _ = std::fs::remove_file(&p);
}

proptest! {
    #[test]
    fn csv_like_never_panics(s in "[a-z0-9,.\\-\"\\n\\r NaIinf]{0,300}") {
        check(s.as_bytes());
    }

    #[test]
    fn parquet_like_never_panics(b in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut v = b"PAR1".to_vec();
        v.extend(b);
        v.extend(b"PAR1");
        check(&v);
    }
}
