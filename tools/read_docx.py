"""Read a Word document with python-docx (an independent reader) and print what it holds as
JSON: the headings (style and text), every table as rows of cell texts, the number of pictures.
Used by crates/cli/tests/word.rs (the python comes from `make check-venv`)."""
import json
import sys

import docx

d = docx.Document(sys.argv[1])
out = {
    "headings": [
        [p.style.name, p.text]
        for p in d.paragraphs
        if p.style is not None and p.style.name.lower().startswith(("heading", "title"))
    ],
    "tables": [[[c.text for c in row.cells] for row in t.rows] for t in d.tables],
    "pictures": len(d.inline_shapes),
    "landscape": d.sections[0].page_width > d.sections[0].page_height,
}
json.dump(out, sys.stdout, ensure_ascii=False)
