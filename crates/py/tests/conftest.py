"""Shared paths for the Python package's tests: the committed fixtures and the CLI binary (the
package's results are compared with both)."""

import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures"
# the metafor control of the oracle scripts: control=list(maxiter=1000, stepadj=0.5, tau2.max=1e4)
ORACLE_CONTROL = dict(maxiter=1000, stepadj=0.5, tau2_max=1e4)


def cli_path() -> pathlib.Path:
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
    if not target.is_absolute():
        target = ROOT / target
    return target / "release" / "metapipe"


@pytest.fixture(scope="session")
def cli():
    exe = cli_path()
    assert exe.exists(), f"{exe} missing: build it first (cargo build --release)"

    def run(*args: str) -> str:
        p = subprocess.run([str(exe), *args], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        return p.stdout

    return run
