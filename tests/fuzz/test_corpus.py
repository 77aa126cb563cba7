"""The fuzz corpus of issue 16 in the suite, in-process.

Every case of ``benchmarks/fuzz/corpus.py`` (malformed and adversarial inputs
for validate, forecast, detect, claim, index build and grid) runs through
``riskmodel.cli.main(argv)`` in its own ``tmp_path`` and must end in the class
it declares: ``refuse`` (exit 2, the file, option or row named on stderr),
``ok`` (exit 0 with plausible outputs), ``ok-with-note`` (also a note, e.g.
``counted as 0``) or ``ok-or-refuse``; with its inputs unchanged and no
traceback. The classification is ``benchmarks/fuzz/run_fuzz.py``'s, the one the
subprocess benchmark uses, so the suite and ``results.md`` agree.

A case still running after :data:`LIMIT` seconds is stopped by SIGALRM and
counts as a hang (the benchmark's 60 s is too long for the suite).
"""

from __future__ import annotations

import importlib.util
import signal
import sys
from pathlib import Path

import pytest

from riskmodel import cli

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 20
"""Seconds one case may take in-process before it counts as a hang."""


def _load(name: str, path: Path):  # noqa: ANN202 - a module
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


run_fuzz = _load("riskmodel_fuzz_run", ROOT / "benchmarks" / "fuzz" / "run_fuzz.py")
corpus = run_fuzz.corpus
CASES = corpus.build_corpus()


class _Hang(BaseException):
    """Raised by the alarm: not an Exception, so the command line cannot turn it into an exit code."""


def _alarm(signum, frame):  # noqa: ANN001, ARG001
    raise _Hang


def run_in_process(case, folder: Path, capfd) -> tuple[str, str, int | None]:  # noqa: ANN001
    """Materialise ``case`` in ``folder``, run it through ``cli.main`` there; (class, detail, exit code)."""
    corpus.materialise(case, folder)
    before = run_fuzz.hash_inputs(folder, case)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(LIMIT)
    code: int | None
    try:
        code = cli.main(list(case.argv))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except _Hang:
        code = None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    out, err = capfd.readouterr()
    found, detail = run_fuzz.classify(case, code, out, err, folder, before)
    return found, detail, code


def test_corpus_is_large_and_deterministic():
    again = corpus.build_corpus()
    assert [c.name for c in again] == [c.name for c in CASES]
    assert all(a.files == b.files and a.argv == b.argv for a, b in zip(again, CASES, strict=True))
    assert len(CASES) >= 120
    assert sum(c.known for c in CASES) >= 61
    commands = {c.argv[0] if c.argv[0] != "index" else "index build" for c in CASES}
    assert commands == {"validate", "forecast", "detect", "claim", "index build", "grid"}


def test_classifier_catches_a_modified_input_and_a_missing_note(tmp_path):
    """The instrument itself: an input overwritten is caught, and an exit 0 without the note is wrong."""
    case = next(c for c in CASES if c.name == "forecast-out-is-input")
    corpus.materialise(case, tmp_path)
    before = run_fuzz.hash_inputs(tmp_path, case)
    (tmp_path / "counts.csv").write_text("area_id,category,period,model,mean\n")
    assert run_fuzz.classify(case, 0, "", "", tmp_path, before)[0] == "input modified"
    gaps = next(c for c in CASES if c.name == "validate-gaps")
    assert run_fuzz.classify(gaps, 0, "", "counts.csv: OK", tmp_path, {})[0] == "wrong exit 0"
    assert run_fuzz.classify(gaps, 0, "", "note: 8 periods ... were counted as 0", tmp_path, {})[0] == \
        "plausible exit 0"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case(case, tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RISKMODEL_DEBUG", raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    found, detail, code = run_in_process(case, tmp_path, capfd)
    assert run_fuzz.passed(case, found), (
        f"{case.name} ({case.why}; cause owned by {case.owner}): expected {case.expect}, "
        f"found {found} (exit {code}): {detail}")
