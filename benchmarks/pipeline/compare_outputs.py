"""Compare two output folders of the main job (``riskmodel run experiments/sample.toml --out DIR``).

Usage::

    .venv/bin/python benchmarks/pipeline/compare_outputs.py BEFORE_DIR AFTER_DIR

Every file must be byte-identical, except what differs between two runs of
the same code (measured: two runs of one commit differ in exactly these):

* ``forecast/backtest_metrics.csv``: the ``seconds`` column (wall time);
  every other column must be equal;
* ``appendix/*.html``: the MLflow run id, the generation time and the code
  version (git commit) are masked, the rest must be byte-identical;
* ``appendix/*.pdf``: a PDF records its creation time, so the text of every
  page (``pdftotext``, poppler-utils) is compared with the same masks.

Prints one line per file and exits 1 if anything else differs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

MASKS = [
    (re.compile(rb"\b[0-9a-f]{40}\b"), b"<git commit>"),
    (re.compile(rb"\b[0-9a-f]{32}\b"), b"<run id>"),
    (re.compile(rb"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC"), b"<generated>"),
]


def masked(data: bytes) -> bytes:
    for pat, rep in MASKS:
        data = pat.sub(rep, data)
    return data


def pdf_text(path: Path) -> bytes:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True).stdout


def compare(a: Path, b: Path) -> tuple[bool, str]:
    rel = a.name
    if a.read_bytes() == b.read_bytes():
        return True, "identical"
    if rel == "backtest_metrics.csv":
        da, db = pd.read_csv(a), pd.read_csv(b)
        same = da.drop(columns="seconds").equals(db.drop(columns="seconds"))
        return same, "identical but for the seconds column" if same else "DIFFERENT (beyond seconds)"
    if a.suffix == ".html":
        same = masked(a.read_bytes()) == masked(b.read_bytes())
        return same, "identical but for run id, time and code version" if same else "DIFFERENT html"
    if a.suffix == ".pdf":
        if shutil.which("pdftotext") is None:
            return False, "pdftotext missing (apt-get install poppler-utils)"
        same = masked(pdf_text(a)) == masked(pdf_text(b))
        return same, "same text on every page (masked)" if same else "DIFFERENT pdf text"
    return False, "DIFFERENT"


def main(before: str, after: str) -> int:
    A, B = Path(before), Path(after)
    fa = {p.relative_to(A) for p in A.rglob("*") if p.is_file()}
    fb = {p.relative_to(B) for p in B.rglob("*") if p.is_file()}
    bad = 0
    for rel in sorted(fa | fb):
        if rel not in fa or rel not in fb:
            print(f"{rel}: only in {'after' if rel in fb else 'before'}")
            bad += 1
            continue
        ok, why = compare(A / rel, B / rel)
        bad += not ok
        print(f"{rel}: {why}")
    print(f"{len(fa | fb)} files, {bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
