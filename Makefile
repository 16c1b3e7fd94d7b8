# metapipe — two commands on a fresh machine:
#   make pipeline   run every review in pipelines/ (outputs in out/<name>/)
#   make test       run all tests
CARGO ?= cargo
BIN := $(or $(CARGO_TARGET_DIR),target)/release/metapipe
PIPELINES := $(wildcard pipelines/*.toml)

.PHONY: pipeline test build fuzz bench report-check clean py-deps wheel pytest check-venv

build:
	$(CARGO) build --release --bin metapipe

pipeline: build
	@set -e; for p in $(PIPELINES); do echo "== $$p"; $(BIN) run $$p; done

# Tests run in the release profile, the one `make pipeline` builds: polars is compiled once for
# both (and for the Python wheel). nextest when present, cargo test otherwise; then the Python
# package's tests against the wheel built from this checkout. The ASReview importer's test makes
# its input with ASReview itself, and the Word report's test reads the document with python-docx,
# both from a venv of their own (check-venv).
test: check-venv
	@if command -v cargo-nextest >/dev/null 2>&1; then \
		METAPIPE_ASREVIEW_PYTHON=$(CHECK_PYTHON) METAPIPE_DOCX_PYTHON=$(CHECK_PYTHON) METAPIPE_RISPY_PYTHON=$(RISPY_PYTHON) $(CARGO) nextest run --release --workspace --no-fail-fast; \
	else \
		METAPIPE_ASREVIEW_PYTHON=$(CHECK_PYTHON) METAPIPE_DOCX_PYTHON=$(CHECK_PYTHON) METAPIPE_RISPY_PYTHON=$(RISPY_PYTHON) $(CARGO) test --release --workspace; \
	fi
	$(MAKE) pytest

# The Python package (crates/py): an abi3 wheel built by maturin from the same release build,
# installed into this Python; its tests need pyarrow, pandas, polars, pytest, and PySpark with a
# Java runtime (installed here when missing).
PYTHON ?= python3
# The independent tools the tests check against, in a venv of their own (their pins stay apart
# from the Python package's test deps): ASReview LAB 3 writes a real export, python-docx reads
# the Word report; rispy 0.10 (the Python RIS reader; in a venv of its own, as ASReview pins
# rispy 0.9) counts the records of the RIS export-quirk fixtures.
CHECK_VENV := $(or $(CARGO_TARGET_DIR),target)/check-venv
CHECK_PYTHON = $(abspath $(CHECK_VENV))/bin/python
RISPY_VENV := $(or $(CARGO_TARGET_DIR),target)/rispy-venv
RISPY_PYTHON = $(abspath $(RISPY_VENV))/bin/python
check-venv:
	@$(CHECK_VENV)/bin/python -c "import asreview, docx" 2>/dev/null || \
		($(PYTHON) -m venv $(CHECK_VENV) && $(CHECK_VENV)/bin/pip install -q asreview==3.0.8 python-docx==1.2.0)
	@$(RISPY_VENV)/bin/python -c "import rispy" 2>/dev/null || \
		($(PYTHON) -m venv $(RISPY_VENV) && $(RISPY_VENV)/bin/pip install -q rispy==0.10.0)

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
WHEELS := $(or $(CARGO_TARGET_DIR),target)/wheels
py-deps:
	@$(PYTHON) -c "import maturin, pyarrow, pandas, polars, pytest, pyspark" 2>/dev/null || $(PYTHON) -m pip install -q -r crates/py/requirements-test.txt
	@command -v java >/dev/null 2>&1 || ($(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless)

wheel: py-deps
	rm -rf $(WHEELS)
	$(PYTHON) -m maturin build --release -m crates/py/Cargo.toml --out $(WHEELS)
	$(PYTHON) -m pip install -q --force-reinstall --no-deps $(WHEELS)/metapipe-*.whl

pytest: wheel build
	$(PYTHON) -m pytest -q crates/py/tests

# Longer fuzzing of the parsers, the study-table reader and the config loader (property-based;
# bounded at 256 cases each inside `make test`).
FUZZ_CASES ?= 200000
fuzz:
	PROPTEST_CASES=$(FUZZ_CASES) $(CARGO) test --release -p metapipe-ingest --test fuzz_parsers
	PROPTEST_CASES=$(FUZZ_CASES) $(CARGO) test --release -p metapipe-tables --test fuzz_read_raw
	PROPTEST_CASES=$(FUZZ_CASES) $(CARGO) test --release -p metapipe-run --lib config

# Speed against the peers (bib-dedupe, metafor) in one run; writes bench/results.md.
bench: build wheel check-venv
	@python3 -c "import bib_dedupe" 2>/dev/null || python3 -m pip install -q bib-dedupe
	@command -v Rscript >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq r-cran-metafor)
	python3 bench/run_bench.py
	ASREVIEW_PYTHON=$(CHECK_PYTHON) python3 bench/screening_bench.py 5
	ASREVIEW_PYTHON=$(CHECK_PYTHON) python3 bench/screening_bench.py --n-query 10 5
	python3 bench/screening_bench.py --stopping 20

# Render the IL-1 report (RoB 2 columns on its forest plots) and bcg-tb's (prediction intervals,
# a Summary of findings with a GRADE judgment) in headless Chromium to PNGs (out/report-check/)
# for a person to look at.
report-check: pipeline
	tools/report_check.sh out/il1-covid19/report out/report-check/il1-covid19
	tools/report_check.sh out/bcg-tb/report out/report-check/bcg-tb

clean:
	rm -rf out target
