"""Write tests/fixtures/xlsx/: the BCG review's two extraction sheets (data/bcg-tb) as one Excel
workbook, and a workbook with a bad cell, for the .xlsx reader's tests.

bcg-tb.xlsx: sheet "studies" with its table placed at B3 (two empty rows and an empty column
before it, as sheets often are), sheet "outcomes" with a wholly empty row in the middle; numbers
are stored as numbers, text as text. bad.xlsx: sheet "outcomes" whose n_treat on Excel row 4 is
the text "12O" (a letter O for a zero). Written by openpyxl (pip install openpyxl), not by Excel.

usage: python3 tools/make_xlsx_fixture.py
"""
import csv
import os

import openpyxl

ROOT = os.path.join(os.path.dirname(__file__), "..")
OUT = os.path.join(ROOT, "tests", "fixtures", "xlsx")


def typed(v):
    for f in (int, float):
        try:
            return f(v)
        except ValueError:
            pass
    return v if v != "" else None


def sheet(wb, name, path, row0=1, col0=1, blank_after=None):
    ws = wb.create_sheet(name)
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    r = row0
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            ws.cell(row=r, column=col0 + j, value=v if i == 0 else typed(v))
        r += 1
        if blank_after is not None and i == blank_after:
            r += 1
    return ws


def main():
    os.makedirs(OUT, exist_ok=True)
    data = os.path.join(ROOT, "data", "bcg-tb")
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    sheet(wb, "studies", os.path.join(data, "studies.csv"), row0=3, col0=2)
    sheet(wb, "outcomes", os.path.join(data, "outcome_data.csv"), blank_after=5)
    wb.properties.creator = "metapipe tools/make_xlsx_fixture.py"
    wb.properties.created = wb.properties.modified = __import__("datetime").datetime(2026, 1, 1)
    wb.save(os.path.join(OUT, "bcg-tb.xlsx"))
    bad = openpyxl.Workbook()
    bad.remove(bad.active)
    ws = sheet(bad, "outcomes", os.path.join(data, "outcome_data.csv"))
    header = [c.value for c in ws[1]]
    ws.cell(row=4, column=header.index("n_treat") + 1, value="12O")
    bad.properties.created = bad.properties.modified = __import__("datetime").datetime(2026, 1, 1)
    bad.save(os.path.join(OUT, "bad.xlsx"))


if __name__ == "__main__":
    main()
