use super::*;
use checks::{key_line, resolve};
use proptest::prelude::*;

fn load_str(text: &str) -> Result<Config, Error> {
    let p = std::env::temp_dir().join(format!(
        "mp-cfg-{}-{:?}.toml",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&p, text).unwrap();
    let r = Config::load(&p);
    let _ = std::fs::remove_file(&p);
    r
}

proptest! {
    /// Arbitrary text and mutated real configs load or fail with an error, never panic.
    #[test]
    fn config_loader_never_panics(s in "\\PC{0,300}") {
        let _ = load_str(&s);
    }

    #[test]
    fn mutated_config_never_panics(cut in 0usize..4000, junk in "[\\[\\]=\"a-z \\n]{0,20}") {
        let base = include_str!("../../../../pipelines/il1-covid19.toml");
        let cut = cut.min(base.len());
        let cut = (0..=cut).rev().find(|&c| base.is_char_boundary(c)).unwrap_or(0);
        let text = format!("{}{}{}", &base[..cut], junk, &base[cut..]);
        let _ = load_str(&text);
    }
}

#[test]
fn error_names_line_of_unknown_key() {
    let e = load_str("[review]\nname = \"x\"\ntitle = \"t\"\nbogus = 1\n").unwrap_err();
    assert_eq!(e.line, Some(4), "{e}");
}

#[test]
fn typed_prisma_counts_that_do_not_add_up_name_the_file_and_line() {
    let base = include_str!("../../../../pipelines/bcg-tb.toml");
    let at = base.lines().count();
    let e = load_str(&format!("{base}\n[prisma]\nrecords_identified = 100\nduplicates_removed = 10\nrecords_screened = 80\n")).unwrap_err();
    assert_eq!(
        (e.line, e.field.as_deref()),
        (Some(at + 5), Some("prisma.records_screened")),
        "{e}"
    );
    assert!(
        e.file
            .as_ref()
            .is_some_and(|f| f.to_string_lossy().ends_with(".toml")),
        "{e}"
    );
    assert!(e.message.contains("= 90, not 80"), "{e}");
    let e = load_str(&format!("{base}\n[prisma]\nrecords_screend = 80\n")).unwrap_err();
    assert_eq!(
        (e.line, e.field.as_deref()),
        (Some(at + 3), Some("prisma.records_screend")),
        "{e}"
    );
}

#[test]
fn key_lines_are_found_in_their_section() {
    let t = "[analysis]\nmeasure = \"OR\"\n\n[[outcomes]]\nid = \"a\"\nmeasure = \"RR\"\n\n[[outcomes]]\nid = \"b\"\nlabel = \"B\"\nmeasure = \"HR\"\n";
    assert_eq!(key_line(t, "outcomes.measure", Some("b")), Some(11));
    assert_eq!(key_line(t, "outcomes.measure", Some("a")), Some(6));
    assert_eq!(key_line(t, "analysis.measure", None), Some(2));
    assert_eq!(key_line(t, "outcomes.scale", Some("b")), None);
}

#[test]
fn paths_fold_parent_dirs() {
    assert_eq!(
        resolve(Path::new("pipelines"), Path::new("../data/x.csv")),
        PathBuf::from("data/x.csv")
    );
    assert_eq!(
        resolve(Path::new("/a/b"), Path::new("c.csv")),
        PathBuf::from("/a/b/c.csv")
    );
    assert_eq!(
        resolve(Path::new(""), Path::new("../x.csv")),
        PathBuf::from("../x.csv")
    );
}

#[test]
fn small_study_tests_the_measure_can_take() {
    use metapipe_meta::Measure;
    let t = checks::small_study_test;
    assert!(t("harbord", Measure::OR).is_ok());
    assert!(t("egger_rma", Measure::GEN).is_ok());
    assert!(t("peters", Measure::SMD).is_ok());
    let e = t("harbord", Measure::RR).unwrap_err();
    assert!(e.contains("Harbord's test is for odds ratios"), "{e}");
    assert!(t("peters", Measure::GEN).is_err());
    let e = t("begg", Measure::OR).unwrap_err();
    assert_eq!(e, "\"begg\": expected egger, egger_rma, peters or harbord");
}

#[test]
fn a_key_of_the_nth_entry_of_an_array_of_tables_is_found_in_that_entry() {
    let t = "[[consistency]]\noutcome = \"a\"\nchoose = 2\n\n[[consistency]]\noutcome = \"b\"\nchoose = 9\n";
    assert_eq!(checks::nth_key_line(t, "consistency.choose", 1), Some(7));
    assert_eq!(checks::nth_key_line(t, "consistency.choose", 0), Some(3));
    assert_eq!(checks::nth_key_line(t, "consistency.outcome", 2), None);
}
