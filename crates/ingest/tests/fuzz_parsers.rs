//! Property-based fuzzing of every parser: arbitrary bytes, and valid exports with random
//! mutations, must give records or an error — never a panic. Bounded in `make test`
//! (256 cases each); `PROPTEST_CASES=100000 cargo test -p metapipe-ingest --test fuzz_parsers`
//! (or `make fuzz`) runs longer. Crashes found become regression cases below.

use metapipe_ingest::parse::{
    decode, detect, parse_bibtex, parse_csv, parse_endnote_xml, parse_enw, parse_medline,
    parse_ris, parse_wos,
};
use proptest::prelude::*;
use std::path::Path;

const SEEDS: [&str; 7] = [
    "TY  - JOUR\nID  - 1\nTI  - Anakinra in COVID-19\n  continued\nAU  - Doe, J\nPY  - 2021\nSP  - 10\nEP  - 12\nER  - \n",
    "PMID- 1\nTI  - A title\n      goes on.\nAU  - Doe J\nDP  - 2021 Dec\nLID - 10.1/x [doi]\n\nPMID- 2\nTI  - B\n",
    "FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nAU Doe, J\n   Roe, R\nTI A TITLE\nPY 2021\nUT WOS:1\nER\n\nEF\n",
    "@article{k1, title = {A {B} title}, author = {Doe, J. and Roe, R.}, year = 2020, pages = {1--9}}\n@misc{k2, title = \"x\" # \"y\"}\n",
    "<?xml version=\"1.0\"?><xml><records><record><rec-number>1</rec-number><titles><title><style>A &amp; B</style></title></titles><dates><year>2020</year></dates></record></records></xml>",
    "%0 Journal Article\n%A Doe, J\n%T A title\n%D 2020\n\n%0 Journal Article\n%T B\n",
    "ID,title,year,author,pages\n1,A title,2020,Doe J and Roe R,1-9\n2,\"Quoted, title\",2021,,\n",
];

fn all_parsers(s: &str) {
    let _ = detect(s);
    let _ = parse_ris(s, "f", "db");
    let _ = parse_medline(s, "f", "db");
    let _ = parse_wos(s, "f", "db");
    let _ = parse_csv(s, "f", "db");
    let _ = parse_bibtex(s, "f", "db");
    let _ = parse_endnote_xml(s, "f", "db");
    let _ = parse_enw(s, "f", "db");
    // and the normalizers and dedup keys on whatever came out
    if let Ok(recs) = parse_ris(s, "f", "db") {
        for r in &recs {
            let _ = metapipe_ingest::dedup::keys(r);
        }
    }
}

fn mutate(seed: &str, edits: &[(usize, u8, u8)]) -> String {
    let mut b = seed.as_bytes().to_vec();
    for &(pos, op, byte) in edits {
        if b.is_empty() {
            b.push(byte);
            continue;
        }
        let p = pos % b.len();
        match op % 4 {
            0 => b[p] = byte,
            1 => {
                b.remove(p);
            }
            2 => b.insert(p, byte),
            _ => b.truncate(p),
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(s in "\\PC*") {
        all_parsers(&s);
    }

    #[test]
    fn arbitrary_bytes_decode_never_panics(b in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Ok((s, _)) = decode(&b, Path::new("x")) {
            all_parsers(&s);
        }
    }

    #[test]
    fn mutated_exports_never_panic(which in 0usize..SEEDS.len(), edits in prop::collection::vec((any::<usize>(), any::<u8>(), prop::sample::select(b"{}()<>/\\\"%@,-=\n\r\t a1&;#[]:".to_vec())), 1..12)) {
        let s = mutate(SEEDS[which], &edits);
        all_parsers(&s);
    }

    #[test]
    fn normalizers_never_panic(s in "\\PC{0,200}") {
        let _ = metapipe_ingest::normalize::title(&s);
        let _ = metapipe_ingest::normalize::surname(&s);
        let _ = metapipe_ingest::normalize::pages(&s);
        let _ = metapipe_ingest::normalize::doi(&s);
        let _ = metapipe_ingest::normalize::name_tokens(&s);
        let t = metapipe_ingest::normalize::title(&s);
        let _ = metapipe_ingest::normalize::similarity(&t, &t.chars().rev().collect::<String>());
    }
}

/// Regression cases found while fuzzing or while running the benchmark sets.
#[test]
fn regressions() {
    // multi-byte characters at the start of a title used to be sliced mid-character
    let _ = metapipe_ingest::normalize::title("Soliris® (eculizumab) highlights");
    let _ = metapipe_ingest::normalize::title("Ginecolog\u{fffd}a.y obstetricia de M\u{fffd}xico.");
    let _ = metapipe_ingest::normalize::title("é");
    all_parsers("@");
    all_parsers("@article{");
    all_parsers("<");
    all_parsers("TY  -");
    all_parsers("PMID-");
    all_parsers("%");
    // found by this fuzzer: a multi-byte character inside the RIS tag window, after "%", and
    // inside a four-byte year window
    all_parsers("N8'\u{f06}\u{1e7ee}\">n");
    all_parsers("%\u{e9}x\n");
    all_parsers("@a{k, year = {19\u{e9}9}}");
    all_parsers("%0 x\n%D 20\u{f06}21\n");
}
