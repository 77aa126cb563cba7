"""Run the fuzz corpus (``corpus.py``) against a checkout and write ``results.md``.

Usage::

    python benchmarks/fuzz/run_fuzz.py [--src PATH] [--jobs 1] [--only NAME] [--label after] [--rewrite]

Every case runs in a fresh temporary folder as ``python -c "...riskmodel.cli.main(argv)" ...``
with ``PYTHONPATH=PATH/src`` (the checkout under test; default this one), a
throwaway ``MLFLOW_TRACKING_URI`` and a 60 s timeout. The outcome is sorted
into one class (first that applies):

* ``hang`` -- killed at the timeout;
* ``input modified`` -- an input file's bytes changed (each hashed before and after);
* ``traceback`` -- a Python traceback on stdout or stderr;
* ``exit 1`` -- a crash (``riskmodel: internal error`` or ``aborted``);
* ``exit 2`` -- a refusal naming what the case says it must (``exit 2 unnamed``
  when stderr names none of it);
* ``plausible exit 0`` / ``wrong exit 0`` -- exit 0 with outputs that pass the
  case's checks (no NaN or inf cells, a forecast's mean inside its intervals
  and at the input's scale, a detector's upper bound not below its expected
  count, formula-like input not copied verbatim into a CSV, a bounded grid) and
  the note the case asks for (``counted as 0`` for zeros riskmodel added), or not;
  also ``wrong exit 0`` when the case expects a refusal;
* ``other`` -- any other exit code.

A case passes when its class is the one it expects (``corpus.Case.expect``).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _load_corpus():  # noqa: ANN202 - the module
    if "riskmodel_fuzz_corpus" in sys.modules:
        return sys.modules["riskmodel_fuzz_corpus"]
    spec = importlib.util.spec_from_file_location("riskmodel_fuzz_corpus", HERE / "corpus.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["riskmodel_fuzz_corpus"] = mod
    spec.loader.exec_module(mod)
    return mod


corpus = _load_corpus()

CLASSES = ("exit 2", "plausible exit 0", "exit 1", "wrong exit 0", "hang", "input modified", "traceback",
           "exit 2 unnamed", "other")
MAX_GRID_ROWS = 200_000
ENTRY = "import sys; from riskmodel.cli import main; sys.exit(main(sys.argv[1:]))"
"""``riskmodel.cli`` is a package without ``__main__``: this is ``python -m riskmodel.cli`` for it."""
BAD_CELLS = {"nan", "-nan", "inf", "-inf", "+inf", "infinity", "-infinity"}


@dataclass
class Outcome:
    """What a case did and how it was classified."""

    name: str
    expect: str
    found: str
    code: int | None
    seconds: float
    detail: str
    passed: bool
    known: bool
    owner: str


def hash_inputs(folder: Path, case) -> dict[str, str | None]:  # noqa: ANN001 - corpus.Case
    """sha256 of every regular file the case wrote (followed through symlinks; None if unreadable)."""
    out: dict[str, str | None] = {}
    for rel in case.files:
        p = folder / rel
        try:
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else (
                "dir" if p.is_dir() else "link:" + os.readlink(p) if p.is_symlink() else None)
        except OSError:
            out[rel] = "link:" + os.readlink(p) if p.is_symlink() else None
    return out


def _csv_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path] if path.suffix.lower() in (".csv", ".txt") else []
    if path.is_dir():
        return sorted(p for p in path.rglob("*.csv") if not p.name.startswith("."))
    return []


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _num(v: str | None) -> float | None:
    if v is None or v.strip() == "":
        return None
    try:
        return float(v)
    except ValueError:
        return None


def plausibility(case, folder: Path, stdout: str, stderr: str) -> list[str]:  # noqa: ANN001, C901, PLR0912
    """Reasons the exit-0 outputs of ``case`` in ``folder`` are implausible (empty: plausible)."""
    problems: list[str] = []
    out = folder / case.out if case.out else None
    files = _csv_files(out) if out is not None else []
    if out is not None and not out.exists():
        problems.append(f"no output at {case.out}")
    for f in files:
        if f.name == "unmatched.csv":
            continue  # grid's list of the input rows it could not place: the bad values are the point
        try:
            rows = _rows(f)
        except (UnicodeDecodeError, csv.Error) as exc:
            problems.append(f"{f.name}: unreadable ({exc})")
            continue
        for r in rows:
            for k, v in r.items():
                if isinstance(v, str) and v.strip().lower() in BAD_CELLS and k not in ("pvalue", "reason"):
                    problems.append(f"{f.name}: {v} in column {k}")
                    break
            else:
                continue
            break
        if "csv-safe" in case.checks:
            for r in rows:
                hit = [h for h in case.hostile if h in r.values() or h in r]
                if hit:
                    problems.append(f"{f.name}: formula-like text {hit[0]!r} copied verbatim")
                    break
    for c in case.checks:
        if c.startswith("says:") and c[5:].lower() not in (stdout + stderr).lower():
            problems.append(f"output does not say {c[5:]!r}")
    for word in ("nan%", "+nan", "inf%"):
        if word in (stdout + stderr).lower():
            problems.append(f"'{word}' printed")
    if "forecast" in case.checks and out is not None and out.is_file():
        rows = _rows(out)
        means = []
        for r in rows:
            m = _num(r.get("mean"))
            if m is None or not math.isfinite(m) or m < 0:
                problems.append(f"forecast mean {r.get('mean')!r}")
                break
            means.append(m)
            for k in r:
                if k.startswith("lo_"):
                    lo, hi = _num(r[k]), _num(r.get("hi_" + k[3:]))
                    if lo is None or hi is None or not (lo - 1e-6 <= m <= hi + 1e-6):
                        problems.append(f"forecast mean {m:g} outside its {k[3:]}% interval [{lo}, {hi}]")
                        break
            else:
                continue
            break
        step = getattr(case, "step_days", None)
        if step and rows:
            by: dict[tuple[str, str], list[dt.date]] = {}
            for r in rows:
                try:
                    by.setdefault((r.get("area_id", ""), r.get("category", "")), []).append(
                        dt.date.fromisoformat(str(r.get("period", ""))[:10]))
                except ValueError:
                    problems.append(f"forecast period {r.get('period')!r} is not a date")
                    break
            gaps = [(b - a).days for ds in by.values() for a, b in zip(sorted(ds), sorted(ds)[1:], strict=False)]
            if gaps and min(gaps) < step:
                problems.append(f"forecast periods {min(gaps)} day(s) apart for input with periods {step}+ days apart")
        if means and case.level is not None:
            med = sorted(means)[len(means) // 2]
            if case.level == 0 and max(means) > 1:
                problems.append(f"forecast of an all-zero panel up to {max(means):g}")
            elif case.level > 0 and not (case.level / 5 <= med <= case.level * 5):
                problems.append(f"forecast median {med:g} for counts about {case.level:g} a period")
    if "detect" in case.checks and out is not None and out.is_file():
        rows = _rows(out)
        exp = []
        for r in rows:
            e, u = _num(r.get("expected")), _num(r.get("upperbound"))
            if e is not None and u is not None and u < e - 1e-9:
                problems.append(f"upper bound {u:g} below expected {e:g} ({r.get('period')})")
                break
            s = _num(r.get("score"))
            if r.get("alarm") == "True" and s is not None and s < 0:
                problems.append(f"alarm with a negative score {s:g} ({r.get('period')})")
                break
            if e is not None:
                exp.append(e)
        if exp and case.level:
            med = sorted(exp)[len(exp) // 2]
            if not (case.level / 5 <= med <= case.level * 5):
                problems.append(f"expected counts median {med:g} for counts about {case.level:g} a period")
    if "claim" in case.checks and out is not None:
        if not (out / "effects.csv").is_file():
            problems.append("no effects.csv")
        v = out / "verdict.txt"
        if v.is_file() and "nan" in v.read_text(encoding="utf-8", errors="replace").lower():
            problems.append("'nan' in verdict.txt")
    if "index" in case.checks and out is not None:
        s = out / "scores.csv"
        if not s.is_file():
            problems.append("no scores.csv")
        else:
            bad = [r for r in _rows(s) if (x := _num(r.get("score"))) is None or not math.isfinite(x)]
            if bad:
                problems.append(f"{len(bad)} scores not finite")
    if "grid" in case.checks and out is not None:
        c = out / "counts.csv"
        if not c.is_file():
            problems.append("no counts.csv")
        else:
            with c.open(encoding="utf-8") as fh:
                n = sum(1 for _ in fh) - 1
            if n > MAX_GRID_ROWS:
                problems.append(f"counts.csv has {n} rows")
    return problems


def classify(case, code: int | None, stdout: str, stderr: str, folder: Path,  # noqa: ANN001
             before: dict[str, str | None]) -> tuple[str, str]:
    """(class, detail) of one run; see the module's docstring for the order."""
    if code is None:
        return "hang", "timeout"
    after = hash_inputs(folder, case)
    changed = [k for k in before if before[k] != after.get(k)]
    if changed:
        return "input modified", ", ".join(changed)
    if "Traceback (most recent call last)" in stdout + stderr:
        return "traceback", _last(stderr)
    if code == 1:
        return "exit 1", _last(stderr)
    if code == 2:
        low = stderr.lower()
        missing = [n for n in case.names if not any(alt.lower() in low for alt in n.split("|"))]
        if case.expect in ("refuse", "ok-or-refuse") and missing:
            return "exit 2 unnamed", f"stderr lacks {missing}: " + _last(stderr)
        return "exit 2", _last(stderr)
    if code == 0:
        if case.expect == "refuse":
            return "wrong exit 0", "exit 0 where a refusal was expected: " + _last(stderr or stdout)
        problems = plausibility(case, folder, stdout, stderr)
        if case.expect == "ok-with-note":
            low = stderr.lower()
            missing = [w for w in case.note if w.lower() not in low]
            if missing:
                problems.append(f"no note with {missing} on stderr")
        if problems:
            return "wrong exit 0", "; ".join(problems[:3])
        return "plausible exit 0", ""
    return "other", f"exit {code}: " + _last(stderr)


def _last(text: str, n: int = 220) -> str:
    lines = [x for x in text.strip().splitlines() if x.strip()]
    s = lines[-1] if lines else ""
    for x in lines:
        if x.startswith("riskmodel:"):
            s = x
            break
    return (s[: n - 3] + "...") if len(s) > n else s


def passed(case, found: str) -> bool:  # noqa: ANN001
    """Whether ``found`` is the class ``case`` expects."""
    return {
        "refuse": found == "exit 2",
        "ok": found == "plausible exit 0",
        "ok-with-note": found == "plausible exit 0",
        "ok-or-refuse": found in ("exit 2", "plausible exit 0"),
    }[case.expect]


def run_case(case, src: Path, python: str, timeout: float, tmp_root: Path) -> Outcome:  # noqa: ANN001
    """Run one case as a subprocess in a fresh folder under ``tmp_root``."""
    folder = Path(tempfile.mkdtemp(prefix=case.name[:40] + ".", dir=tmp_root))
    corpus.materialise(case, folder)
    before = hash_inputs(folder, case)
    env = {k: v for k, v in os.environ.items() if k not in ("RISKMODEL_DEBUG", "PYTHONPATH")}
    env.update(PYTHONPATH=str(src / "src"), MLFLOW_TRACKING_URI=f"sqlite:///{tmp_root / 'mlruns.db'}",
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0",
               MPLBACKEND="Agg")
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([python, "-c", ENTRY, *case.argv], cwd=folder, env=env,
                              capture_output=True, text=True, errors="replace", timeout=timeout, check=False)
        code, so, se = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        code = None
        so = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        se = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
    secs = time.perf_counter() - t0
    found, detail = classify(case, code, so, se, folder, before)
    shutil.rmtree(folder, ignore_errors=True)
    return Outcome(case.name, case.expect, found, code, secs, detail, passed(case, found), case.known, case.owner)


def table(outcomes: list[Outcome]) -> str:
    """The summary table of the issue: tried / exit 2 / plausible exit 0 / exit 1 / wrong exit 0 / other."""
    n = {c: sum(o.found == c for o in outcomes) for c in CLASSES}
    other = n["hang"] + n["input modified"] + n["traceback"] + n["other"]
    lines = [
        "| tried | exit 2 (named) | exit 2 (stderr lacks the name) | plausible exit 0 | exit 1 | wrong exit 0 "
        "| other (input modified / traceback / hang / other exit) | cases as expected |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {len(outcomes)} | {n['exit 2']} | {n['exit 2 unnamed']} | {n['plausible exit 0']} | {n['exit 1']} "
        f"| {n['wrong exit 0']} | {other} ({n['input modified']} / {n['traceback']} / {n['hang']} / {n['other']}) "
        f"| {sum(o.passed for o in outcomes)} |",
    ]
    return "\n".join(lines)


def by_command(outcomes: list[Outcome]) -> str:
    cmds: dict[str, list[Outcome]] = {}
    for o in outcomes:
        cmd = "index build" if o.name.startswith("index-build") else o.name.split("-")[0]
        cmds.setdefault(cmd, []).append(o)
    lines = ["| command | tried | as expected | exit 2 | plausible exit 0 | exit 1 | wrong exit 0 | other |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for cmd, os_ in cmds.items():
        n = {c: sum(o.found == c for o in os_) for c in CLASSES}
        lines.append(f"| {cmd} | {len(os_)} | {sum(o.passed for o in os_)} | {n['exit 2'] + n['exit 2 unnamed']} "
                     f"| {n['plausible exit 0']} | {n['exit 1']} | {n['wrong exit 0']} "
                     f"| {n['hang'] + n['input modified'] + n['traceback'] + n['other']} |")
    return "\n".join(lines)


def write_results(path: Path, label: str, src: Path, commit: str, outcomes: list[Outcome], seconds: float) -> None:
    """Write (or update the ``label`` section of) ``path``."""
    cases = corpus.build_corpus()
    section = [f"## {label}: {src} at {commit}", "",
               f"{corpus.summary(cases)}. Ran {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
               f"{seconds:.0f} s in all (subprocesses, niced, 2 shared cores).", "",
               table(outcomes), "", by_command(outcomes), "",
               "Known-to-fail shapes (the issue's descriptions): "
               f"{sum(o.known for o in outcomes)} cases, of which {sum(o.known and not o.passed for o in outcomes)} "
               f"not as expected; other cases not as expected: {sum((not o.known) and not o.passed for o in outcomes)}.",
               "", "Cases not as expected, by owner of the cause:", ""]
    owners: dict[str, list[Outcome]] = {}
    for o in outcomes:
        if not o.passed:
            owners.setdefault(o.owner, []).append(o)
    for owner, os_ in sorted(owners.items()):
        section.append(f"- **{owner}** ({len(os_)}): " + ", ".join(o.name for o in os_))
    section += ["", "<details><summary>Every case: expected, found, exit code, seconds, detail</summary>", "",
                "| case | expected | found | ok | exit | s | detail |", "|---|---|---|---|---:|---:|---|"]
    for o in outcomes:
        det = o.detail.replace("|", "\\|").replace("\n", " ")
        section.append(f"| {o.name} | {o.expect} | {o.found} | {'yes' if o.passed else '**no**'} | "
                       f"{'' if o.code is None else o.code} | {o.seconds:.1f} | {det} |")
    section += ["", "</details>", ""]
    text = "\n".join(section)
    head = ("# Fuzz corpus: malformed and adversarial inputs (issue 16)\n\n"
            "Generated by `benchmarks/fuzz/run_fuzz.py` from the seeded corpus `benchmarks/fuzz/corpus.py`; "
            "the same cases run in-process in `tests/fuzz/test_corpus.py`. Classes: see run_fuzz.py's docstring. "
            "`exit 2` counts refusals whose stderr names the file, option or row the case says it must; "
            "`exit 2 (stderr lacks the name)` counts the others.\n\n"
            "Run: `git worktree add /tmp/wt_fuzz_before 3962b57` then `nice -n 10 .venv/bin/python "
            "benchmarks/fuzz/run_fuzz.py --src /tmp/wt_fuzz_before --label before` (the section below); "
            "after the fixes, `nice -n 10 .venv/bin/python benchmarks/fuzz/run_fuzz.py --label after` "
            "(this checkout, its own section). `--only NAME` re-runs the cases whose name contains NAME and "
            "updates them in the label's stored run (`results_<label>.json`).\n\n")
    old = path.read_text(encoding="utf-8") if path.exists() else head
    marker = f"## {label}:"
    if marker in old:
        start = old.index(marker)
        nxt = old.find("\n## ", start + 1)
        old = old[:start] + text + (old[nxt + 1:] if nxt != -1 else "")
        path.write_text(old, encoding="utf-8")
    else:
        path.write_text(old.rstrip("\n") + "\n\n" + text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=ROOT, help="checkout to test (its src/ goes on PYTHONPATH)")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--only", action="append", default=[], help="run only cases whose name contains this")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--label", default="after", help="section of results.md to write (before, after...)")
    ap.add_argument("--out", type=Path, default=HERE / "results.md")
    ap.add_argument("--rewrite", action="store_true",
                    help="run nothing: rewrite the label's section from its stored run (owners as the corpus says now)")
    args = ap.parse_args(argv)
    cases = corpus.build_corpus()
    if args.rewrite:
        args.only = ["\0no case has this name"]
    if args.only:
        cases = [c for c in cases if any(s in c.name for s in args.only)]
    src = args.src.resolve()
    commit = subprocess.run(["git", "-C", str(src), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            check=False).stdout.strip() or "?"
    dirty = subprocess.run(["git", "-C", str(src), "status", "--short", "--untracked-files=no", "src"],
                           capture_output=True, text=True, check=False).stdout.strip()
    if dirty:
        commit += " + uncommitted changes in src/"
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="riskmodel-fuzz-") as tmp:
        root = Path(tmp)

        def one(c):  # noqa: ANN001, ANN202
            o = run_case(c, src, args.python, args.timeout, root)
            print(f"{'ok  ' if o.passed else 'FAIL'} {o.name:48s} expected {o.expect:13s} found {o.found:17s} "
                  f"{o.seconds:5.1f}s {o.detail[:110]}", flush=True)
            return o

        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            outcomes = list(pool.map(one, cases))
    secs = time.perf_counter() - t0
    print(table(outcomes))
    store = args.out.with_name(f"results_{args.label}.json")
    if args.only:
        # a partial run updates the cases it ran in the stored full run, if there is one
        if not store.exists():
            return 0
        saved = json.loads(store.read_text(encoding="utf-8"))
        ran = {o.name: o for o in outcomes}
        merged = [ran.get(o["name"], Outcome(**o)) for o in saved["outcomes"]]
        outcomes, secs = merged, saved["seconds"]
        commit = saved["commit"]
    current = {c.name: c for c in corpus.build_corpus()}
    for o in outcomes:  # owners and flags as the corpus says now
        if o.name in current:
            o.owner, o.known = current[o.name].owner, current[o.name].known
    store.write_text(json.dumps({"commit": commit, "src": str(src), "seconds": secs,
                                 "outcomes": [asdict(o) for o in outcomes]}, indent=1), encoding="utf-8")
    write_results(args.out, args.label, src, commit, outcomes, secs)
    print(f"written: {args.out} and {store}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
