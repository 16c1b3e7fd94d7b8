#!/usr/bin/env python3
"""Write the IL-1 review's search exports and title/abstract screening logs (seeded, reproducible).

The review's real exports are not public. What this writes:
- 11 REAL citations (the 7 included trials and 4 candidate excluded full texts, see
  ../shared/seed-review/), with bibliographic fields from the trial publications;
- SYNTHETIC stand-in records for everything else. Their titles start with "Synthetic record",
  their authors are invented ("Synthetic, A."), DOIs use the reserved prefix 10.5555, and every
  record says it is synthetic inside (RIS N1, MEDLINE GN, WoS Z1 fields).
- Accession numbers (PMIDs, Embase/WoS/Cochrane ids) are synthetic for EVERY record.

Cross-database copies of a work vary as real exports do (title case and punctuation, author
name formats, journal abbreviations, missing DOIs, page formats) and never share an id, so the
dedup engine has to find the duplicates from the bibliographic fields.

usage: python3 tools/make_il1_search_exports.py data/il1-covid19
"""
import csv
import os
import random
import sys

SEED = 20220925
OUT = sys.argv[1] if len(sys.argv) > 1 else "data/il1-covid19"
rng = random.Random(SEED)

# Databases in the review's order, with their export format.
DBS = [
    ("pubmed", "pubmed_2022-09-25.nbib"),
    ("wos", "wos_2022-09-25.txt"),
    ("ovid_medline", "ovid_medline_2022-09-25.ris"),
    ("embase", "embase_2022-09-25.ris"),
    ("cochrane", "cochrane_central_2022-09-25.ris"),
]

# Real citations: (key, authors [(surname, initials, given)], title, journal, journal abbrev, year,
# volume, issue, pages, doi, role)
REAL = [
    ("corimuno_ana1", [("Mariette", "X", "Xavier"), ("Hermine", "O", "Olivier"), ("Tharaux", "PL", "Pierre-Louis")],
     "Effect of anakinra versus usual care in adults in hospital with COVID-19 and mild-to-moderate pneumonia (CORIMUNO-ANA-1): a randomised controlled trial",
     "The Lancet Respiratory Medicine", "Lancet Respir Med", 2021, "9", "3", "295-304", "10.1016/S2213-2600(20)30556-7", "included"),
    ("cov_aid", [("Declercq", "J", "Jozefien"), ("Van Damme", "KF", "Karel F A"), ("De Leeuw", "E", "Elisabeth")],
     "Effect of anti-interleukin drugs in patients with COVID-19 and signs of cytokine release syndrome (COV-AID): a factorial, randomised, controlled trial",
     "The Lancet Respiratory Medicine", "Lancet Respir Med", 2021, "9", "12", "1427-1438", "10.1016/S2213-2600(21)00377-5", "included"),
    ("kharazmi", [("Kharazmi", "AB", "Amir Behzad")],
     "A randomized controlled clinical trial on efficacy and safety of anakinra in patients with severe COVID-19",
     "Immunity, Inflammation and Disease", "Immun Inflamm Dis", 2022, "", "", "", "", "included"),
    ("save_more", [("Kyriazopoulou", "E", "Evdoxia"), ("Poulakou", "G", "Garyfallia"), ("Milionis", "H", "Haralampos")],
     "Early treatment of COVID-19 with anakinra guided by soluble urokinase plasminogen receptor plasma levels: a double-blind, randomized controlled phase 3 trial",
     "Nature Medicine", "Nat Med", 2021, "27", "10", "1752-1760", "10.1038/s41591-021-01499-z", "included"),
    ("three_c", [("Cremer", "PC", "Paul C"), ("Sheng", "CC", "Chieh-Chen"), ("Sahoo", "D", "Divyanshu")],
     "Double-blind randomized proof-of-concept trial of canakinumab in patients with COVID-19 associated cardiac injury and heightened inflammation",
     "European Heart Journal Open", "Eur Heart J Open", 2021, "", "", "", "", "included"),
    ("can_covid", [("Caricchio", "R", "Roberto"), ("Abbate", "A", "Antonio"), ("Gordeev", "I", "Ivan")],
     "Effect of canakinumab vs placebo on survival without invasive mechanical ventilation in patients hospitalized with severe COVID-19: a randomized clinical trial",
     "JAMA", "JAMA", 2021, "326", "3", "230-239", "10.1001/jama.2021.9508", "included"),
    ("anaconda", [("Audemard-Verger", "A", "Alexandra")],
     "Efficacy and safety of anakinra in adults presenting deteriorating respiratory symptoms from COVID-19: a randomized controlled trial",
     "PLoS One", "PLoS One", 2022, "17", "8", "e0269065", "10.1371/journal.pone.0269065", "included"),
    # candidate excluded full texts (unconfirmed: the review's Figure 1 could not be read)
    ("ex_cancovdia", [("Hepprich", "M", "Matthias")],
     "Canakinumab in patients with COVID-19 and type 2 diabetes - a multicentre, randomised, double-blind, placebo-controlled trial",
     "EClinicalMedicine", "EClinicalMedicine", 2022, "", "", "", "", "excluded"),
    ("ex_remapcap", [("Derde", "LPG", "Lennie P G")],
     "Effectiveness of tocilizumab, sarilumab, and anakinra for critically ill patients with COVID-19: the REMAP-CAP COVID-19 immune modulation therapy domain randomized clinical trial",
     "medRxiv", "medRxiv", 2021, "", "", "", "10.1101/2021.06.18.21259133", "excluded"),
    ("ex_nct04362111", [("Synthetic-free", "", "")],  # placeholder replaced below
     "Anakinra for the treatment of COVID-19 respiratory failure: a single-centre randomized placebo-controlled trial (NCT04362111)",
     "The Journal of Immunology", "J Immunol", 2021, "206", "1 Suppl", "", "", "excluded"),
    ("ex_cavalli", [("Cavalli", "G", "Giulio"), ("De Luca", "G", "Giacomo"), ("Campochiaro", "C", "Corrado")],
     "Interleukin-1 blockade with high-dose anakinra in patients with COVID-19, acute respiratory distress syndrome, and hyperinflammation: a retrospective cohort study",
     "The Lancet Rheumatology", "Lancet Rheumatol", 2020, "2", "6", "e325-e331", "10.1016/S2665-9913(20)30127-2", "excluded"),
]
# The conference abstract's authors are not known here: leave them out rather than invent them.
REAL[9] = REAL[9][:1] + ([],) + REAL[9][2:]

TOPICS = [
    "tocilizumab", "dexamethasone", "remdesivir", "baricitinib", "hydroxychloroquine", "convalescent plasma",
    "interleukin-6 receptor blockade", "prone positioning", "anticoagulation", "cytokine storm", "ferritin",
    "macrophage activation", "acute respiratory distress syndrome", "high-flow nasal cannula",
    "colchicine", "ivermectin", "vaccination", "long COVID", "myocarditis", "kidney injury",
]
DESIGNS = ["a retrospective cohort", "a case series", "a narrative review", "a randomized trial protocol",
           "an observational study", "a single-centre experience", "a systematic review", "an in vitro study",
           "a pharmacokinetic study", "a case report", "a multicentre registry", "a cross-sectional survey"]
SURNAMES = ["Synthetic", "Fictitious", "Invented", "Placeholder", "Madeup", "Standin", "Notreal", "Pretend"]
JOURNALS = [("Synthetic Journal of Medicine", "Synth J Med"), ("Invented Reports in Infectious Diseases", "Invent Rep Infect Dis"),
            ("Placeholder Critical Care", "Placeholder Crit Care"), ("Journal of Made-up Immunology", "J Madeup Immunol"),
            ("Stand-in Respiratory Research", "Standin Respir Res")]


def synthetic_work(i):
    topic = rng.choice(TOPICS)
    design = rng.choice(DESIGNS)
    title = f"Synthetic record {i:03d}: {topic} in patients with COVID-19, {design}"
    authors = []
    for _ in range(rng.randint(1, 4)):
        s = rng.choice(SURNAMES)
        ini = rng.choice("ABCDEFGHJKLMNPRSTW") + rng.choice(["", "", rng.choice("ABCDEFGHJKLMNPRSTW")])
        authors.append((s, ini, ini[0] + "."))
    j = rng.choice(JOURNALS)
    year = rng.choice([2020, 2021, 2021, 2022, 2022])
    vol = str(rng.randint(1, 60))
    iss = str(rng.randint(1, 12))
    sp = rng.randint(10, 2000)
    ep = sp + rng.randint(3, 14)
    return dict(key=f"syn{i:03d}", authors=authors, title=title, journal=j[0], abbrev=j[1], year=year, volume=vol,
                issue=iss, pages=f"{sp}-{ep}", doi=f"10.5555/synthetic.{i:04d}", role="synthetic", synthetic=True)


def real_work(r):
    key, authors, title, journal, abbrev, year, vol, iss, pages, doi, role = r
    return dict(key=key, authors=[(s, ini, g) for s, ini, g in authors], title=title, journal=journal, abbrev=abbrev,
                year=year, volume=vol, issue=iss, pages=pages, doi=doi, role=role, synthetic=False)


works = [real_work(r) for r in REAL]
n_syn = 276 - len(works)
works += [synthetic_work(i + 1) for i in range(n_syn)]
# Near-miss pairs that are NOT duplicates: same topic and opening words, different report.
for i in range(0, 10, 2):
    a, b = works[11 + i], works[11 + i + 1]
    b["title"] = a["title"].replace(f"{int(a['key'][3:]):03d}:", f"{int(b['key'][3:]):03d}:") + ": protocol"
    b["year"] = a["year"] - 1 if a["year"] > 2020 else a["year"] + 1
    b["authors"] = list(a["authors"])

# How many databases each work appears in: 416 records in all, 140 duplicates.
copies = {}
real_copies = [5, 5, 4, 5, 3, 5, 4, 3, 2, 2, 3]
for w, c in zip(works[:11], real_copies):
    copies[w["key"]] = c
syn = works[11:]
extra = 416 - 276 - sum(c - 1 for c in real_copies)  # extra copies among synthetic works
order = list(range(len(syn)))
rng.shuffle(order)
for w in syn:
    copies[w["key"]] = 1
i = 0
while extra > 0:
    w = syn[order[i % len(syn)]]
    add = 2 if (extra >= 2 and rng.random() < 0.2) else 1
    copies[w["key"]] += add
    extra -= add
    i += 1
assert sum(copies.values()) == 416

# Which databases: Cochrane CENTRAL only holds trials (real trials and synthetic "trial" records).
placement = {}
for w in works:
    c = copies[w["key"]]
    dbs = [d for d, _ in DBS]
    if c < 5 and w["role"] != "included":
        dbs = [d for d in dbs if d != "cochrane"] if rng.random() < 0.7 else dbs
    placement[w["key"]] = sorted(rng.sample(dbs, min(c, len(dbs))), key=lambda d: [x for x, _ in DBS].index(d))

# ---- variation helpers ------------------------------------------------------------------------
SMALL = {"a", "an", "and", "of", "in", "on", "the", "vs", "with", "for", "from", "to", "without"}


def title_case(t):
    return " ".join(w if (w.lower() in SMALL and k) or any(ch.isupper() for ch in w[1:]) else w[:1].upper() + w[1:]
                    for k, w in enumerate(t.split(" ")))


def vary_title(t, db):
    v = rng.random()
    if db == "wos":
        t = t.upper() if v < 0.5 else title_case(t)
    elif db == "embase":
        t = title_case(t) if v < 0.5 else t
    if rng.random() < 0.3:
        t = t.replace(": ", ". ")
    if rng.random() < 0.2:
        t = t.replace(" - ", " -- ").replace("-", " ") if "-" in t else t
    return t + ("." if db in ("pubmed", "ovid_medline") and not t.endswith(".") else "")


def short_pages(p):
    if "-" not in p or p.startswith("e"):
        return p
    a, b = p.split("-")
    k = 0
    while k < len(a) and k < len(b) and a[k] == b[k]:
        k += 1
    return f"{a}-{b[k:]}"


def with_doi(w, db):
    return w["doi"] if w["doi"] and rng.random() > 0.15 else ""


# ---- writers ------------------------------------------------------------------------------------
ids = {d: 0 for d, _ in DBS}


def next_id(db):
    ids[db] += 1
    return {"pubmed": f"{99000000 + ids[db]}", "wos": f"WOS:99{ids[db]:013d}", "ovid_medline": f"{99000000 + ids[db]}",
            "embase": f"L99{ids[db]:07d}", "cochrane": f"CN-99{ids[db]:06d}"}[db]


NOTE = "SYNTHETIC stand-in record generated for metapipe's IL-1 review data; not a real publication"


def medline(w, rid):
    out = [f"PMID- {rid}", "OWN - NLM", "STAT- MEDLINE"]
    if w["synthetic"]:
        out.append(f"GN  - {NOTE}")
    out.append(f"DP  - {w['year']}")
    t = vary_title(w["title"], "pubmed")
    words = t.split(" ")
    lines, cur = [], ""
    for wd in words:
        if len(cur) + len(wd) + 1 > 70 and cur:
            lines.append(cur)
            cur = wd
        else:
            cur = (cur + " " + wd).strip()
    lines.append(cur)
    out.append("TI  - " + lines[0])
    out += ["      " + l for l in lines[1:]]
    if w["pages"]:
        out.append(f"PG  - {short_pages(w['pages']) if rng.random() < 0.7 else w['pages']}")
    d = with_doi(w, "pubmed")
    if d:
        out.append(f"LID - {d} [doi]")
    for s, ini, g in w["authors"]:
        out.append(f"FAU - {s}, {g}")
        out.append(f"AU  - {s} {ini}")
    out += [f"TA  - {w['abbrev']}", f"JT  - {w['journal']}"]
    if w["volume"]:
        out.append(f"VI  - {w['volume']}")
    if w["issue"]:
        out.append(f"IP  - {w['issue']}")
    out.append("PT  - Journal Article")
    return "\n".join(out) + "\n"


def ris(w, rid, db):
    tags = []
    ty = "JOUR" if w["journal"] != "medRxiv" else "UNPB"
    tags.append(("TY", ty))
    tags.append(("ID", rid))
    t = vary_title(w["title"], db)
    tags.append(("T1" if db == "embase" else "TI", t))
    for s, ini, g in w["authors"]:
        if db == "embase":
            tags.append(("A1", f"{s} {'.'.join(ini)}." if ini else s))
        elif db == "ovid_medline":
            tags.append(("AU", f"{s}, {ini}" if ini else s))
        else:
            tags.append(("AU", f"{s}, {g}" if g else s))
    if db == "embase":
        tags += [("JF", w["journal"]), ("JA", w["abbrev"].replace(" ", ". ") + ".")]
    elif db == "ovid_medline":
        tags += [("JO", w["abbrev"])]
    else:
        tags += [("JO", w["journal"])]
    tags.append(("Y1" if db == "embase" else "PY", str(w["year"]) + ("//" if db == "embase" else "")))
    if w["volume"]:
        tags.append(("VL", w["volume"]))
    if w["issue"]:
        tags.append(("IS", w["issue"]))
    if w["pages"]:
        if "-" in w["pages"] and db != "ovid_medline":
            sp, ep = w["pages"].split("-")
            tags += [("SP", sp), ("EP", ep)]
        else:
            tags.append(("SP", short_pages(w["pages"])))
    d = with_doi(w, db)
    if d:
        tags.append(("DO", d if db != "cochrane" or rng.random() < 0.5 else "https://doi.org/" + d))
    tags.append(("DB", {"embase": "Embase", "ovid_medline": "Ovid MEDLINE(R)", "cochrane": "Cochrane Central Register of Controlled Trials"}[db]))
    if w["synthetic"]:
        tags.append(("N1", NOTE))
    tags.append(("ER", ""))
    return "\n".join(f"{k}  - {v}".rstrip() if k == "ER" else f"{k}  - {v}" for k, v in tags) + "\n"


def wos(w, rid):
    out = ["PT J" if w["journal"] != "medRxiv" else "PT P"]
    auths = [f"{s}, {ini}" for s, ini, g in w["authors"]]
    if auths:
        out.append("AU " + auths[0])
        out += ["   " + a for a in auths[1:]]
        fulls = [f"{s}, {g}" for s, ini, g in w["authors"]]
        out.append("AF " + fulls[0])
        out += ["   " + a for a in fulls[1:]]
    t = vary_title(w["title"], "wos")
    words, lines, cur = t.split(" "), [], ""
    for wd in words:
        if len(cur) + len(wd) + 1 > 60 and cur:
            lines.append(cur)
            cur = wd
        else:
            cur = (cur + " " + wd).strip()
    lines.append(cur)
    out.append("TI " + lines[0])
    out += ["   " + l for l in lines[1:]]
    out.append("SO " + w["journal"].upper().replace("THE ", "", 1))
    out.append("J9 " + w["abbrev"].upper())
    if w["synthetic"]:
        out.append("Z1 " + NOTE)
    out.append(f"PY {w['year']}")
    if w["volume"]:
        out.append(f"VL {w['volume']}")
    if w["issue"]:
        out.append(f"IS {w['issue']}")
    if w["pages"]:
        if "-" in w["pages"]:
            sp, ep = w["pages"].split("-")
            out += [f"BP {sp}", f"EP {ep}"]
        else:
            out.append(f"AR {w['pages']}")
    d = with_doi(w, "wos")
    if d:
        out.append("DI " + d)
    out.append("UT " + rid)
    out.append("ER")
    return "\n".join(out) + "\n"


records = {d: [] for d, _ in DBS}
record_ids = {}  # work key -> [(db, id)]
works_by_db = {d: [w for w in works if d in placement[w["key"]]] for d, _ in DBS}
for d, _ in DBS:
    lst = works_by_db[d]
    rng.shuffle(lst)
    for w in lst:
        rid = next_id(d)
        record_ids.setdefault(w["key"], []).append((d, rid))
        if d == "pubmed":
            records[d].append(medline(w, rid))
        elif d == "wos":
            records[d].append(wos(w, rid))
        else:
            records[d].append(ris(w, rid, d))

os.makedirs(os.path.join(OUT, "search"), exist_ok=True)
for d, fname in DBS:
    path = os.path.join(OUT, "search", fname)
    if d == "wos":
        body = "FN Clarivate Analytics Web of Science\nVR 1.0\n" + "\n".join(records[d]) + "\nEF\n"
    elif d == "pubmed":
        body = "\n".join(records[d])
    else:
        body = "\n".join(records[d])
    newline = "\r\n" if d == "embase" else "\n"  # Embase exports come with CRLF
    with open(path, "w", encoding="utf-8", newline=newline) as f:
        if d == "cochrane":
            f.write("\ufeff")  # the Cochrane Library writes a BOM
        f.write(body)

# Truth for the tests: the true duplicate clusters (by record id), never read by the pipeline.
with open(os.path.join(OUT, "search", "TRUE_CLUSTERS.csv"), "w", newline="") as f:
    wr = csv.writer(f, lineterminator="\n")
    wr.writerow(["work", "synthetic", "merged_ids"])
    for w in works:
        rl = record_ids[w["key"]]
        wr.writerow([w["key"], "yes" if w["synthetic"] else "no", ";".join(f"{d}:{r}" for d, r in rl)])

# ---- title/abstract screening: two reviewers, conflicts, third reviewer ----------------------------
rep = {w["key"]: "{}:{}".format(*record_ids[w["key"]][0]) for w in works}
ta_rows = []
full_text = [w for w in works if w["role"] in ("included", "excluded")]
conflict_keys = set(w["key"] for w in rng.sample(works[11:], 14)) | {"ex_cavalli", "ex_nct04362111"}
for w in works:
    final = "include" if w["role"] in ("included", "excluded") else "exclude"
    r1 = r2 = final
    if w["key"] in conflict_keys:
        if rng.random() < 0.5:
            r1 = "include" if final == "exclude" else "exclude"
        else:
            r2 = "include" if final == "exclude" else "exclude"
    ta_rows.append((rep[w["key"]], r1, r2, final if r1 != r2 else ""))
ta_rows.sort()
os.makedirs(os.path.join(OUT, "screening"), exist_ok=True)
with open(os.path.join(OUT, "screening", "title_abstract.csv"), "w", newline="") as f:
    wr = csv.writer(f, lineterminator="\n")
    wr.writerow(["record_id", "reviewer_1", "reviewer_2", "adjudicated"])
    for r in ta_rows:
        wr.writerow(r)

REASONS = {"ex_cancovdia": "population: patients with type 2 diabetes, not an eligible comparison as reported (candidate, unconfirmed)",
           "ex_remapcap": "preprint of a platform trial without a separately reported eligible comparison (candidate, unconfirmed)",
           "ex_nct04362111": "conference abstract (candidate, unconfirmed)",
           "ex_cavalli": "not randomized: observational cohort (candidate, unconfirmed)"}
with open(os.path.join(OUT, "screening", "full_text.csv"), "w", newline="") as f:
    wr = csv.writer(f, lineterminator="\n")
    wr.writerow(["record_id", "decision", "reason", "study_id"])
    for w in sorted(full_text, key=lambda w: rep[w["key"]]):
        if w["role"] == "included":
            wr.writerow([rep[w["key"]], "include", "", w["key"]])
        else:
            wr.writerow([rep[w["key"]], "exclude", REASONS[w["key"]], ""])
print({d: len(v) for d, v in records.items()}, "records:", sum(len(v) for v in records.values()))
