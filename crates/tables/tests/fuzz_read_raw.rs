//! Fuzzing the schema-less reader behind `metapipe pool`: arbitrary bytes (CSV-like and
//! Parquet-like) give a table or an error, never a panic.

use metapipe_tables::io::read_raw;
use proptest::prelude::*;

fn check(bytes: &[u8]) {
    let p = std::env::temp_dir().join(format!("mp-fuzz-raw-{}-{:?}.bin", std::process::id(), std::thread::current().id()));
    std::fs::write(&p, bytes).unwrap();
    let _ = read_raw(&p);
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
