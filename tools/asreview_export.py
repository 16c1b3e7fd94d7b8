"""Make an ASReview LAB export with ASReview itself, for metapipe's tests of its ASReview
importer: a project is created from RECORDS (a CSV ASReview reads: title, abstract, doi, pmid),
the records listed in LABELS (CSV: row, label — 0-based rows of RECORDS, 1 relevant, 0
irrelevant) are labelled through the web API's record endpoint, the model is trained, and the
dataset is exported through the API's `export_dataset` (relevant, not seen and irrelevant
records, CSV) — the file a reviewer downloads from ASReview LAB. Driven the way ASReview's own
webapp tests drive it: Flask's test client on `create_app(AUTHENTICATION=False, TESTING=True)`.

usage: python tools/asreview_export.py RECORDS LABELS OUT   (with asreview 3 installed)
"""
import csv
import os
import sys
import tempfile


def main(records, labels, out):
    os.environ["ASREVIEW_PATH"] = tempfile.mkdtemp()
    from asreview.webapp.app import create_app

    app = create_app(AUTHENTICATION=False, TESTING=True)
    c = app.test_client()
    with open(records, "rb") as f:
        r = c.post(
            "/api/projects/create",
            data={"mode": "oracle", "file": (f, "records.csv")},
            content_type="multipart/form-data",
        )
    assert r.status_code == 201, r.data
    pid = r.json["id"]
    with open(labels, newline="") as f:
        for row in csv.DictReader(f):
            rid = int(row["row"])
            r = c.post(
                f"/api/projects/{pid}/record/{rid}",
                data={"record_id": rid, "label": int(row["label"]), "tags": "[]"},
            )
            assert r.status_code == 200, r.data
    r = c.post(f"/api/projects/{pid}/train")
    assert r.status_code == 200, r.data
    r = c.get(
        f"/api/projects/{pid}/export_dataset?format=csv"
        "&collections=relevant&collections=not_seen&collections=irrelevant"
    )
    assert r.status_code == 200, r.data
    with open(out, "wb") as f:
        f.write(r.data)


if __name__ == "__main__":
    main(*sys.argv[1:4])
