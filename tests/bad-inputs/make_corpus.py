#!/usr/bin/env python3
"""Write the bad-input corpus and its manifest (run from this folder; the files are committed).
Each case: the command, the expected exit code, text the error must contain (file, line, field),
and whether an output may exist. Exit 1 = bad data, 2 = bad usage; warnings exit 0."""
import csv, os, shutil

cases = []
def case(name, body, args, exit_code, must, note, mode="w"):
    if body is not None:
        if isinstance(body, bytes):
            open(name, "wb").write(body)
        else:
            open(name, "w", newline="").write(body)
    cases.append(dict(case=name, args=args, exit=exit_code, stderr_contains="|".join(must), note=note))

P = "parse {f} --out {out}/records.csv"
# ---- search exports -------------------------------------------------------------------------
case("ris_truncated.ris", "TY  - JOUR\nTI  - A title\nAU  - Doe, J\n", P, 1, ["ris_truncated.ris:3", "ER"], "truncated RIS: no ER")
case("ris_garbage_line.ris", "TY  - JOUR\nTI  - A title\nER  - \nthis is not RIS\n", P, 1, ["ris_garbage_line.ris:4", "not an RIS line"], "garbage line between records")
case("ris_tag_before_ty.ris", "AU  - Doe, J\nTY  - JOUR\nER  - \n", P, 1, ["ris_tag_before_ty.ris:1", "AU"], "tag outside a record")
case("ris_double_ty.ris", "TY  - JOUR\nTI  - a\nTY  - JOUR\nTI  - b\nER  - \n", P, 1, ["ris_double_ty.ris:3", "TY"], "record not closed before the next")
case("binary.ris", bytes(range(256)) * 4, P, 1, ["binary.ris", "binary"], "binary data")
case("empty.ris", b"", P, 1, ["empty.ris", "empty"], "empty file")
case("whitespace.ris", "\n\n   \n", P, 1, ["whitespace.ris", "unrecognised"], "whitespace only")
case("utf16.ris", "\ufeffTY  - JOUR\r\nTI  - Anakinra in COVID-19\r\nER  - \r\n".encode("utf-16-le"), P, 0, ["warning", "UTF-16"], "recoverable: UTF-16 with BOM")
case("latin1.ris", "TY  - JOUR\nTI  - Étude de l'anakinra\nER  - \n".encode("latin-1"), P, 0, ["warning", "Latin-1"], "recoverable: Latin-1")
case("medline_no_pmid.nbib", "TI  - A title\nAU  - Doe J\n", P, 1, ["medline_no_pmid.nbib:1", "TI"], "MEDLINE without PMID (reads as RIS without TY)")
case("medline_bad_tag.nbib", "PMID- 1\nTI- broken tag\n", P, 1, ["medline_bad_tag.nbib:2", "MEDLINE"], "malformed MEDLINE tag")
case("medline_bad_start.nbib", "PMID- 1\nTI  - ok\n\nAU  - Doe J\n", P, 1, ["medline_bad_start.nbib:4", "PMID"], "record not starting with PMID")
case("wos_truncated.txt", "FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nTI A title\n", P, 1, ["wos_truncated.txt:4", "ER"], "truncated WoS record")
case("wos_bad_line.txt", "FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nTI A title\nthis line is not tagged\nER\n", P, 1, ["wos_bad_line.txt:5", "Web of Science"], "untagged WoS line")
case("bibtex_unbalanced.bib", "@article{a, title={ok}, year=2020}\n@article{b,\n  title = {never closed,\n  year = 2021\n", P, 1, ["bibtex_unbalanced.bib:2", "not closed"], "unbalanced braces")
case("bibtex_no_equals.bib", "@article{a,\n  title {missing equals}\n}\n", P, 1, ["bibtex_no_equals.bib:2", "field = value"], "field without =")
case("bibtex_unclosed_quote.bib", "@article{a,\n  title = \"never closed\n}\n", P, 1, ["bibtex_unclosed_quote.bib:1", "not closed"], "unclosed quote")
case("endnote_mismatch.xml", "<?xml version=\"1.0\"?>\n<xml><records>\n<record><titles><title>x</titles></record>\n</records></xml>\n", P, 1, ["endnote_mismatch.xml:3"], "mismatched XML tags")
case("endnote_truncated.xml", "<?xml version=\"1.0\"?>\n<xml><records>\n<record><titles><title>x</title></titles>\n", P, 1, ["endnote_truncated.xml", "not closed"], "truncated XML")
case("enw_garbage.enw", "hello\n%0 Journal Article\n%T x\n", P, 1, ["enw_garbage.enw", "unrecognised"], "EndNote tagged with a garbage first line")
case("unknown_format.txt", "hello world\nthis is a letter\n", P, 1, ["unknown_format.txt:1", "unrecognised"], "not a bibliographic export")
case("csv_no_title.csv", "ID,year,author\n1,2020,Doe\n", P, 1, ["csv_no_title.csv:1", "title"], "CSV without a title column")
case("csv_bad_year.csv", "ID,title,year\n1,A title,20x0\n", P, 1, ["csv_bad_year.csv:2", "year"], "CSV year that is not a year")
case("csv_ragged.csv", "ID,title,year\n1,A title,2020\n2,Another,2021,extra\n", P, 1, ["csv_ragged.csv:3"], "CSV row with an extra field")
case("csv_duplicate_id.csv", "ID,title,year\n1,A title,2020\n1,Another,2021\n", P, 0, ["warning", "csv_duplicate_id.csv:3", "already used", "both kept"], "recoverable: a repeated record id (both records kept, the later one named by file and line)")

# ---- study tables for `metapipe pool` ----------------------------------------------------------
Q = "pool {f} --measure OR --method DL"
G = "pool {f} --measure GEN --method REML"
case("pool_events_gt_n.csv", "study,ai,n1i,ci,n2i\na,5,10,3,10\nb,12,10,3,10\n", Q, 1, ["pool_events_gt_n.csv:3", "ai", "> n1i"], "events > n")
case("pool_negative.csv", "study,ai,n1i,ci,n2i\na,5,10,-3,10\n", Q, 1, ["pool_negative.csv:2", "ci"], "negative count")
case("pool_noninteger.csv", "study,ai,n1i,ci,n2i\na,5,10,3,10.5\n", Q, 1, ["pool_noninteger.csv:2", "n2i"], "non-integer count")
case("pool_text.csv", "study,ai,n1i,ci,n2i\na,5,10,three,10\n", Q, 1, ["pool_text.csv:2", "ci", "not a number"], "non-numeric count")
case("pool_zero_n.csv", "study,ai,n1i,ci,n2i\na,0,0,3,10\n", Q, 1, ["pool_zero_n.csv:2", "n1i"], "an arm with no participants")
case("pool_nan.csv", "yi,vi\n0.1,0.02\nNaN,0.03\n", G, 1, ["pool_nan.csv:3", "yi", "not finite"], "NaN effect")
case("pool_inf.csv", "yi,vi\n0.1,inf\n", G, 1, ["pool_inf.csv:2", "vi", "not finite"], "infinite variance")
case("pool_negvar.csv", "yi,vi\n0.1,0.02\n0.2,-0.01\n", G, 1, ["pool_negvar.csv:3", "vi"], "negative variance")
case("pool_missing_col.csv", "study,ai,n1i,n2i\na,5,10,10\n", Q, 1, ["pool_missing_col.csv:1", "ci", "missing column"], "missing column")
case("pool_header_only.csv", "study,ai,n1i,ci,n2i\n", Q, 1, ["pool_header_only.csv", "empty table"], "header only")
case("pool_empty.csv", b"", Q, 1, ["pool_empty.csv"], "empty file")
case("pool_fake.parquet", b"PAR1 this is not parquet PAR1", Q, 1, ["pool_fake.parquet", "Parquet"], "corrupt Parquet")
case("pool_bad_usage.csv", "yi,vi\n0.1,0.02\n", "pool {f} --measure XX --method DL", 2, ["--measure"], "bad usage: unknown measure")

# ---- pipeline configs and the files they name ------------------------------------------------------
# the configs sit in tests/bad-inputs/, and a config's paths are relative to its directory
base = open("../../pipelines/il1-covid19.toml").read().replace('"../data/', '"../../data/')
R = "run {f} --out {out}"
def cfg(name, text, must, note, extra=None):
    for fname, body in (extra or {}).items():
        open(fname, "w", newline="").write(body)
    case(name, text, R, 1, must, note)
cfg("config_unknown_key.toml", base.replace("[analysis]\n", "[analysis]\nmodle = \"DL\"\n"), ["config_unknown_key.toml", "modle"], "unknown key")
cfg("config_missing_file.toml", base.replace("screening/full_text.csv", "screening/no_such_file.csv"), ["config_missing_file.toml", "screening.full_text", "not found"], "a file the config names is missing")
cfg("config_bad_toml.toml", base.replace("[analysis]", "[analysis"), ["config_bad_toml.toml"], "TOML syntax error")
cfg("config_bad_measure.toml", base.replace('measure = "OR"', 'measure = "HR"'), ["config_bad_measure.toml", "analysis.measure"], "measure the pipeline cannot pool")
ta = open("../../data/il1-covid19/screening/title_abstract.csv").read()
cfg("config_screening_unknown.toml", base.replace("../../data/il1-covid19/screening/title_abstract.csv", "screening_unknown_record.csv"),
    ["screening_unknown_record.csv:2", "record_id", "unknown record"], "screening log naming a record no export contains",
    {"screening_unknown_record.csv": ta.replace("record_id,reviewer_1,reviewer_2,adjudicated\n", "record_id,reviewer_1,reviewer_2,adjudicated\npubmed:12345,exclude,exclude,\n")})
cfg("config_screening_bad_verdict.toml", base.replace("../../data/il1-covid19/screening/title_abstract.csv", "screening_bad_verdict.csv"),
    ["screening_bad_verdict.csv:2", "reviewer_1"], "screening verdict that is not include/exclude",
    {"screening_bad_verdict.csv": ta.replace(",exclude,exclude,\n", ",maybe,exclude,\n", 1)})
rob = open("../../data/il1-covid19/rob/rob2_answers.csv").read()
cfg("config_rob_bad_answer.toml", base.replace("../../data/il1-covid19/rob/rob2_answers.csv", "rob_bad_answer.csv"),
    ["rob_bad_answer.csv:2", "answer", "Y, PY, PN, N, NI or NA"], "RoB answer outside Y/PY/PN/N/NI/NA",
    {"rob_bad_answer.csv": rob.replace("corimuno_ana1,D1,1.1,Y", "corimuno_ana1,D1,1.1,Probably", 1)})
cfg("config_rob_bad_question.toml", base.replace("../../data/il1-covid19/rob/rob2_answers.csv", "rob_bad_question.csv"),
    ["rob_bad_question.csv:2", "question"], "RoB question that does not exist",
    {"rob_bad_question.csv": rob.replace("corimuno_ana1,D1,1.1,Y", "corimuno_ana1,D1,1.9,Y", 1)})
od = open("../../data/il1-covid19/extraction/outcome_data.csv").read()
cfg("config_events_gt_n.toml", base.replace("../../data/il1-covid19/extraction/outcome_data.csv", "outcome_events_gt_n.csv"),
    ["outcome_events_gt_n.csv:2", "events_treat", "> n_treat"], "events > n in the extraction sheet",
    {"outcome_events_gt_n.csv": od.replace("save_more,mortality,day 28,13,405", "save_more,mortality,day 28,413,405", 1)})
cfg("config_negative_count.toml", base.replace("../../data/il1-covid19/extraction/outcome_data.csv", "outcome_negative.csv"),
    ["outcome_negative.csv:2", "events_ctrl", "negative"], "negative count in the extraction sheet",
    {"outcome_negative.csv": od.replace("13,405,13,189", "13,405,-13,189", 1)})
cfg("config_unknown_study.toml", base.replace("../../data/il1-covid19/extraction/outcome_data.csv", "outcome_unknown_study.csv"),
    ["outcome_unknown_study.csv:2", "study_id", "unknown study"], "outcome row for a study not in studies.csv",
    {"outcome_unknown_study.csv": od.replace("save_more,mortality", "save_less,mortality", 1)})
cfg("config_outcome_no_source.toml", base.replace("../../data/il1-covid19/extraction/outcome_data.csv", "outcome_no_source.csv"),
    ["outcome_no_source.csv:2", "source_url"], "a reported number without its source",
    {"outcome_no_source.csv": od.replace(",reported,https://www.cancertherapyadvisor.com/home/general-medicine/fda-authorizes-emergency-use-of-kineret-for-certain-hospitalized-covid-19-patients/,", ",reported,,", 1)})
st = open("../../data/il1-covid19/extraction/studies.csv").read()
cfg("config_arms_disagree.toml", base.replace("../../data/il1-covid19/extraction/studies.csv", "studies_arms_disagree.csv"),
    ["studies_arms_disagree.csv:3", "disagree with the arms"], "typed arm sizes that contradict the factorial arms",
    {"studies_arms_disagree.csv": st.replace("open-label 2x2 factorial RCT,yes,,,", "open-label 2x2 factorial RCT,yes,112,232,", 1)})

with open("manifest.csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=["case", "args", "exit", "stderr_contains", "note"], lineterminator="\n")
    w.writeheader()
    w.writerows(cases)
print(len(cases), "cases")
