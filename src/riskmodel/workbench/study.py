"""The workbench's study: a study's results opened once, and everything the web pages ask of them.

:func:`open_study` opens a study's output folder (``riskmodel run``) or a tracked run
(``--run RUN_ID``), finds its experiment config, builds its Ping'an index once (the
prepared and normalised indicators are kept, so a weight change only re-aggregates:
:class:`~riskmodel.index.committee.Reweigher`) and opens its ledger (a SQLite file in
the study folder unless a database URL is given). :class:`WorkbenchStudy` answers the
pages: ranks under any weights beside the current ones, rank intervals and "what would
it take" per weight set (computed once per set and cached), the committee's AHP
weights, forecasts per level, this period's warnings with their series, a street's
detail, the follow-up of warnings and the supervision list checked against the latest
data, and the appendix rendered from the current state.

Counts are published as the appendix publishes them: below the study's
``[steps.appendix] suppress_below`` they are the text ``"<N"``
(:func:`riskmodel.report.appendix.suppress_count`).

Not thread-safe by itself: every public method holds the study's lock (one request at a time).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.config import read_toml
from riskmodel.data.readers import read_table
from riskmodel.errors import InputError, Problem
from riskmodel.index.ahp import ahp
from riskmodel.index.build import IndexResult, build_index
from riskmodel.index.committee import (
    CommitteeResult,
    Reweigher,
    committee_weights,
    expert_rankings,
    judgement_matrix,
)
from riskmodel.index.config import IndexConfig, WeightsCfg
from riskmodel.index.ranks import grades, rank_desc
from riskmodel.index.sensitivity import swap_weights
from riskmodel.index.spec import IndexSpec, effective_weights
from riskmodel.index.uncertainty import rank_uncertainty
from riskmodel.io_safety import atomic_dir, is_database_url, redacted
from riskmodel.ledger import Ledger, Vocabulary, default_url, warning_key
from riskmodel.ledger.store import parse_warning_key, saaty_value
from riskmodel.pipeline.config import Experiment
from riskmodel.pipeline.steps.index import IndexStepConfig, index_config
from riskmodel.report.appendix import (
    StudyArtifacts,
    StudyData,
    StudyOutputs,
    load_study,
    render_html,
    study_data,
    suppress_count,
    write_pdf,
)
from riskmodel.report.workbook import appendix_workbook, check_formats
from riskmodel.workbench import tomlout
from riskmodel.workbench.outputs import FolderOutputs, Overlay, read_config

STATUSES = ("met", "not met", "not yet due", "no data")


def _locked(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def inner(self: WorkbenchStudy, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        with self._lock:
            return fn(self, *args, **kwargs)

    return inner


@dataclass
class SwapAnswer:
    """"What would it take": the smallest weight change that swaps two areas (see :meth:`WorkbenchStudy.what_would_it_take`)."""

    area_a: str
    area_b: str
    level: int
    feasible: bool
    l2: float
    max_abs: float
    message_en: str
    message_zh: str
    table: pd.DataFrame  # code, name, parent, nominal, new, change


@dataclass
class AreaDetail:
    """Everything the workbench shows of one area (see :meth:`WorkbenchStudy.area_detail`)."""

    area: dict[str, Any]
    series: pd.DataFrame
    forecasts: pd.DataFrame
    warnings: pd.DataFrame
    components: pd.DataFrame
    claims: pd.DataFrame
    supervision: pd.DataFrame


@dataclass
class _WeightCache:
    result: IndexResult | None = None
    intervals: pd.DataFrame | None = None
    failures: pd.DataFrame | None = None


# --------------------------------------------------------------------------- opening
def find_config(study_dir: Path, root: Path | None = None) -> Path:
    """The experiment TOML of a study folder: its own copy (``experiment.toml``), else the
    ``experiments/*.toml`` (under ``root``, the folder above the study folder's parent, or the
    working directory) whose ``[study] out`` is this folder."""
    own = study_dir / "experiment.toml"
    if own.is_file():
        return own
    target = study_dir.resolve()
    roots = [r for r in (root, study_dir.resolve().parent.parent, Path.cwd()) if r is not None]
    for r in dict.fromkeys(Path(x).resolve() for x in roots):
        for p in sorted((r / "experiments").glob("*.toml")):
            try:
                raw = read_toml(p, "experiment config")
            except InputError:
                continue
            out = raw.get("study", {}).get("out") if isinstance(raw.get("study"), dict) else None
            if not out:
                continue
            for base in (r, p.resolve().parent.parent):
                if (base / out).resolve() == target:
                    return p
    raise InputError(Problem(f"cannot find the experiment config of the study in {study_dir}: no experiment.toml "
                             "in it and no experiments/*.toml whose [study] out is this folder; give --config"))


def open_study(study_dir: str | os.PathLike[str] | None = None, *, run_id: str | None = None,
               config: str | os.PathLike[str] | None = None, db: str | None = None,
               clock: Callable[[], dt.datetime] | None = None, root: str | os.PathLike[str] | None = None,
               tracking_uri: str | None = None) -> WorkbenchStudy:
    """Open a study for the workbench (see the module notes).

    Parameters
    ----------
    study_dir : path, optional
        A study's output folder (``riskmodel run``). Either this or ``run_id``.
    run_id : str, optional
        A tracked study run (its parent run or one of its steps); its artifacts are downloaded once.
    config : path, optional
        The experiment TOML (default: found, see :func:`find_config`; a run's own copy for ``run_id``).
    db : str, optional
        The ledger's database URL (default ``sqlite:///<study_dir>/workbench.sqlite``; for a run,
        in ``outputs/workbench/<run_id>/``).
    clock : callable, optional
        The time of every write (UTC); for tests.
    root : path, optional
        The folder the study's ``[data]`` paths are relative to (default: the config's folder's parent).
    """
    if (study_dir is None) == (run_id is None):
        raise InputError(Problem("give a study folder or --run RUN_ID (one of them)"))
    notes: list[str] = []
    tmp: Path | None = None
    if run_id is not None:
        tmp = Path(tempfile.mkdtemp(prefix="riskmodel-workbench-"))
        arts: StudyOutputs = _load_run(run_id, tmp, tracking_uri)
        cfg_path = Path(config) if config else tmp / "experiment.toml"
        if not cfg_path.is_file():
            (tmp / "experiment.toml").write_text(tomlout.dumps(arts.config), encoding="utf-8")
            cfg_path = tmp / "experiment.toml"
        folder = Path(root or Path.cwd()) / "outputs" / "workbench" / run_id
        folder.mkdir(parents=True, exist_ok=True)
        base_root = Path(root) if root else Path.cwd()
    else:
        folder = Path(study_dir)  # type: ignore[arg-type]
        if not folder.is_dir():
            raise InputError(Problem(f"no study folder {folder} (run the study first: riskmodel run EXPERIMENT.toml)"))
        cfg_path = Path(config) if config else find_config(folder, Path(root) if root else None)
        if not config:
            notes.append(f"note: the study's config is {cfg_path}")
        raw = read_config(cfg_path)
        arts = FolderOutputs(folder, str(raw.get("study", {}).get("name", folder.name)), raw)
        base_root = Path(root) if root else cfg_path.resolve().parent.parent
    return WorkbenchStudy(arts, cfg_path, folder, base_root, db or default_url(folder), clock, notes, tmp)


def _load_run(run_id: str, dest: Path, tracking_uri: str | None) -> StudyArtifacts:
    return load_study(run_id, dest, tracking_uri=tracking_uri)


class WorkbenchStudy:
    """A study opened for the workbench (use :func:`open_study`). See the module notes."""

    def __init__(self, outputs: StudyOutputs, config_path: Path, study_dir: Path, root: Path, db: str,
                 clock: Callable[[], dt.datetime] | None, notes: list[str], tmp: Path | None = None):
        self._lock = threading.RLock()
        self._tmp = tmp
        self.outputs = outputs
        self.config_path = Path(config_path)
        self.study_dir = Path(study_dir)
        self.root = Path(root)
        self.notes = list(notes)
        self.config: dict = outputs.config
        self.name: str = outputs.name
        exp = Experiment.load(self.config_path)
        self.seed = int(exp.study.seed)
        steps = self.config.get("steps", {})
        # the study's index config exactly as its index step made it (study data over the index config's)
        self.has_index = "index" in exp.steps or "sensitivity" in exp.steps
        self.index_config: IndexConfig = None  # type: ignore[assignment]
        self.index: IndexResult = None  # type: ignore[assignment]
        self.spec: IndexSpec = None  # type: ignore[assignment]
        self.reweigher: Reweigher = None  # type: ignore[assignment]
        self.period: pd.Timestamp | None = None
        if self.has_index:
            ctx = SimpleNamespace(data=exp.data, path=lambda p: _resolve(p, self.root))
            icfg = exp.steps.get("index") or IndexStepConfig()
            self.index_config = index_config(ctx, icfg)  # type: ignore[arg-type]
            self.index = _build_once(self.index_config)
            self.spec = self.index.spec
            self.reweigher = Reweigher(self.index)
            self.period = self.reweigher.period
        else:
            self.notes.append("note: the study has no Ping'an index ([steps.index]): the calibration pages are off")
        self.sensitivity_n = int(steps.get("sensitivity", {}).get("n", 1000))
        self.suppress_below: int | None = steps.get("appendix", {}).get("suppress_below")
        alerts = exp.steps.get("alerts")
        self.detector: str = str(getattr(alerts, "method", "forecast"))
        data = self.config.get("data", {})
        self.simulated = ("sample" in str(data.get("counts", ""))
                          or "simulated" in str(self.config.get("study", {}).get("description", "")).lower())
        self._areas = self._read_areas(exp)
        self._names = dict(zip(self._areas["area_id"], self._areas["name"], strict=True))
        self._names_en = dict(zip(self._areas["area_id"], self._areas.get("name_en", self._areas["name"]), strict=True))
        self._warnings = self.outputs.table("alerts", "alerts_warnings.csv")
        self._detections: pd.DataFrame | None = None
        self._forecast = self.outputs.table("forecast", "forecast.csv")
        cats = set()
        for t in (self._warnings, self._forecast):
            if t is not None and "category" in t.columns:
                cats |= set(t["category"].astype(str))
        self.categories = frozenset(cats)
        groups = ({p: tuple(self.spec.children(p)) for p in self.spec.table["code"] if len(self.spec.children(p)) >= 2}
                  if self.has_index else {})
        codes = frozenset(self.spec.table["code"]) if self.has_index else frozenset()
        self.ledger = Ledger(db, clock=clock, vocabulary=Vocabulary(
            groups=groups, codes=codes, areas=frozenset(self._areas["area_id"]), categories=self.categories))
        self.notes.extend(self.ledger.notes)
        self._cache: dict[str, _WeightCache] = {}
        self._current: dict[str, float] | None = None
        self._siblings: list[list[str]] = []
        self._nominal: dict[str, float] = {}
        if self.has_index:
            t = self.spec.table
            self._siblings = [list(g["code"]) for _p, g in t.loc[t["parent"] != ""].groupby("parent", sort=False)]
            self._nominal = self._within(self.spec.weights.to_dict())
        self._study_data: StudyData | None = None
        self._sd_lock = threading.Lock()

    def _need_index(self) -> None:
        if not self.has_index:
            raise InputError(Problem(f"study {self.name!r} has no Ping'an index ([steps.index] in its config): "
                                     "weights, ranks and the committee's judgements need one"))

    # ------------------------------------------------------------------ basics
    def close(self) -> None:
        """Release the database and remove a downloaded run's temporary folder."""
        self.ledger.dispose()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def _read_areas(self, exp: Any) -> pd.DataFrame:  # noqa: ANN401 - an Experiment
        if exp.data.areas:
            a, _ = read_table(_resolve(exp.data.areas, self.root), what="areas")
        else:
            ids: set[str] = set(self.reweigher.area_ids) if self.has_index else set()
            for t in (self.outputs.table("alerts", "alerts_warnings.csv"), self.outputs.table("forecast", "forecast.csv")):
                if t is not None:
                    ids |= set(t["area_id"].astype(str))
            a = pd.DataFrame({"area_id": sorted(ids)})
        a = a.assign(area_id=a["area_id"].astype(str))
        for c in ("name", "name_en"):
            if c not in a.columns:
                a[c] = a["area_id"]
            a[c] = a[c].fillna(a["area_id"]).astype(str)
        for c in ("parent_id", "level"):
            if c not in a.columns:
                a[c] = ""
            a[c] = a[c].fillna("").astype(str)
        return a[["area_id", "name", "name_en", "parent_id", "level"]].reset_index(drop=True)

    def areas(self) -> pd.DataFrame:
        """Every area of the study: ``area_id, name, name_en, parent_id, level``."""
        return self._areas.copy()

    def _area(self, area_id: str) -> str:
        a = str(area_id).strip()
        if a not in self._names:
            raise InputError(Problem(f"unknown area {area_id!r}"))
        return a

    def _named(self, df: pd.DataFrame) -> pd.DataFrame:
        pos = list(df.columns).index("area_id") + 1
        df = df.copy()
        if "name" not in df.columns:
            df.insert(pos, "name", df["area_id"].map(self._names).fillna(df["area_id"]))
        if "name_en" not in df.columns:
            df.insert(pos + 1, "name_en", df["area_id"].map(self._names_en).fillna(df["area_id"]))
        return df

    def _count(self, v: object) -> object:
        """A count as published (``"<N"`` below the study's suppression threshold)."""
        if self.suppress_below is None or v is None or (isinstance(v, float) and np.isnan(v)):
            return v
        out = suppress_count(float(v), self.suppress_below)  # type: ignore[arg-type]
        return int(out) if isinstance(out, float) and out.is_integer() else out

    # ------------------------------------------------------------------ index tree and weights
    def _within(self, weights: Mapping[str, float]) -> dict[str, float]:
        """Within-parent weights (each parent's children summing to 1) of every node below the top."""
        out = {}
        for kids in self._siblings:
            tot = sum(float(weights.get(c, 0.0)) for c in kids)
            for c in kids:
                out[c] = float(weights.get(c, 0.0)) / tot if tot > 0 else 1.0 / len(kids)
        return out

    def _full(self, weights: Mapping[str, float] | None) -> dict[str, float]:
        """The current weights with ``weights`` over them, normalised within each parent.

        Within a parent, when every child is given the given values are normalised; otherwise the
        given children keep their values and the others share what is left in their old proportions."""
        cur = self.current_weights()
        if not weights:
            return cur
        problems = []
        clean = {}
        for c, x in weights.items():
            if c not in cur:
                problems.append(Problem(f"unknown indicator {c!r}"))
                continue
            try:
                v = float(x)
            except (TypeError, ValueError):
                problems.append(Problem(f"weight of {c} must be a number, got {x!r}"))
                continue
            if not np.isfinite(v) or v < 0:
                problems.append(Problem(f"weight of {c} must be a number >= 0, got {x!r}"))
                continue
            clean[c] = v
        if problems:
            raise InputError(problems)
        out = dict(cur)
        for kids in self._siblings:
            given = [c for c in kids if c in clean]
            if not given:
                continue
            if len(given) < len(kids):
                rest = [c for c in kids if c not in clean]
                left = max(0.0, 1.0 - sum(clean[c] for c in given))
                r_sum = sum(cur[c] for c in rest)
                for c in rest:
                    out[c] = left * cur[c] / r_sum if r_sum > 0 else left / len(rest)
            for c in given:
                out[c] = clean[c]
            tot = sum(out[c] for c in kids)
            for c in kids:
                out[c] = out[c] / tot if tot > 0 else 1.0 / len(kids)
        return out

    @_locked
    def current_weights(self) -> dict[str, float]:
        """Within-parent weights of every node below the top: the latest saved weight set made current
        (:meth:`use_weight_set`), else the study's own. Read from the ledger once, then kept (a weight set
        made current by another process shows after :meth:`refresh`)."""
        self._need_index()
        if self._current is None:
            cur = self.ledger.current()
            self._current = dict(self._nominal) if cur is None else self._within({**self._nominal, **cur.weights})
        return dict(self._current)

    def refresh(self) -> None:
        """Forget what was read from the ledger (the current weight set)."""
        with self._lock:
            self._current = None

    @_locked
    def index_tree(self, weights: Mapping[str, float] | None = None) -> pd.DataFrame:
        """The index spec under ``weights`` (default the current ones): ``code, name, name_en, parent,
        level, direction, weight (within parent), within_parent, effective`` (effective = on the index)."""
        w = self._full(weights)
        eff = effective_weights(self.spec.with_weights(w)).set_index("code")
        t = self.spec.table.set_index("code")
        out = pd.DataFrame({"code": t.index, "name": t["name"].to_numpy(), "name_en": t["name_en"].to_numpy(),
                            "parent": t["parent"].to_numpy(), "level": t["level"].astype(int).to_numpy(),
                            "direction": t["direction"].to_numpy()})
        out["weight"] = out["code"].map(w).fillna(1.0)
        out["within_parent"] = out["code"].map(eff["within_parent"])
        out["effective"] = out["code"].map(eff["effective"])
        return out

    def groups(self) -> list[tuple[str, list[str]]]:
        """``(parent, children)`` of every group with at least 2 children: the pairwise matrices to fill
        (none without an index)."""
        return [(p, list(k)) for p, k in self.ledger.vocabulary.groups.items()]

    # ------------------------------------------------------------------ ranks
    @_locked
    def ranks_for(self, weights: Mapping[str, float] | None = None, *,
                  before: Mapping[str, float] | None = None) -> pd.DataFrame:
        """Latest-period ranks under ``weights`` beside those under ``before`` (default: the current weights).

        Returns
        -------
        DataFrame
            ``area_id, name, name_en, score, rank, grade, score_before, rank_before, grade_before,
            rank_change`` (rank_before - rank: positive = moved up), sorted by rank. Only the
            aggregation is redone (milliseconds; benchmarks/workbench/results.md).
        """
        self._need_index()
        rw = self.reweigher
        ties = self.index_config.ranks.ties
        g = self.index_config.ranks.grades
        cols = {}
        for suffix, w in (("", self._full(weights)),
                          ("_before", self._full(before) if before is not None else self.current_weights())):
            sc = rw.scores(w)
            cols["score" + suffix] = sc
            cols["rank" + suffix] = rank_desc(sc, ties)
            cols["grade" + suffix] = grades(sc, g.thresholds, g.labels) if g is not None else np.full(len(sc), None)
        ids = rw.area_ids
        out = pd.DataFrame({"area_id": ids, "name": [self._names.get(a, a) for a in ids],
                            "name_en": [self._names_en.get(a, a) for a in ids], "score": cols["score"],
                            "rank": cols["rank"], "grade": cols["grade"], "score_before": cols["score_before"],
                            "rank_before": cols["rank_before"], "grade_before": cols["grade_before"]})
        out["rank_change"] = out["rank_before"] - out["rank"]
        order = np.lexsort((ids, np.nan_to_num(cols["rank"], nan=np.inf)))
        out = out.iloc[order].reset_index(drop=True)
        for c in ("rank", "rank_before", "rank_change"):
            out[c] = out[c].astype("Int64")
        return out

    def _key(self, weights: Mapping[str, float]) -> str:
        return hashlib.sha256(json.dumps({k: round(v, 12) for k, v in sorted(weights.items())}).encode()).hexdigest()[:16]

    def _built(self, full: Mapping[str, float]) -> IndexResult:
        """The index built under ``full`` weights (cached per weight set)."""
        key = self._key(full)
        c = self._cache.setdefault(key, _WeightCache())
        if c.result is None:
            cfg = self.index_config.model_copy(update={"weights": WeightsCfg(method="expert", values=dict(full))})
            inp = self.index.inputs
            c.result = build_index(cfg, inp.spec if inp else None, inp.data if inp else None)
        return c.result

    @_locked
    def rank_intervals(self, weights: Mapping[str, float] | None = None) -> pd.DataFrame:
        """Monte Carlo rank intervals (5-95%) of the latest period under ``weights`` (default current),
        as the study's sensitivity step computes them (same n and seed); cached per weight set.

        Returns ``area_id, name, name_en, nominal, median, q05, q95``.
        """
        full = self._full(weights)
        c = self._cache.setdefault(self._key(full), _WeightCache())
        if c.intervals is None:
            unc = rank_uncertainty(self._built(full), n=self.sensitivity_n, seed=self.seed)
            c.intervals = unc.rank_stats
            c.failures = unc.failures
        rs = c.intervals.drop(columns=["name"], errors="ignore")
        return self._named(rs)[["area_id", "name", "name_en", "nominal", "median", "q05", "q95"]]

    @_locked
    def what_would_it_take(self, area_a: str, area_b: str, *, weights: Mapping[str, float] | None = None,
                           level: int = 2) -> SwapAnswer:
        """The smallest change of the level-``level`` weights (Euclidean) that makes the two areas tie
        (and, beyond, swap), from ``weights`` (default current); :func:`riskmodel.index.swap_weights`."""
        a, b = self._area(area_a), self._area(area_b)
        if a == b:
            raise InputError(Problem("choose two different areas"))
        sw = swap_weights(self._built(self._full(weights)), a, b, level=level)
        t = self.spec.table.set_index("code")
        table = sw.weights.copy()
        table.insert(1, "name", table["code"].map(t["name"]))
        na, nb = self._names[a], self._names[b]
        if sw.feasible:
            top = table.reindex(table["change"].abs().sort_values(ascending=False).index).iloc[0]
            zh = (f"{na}与{nb}的得分相等需要第{level}层权重至少变动{sw.l2:.3f}（欧氏距离），"
                  f"其中变动最大的是{top['name']}：{top['nominal']:.3f} → {top['new']:.3f}；再向同一方向变动则两者名次互换。")
        else:
            zh = f"在第{level}层权重的允许范围内（每组权重之和为1、各权重在0到1之间），{na}与{nb}的名次无法互换。"
        return SwapAnswer(a, b, level, sw.feasible, sw.l2, sw.max_abs, sw.message, zh, table)

    # ------------------------------------------------------------------ committee
    @_locked
    def committee(self, group: str = "judgements", method: str = "eigenvector") -> CommitteeResult:
        """The committee's AHP weights from the latest saved judgements of every expert."""
        self._need_index()
        return committee_weights(self.ledger.judgements_long(), self.spec, group=group, method=method)

    @_locked
    def expert_rankings(self, group: str = "judgements", method: str = "eigenvector") -> pd.DataFrame:
        """What each expert's weights would do: ``area_id, name, scheme, score, rank, rank_committee, shift``."""
        com = self.committee(group, method)
        ranks, _ = expert_rankings(self.reweigher, com, self._names, base=self.current_weights())
        return ranks

    def check_matrix(self, parent: str, judgements: Mapping[tuple[str, str], object]) -> Any:  # noqa: ANN401 - AHPResult
        """CR and the judgement to revisit of one expert's matrix for ``parent``, not saved
        (:class:`~riskmodel.index.ahp.AHPResult`: ``weights``, ``cr``, ``consistent``, ``revisit``)."""
        self._need_index()
        groups = dict(self.groups())
        if parent not in groups:
            raise InputError(Problem(f"unknown group {parent!r}; groups: {', '.join(groups)}"))
        codes = groups[parent]
        rows = []
        for (r, c), v in judgements.items():
            for x in (r, c):
                if x not in codes:
                    raise InputError(Problem(f"unknown indicator {x!r} in group {parent!r} (its children: {', '.join(codes)})"))
            rows.append({"row": r, "col": c, "value": saaty_value(v, f"judgement ({r}, {c})")})
        A = judgement_matrix(pd.DataFrame(rows, columns=["row", "col", "value"]), codes, where=f"group {parent!r}")
        return ahp(A, codes, parent, group="judgements", expert_names=["expert"])

    @_locked
    def save_judgements(self, expert: str, parent: str, judgements: Mapping[tuple[str, str], object], *,
                        who: str) -> int:
        """Save one expert's judgements for one group; returns the new version (1, 2, ...)."""
        self._need_index()
        return self.ledger.add_judgements(expert, parent, judgements, who=who)

    @_locked
    def save_weight_set(self, name: str, weights: Mapping[str, float], *, method: str, who: str,
                        note: str = "") -> int:
        """Save a named weight set (the given weights over the current ones, within-parent); returns its version."""
        return self.ledger.save_weight_set(name, self._full(weights), method=method, who=who, note=note)

    @_locked
    def use_weight_set(self, name: str, version: int | None = None, *, who: str) -> dict[str, float]:
        """Make a saved weight set the current one (ranks, intervals and the published appendix use it)."""
        self._need_index()
        ws = self.ledger.weight_set(name, version)
        self.ledger.set_current(ws.name, ws.version, who=who)
        self._current = None
        return self.current_weights()

    def weight_sets(self) -> pd.DataFrame:
        """Every saved weight set and version: ``name, version, method, who, at, note, n_weights``."""
        return self.ledger.weight_sets()

    @_locked
    def weight_config_toml(self, name: str | None = None, version: int | None = None) -> str:
        """A weight set (default the current weights) as the study's index config: the index config the
        study used, with its data paths absolute and ``[weights] method = "expert"`` with the set's values
        (TOML that ``riskmodel index build --config`` reads)."""
        self._need_index()
        if name is None:
            w, head = self.current_weights(), "current weights"
        else:
            ws = self.ledger.weight_set(name, version)
            w = self._within({**self._nominal, **ws.weights})
            head = f"weight set {ws.name!r} version {ws.version} ({ws.method}), saved by {ws.who} at {ws.at}"
            if ws.note:
                head += f"\nnote: {ws.note}"
        raw = self.index_config.model_dump(exclude_none=True, mode="json")
        raw["data"] = {k: (str(Path(self.index_config.path(v)).resolve())
                           if k in ("indicators", "spec", "areas", "idata", "imeta") and isinstance(v, str)
                           and not is_database_url(v) else v) for k, v in raw["data"].items()}
        raw["weights"] = {"method": "expert", "values": {c: float(x) for c, x in w.items()}}
        raw.pop("indicators", None) if not raw.get("indicators", {}).get("drop") else None
        header = (f"Ping'an index config of study {self.name!r} with the {head}.\n"
                  "Written by riskmodel's workbench. Run: riskmodel index build --config THIS_FILE --out FOLDER")
        return tomlout.dumps(raw, header=header)

    def judgements_csv(self) -> str:
        """The latest judgements as CSV in the long format ``read_ahp_file`` reads (expert, parent, row, col, value)."""
        return self.ledger.judgements_long().to_csv(index=False, lineterminator="\n")

    # ------------------------------------------------------------------ forecasts and warnings
    def forecast_levels(self) -> list[str]:
        """The levels of the hierarchy with forecasts (top first)."""
        fc = self._forecast
        return [] if fc is None else list(dict.fromkeys(fc["level"].astype(str)))

    def _history(self) -> pd.DataFrame | None:
        return self._sd().history

    def _sd(self) -> StudyData:
        """The study data the appendix shows (names, categories, monthly history), loaded once.

        Loading them reads the study's counts again (seconds for daily data), so they are kept in
        ``<study folder>/workbench_cache/`` (keyed by the counts' and the forecast's sizes and times)
        and read from there on the next start."""
        with self._sd_lock:
            if self._study_data is None:
                self._study_data = self._load_study_data()
            return self._study_data

    def warm_up(self) -> threading.Thread:
        """In a background thread: load the study data (the first forecasts page is then instant) and
        compute the rank intervals of the current weights. Returns the (daemon) thread."""
        def work() -> None:
            self._sd()
            try:
                self.rank_intervals()
            except InputError as exc:  # shown when the page asks for them
                self.notes.append(f"note: rank intervals: {exc}")

        t = threading.Thread(target=work, name="workbench-warm-up", daemon=True)
        t.start()
        return t

    def _load_study_data(self) -> StudyData:
        if self.outputs.table("appendix", "areas.csv") is not None:  # a tracked run that logged them
            return study_data(self.outputs, self.root)
        stamp = []
        counts = self.config.get("data", {}).get("counts")
        for p in ([_resolve(counts, self.root)] if counts and not is_database_url(counts) else []) + \
                [self.study_dir / "forecast" / "forecast.csv"]:
            st = Path(p).stat() if Path(p).exists() else None
            stamp.append(f"{Path(p).resolve()}:{st.st_size if st else -1}:{st.st_mtime_ns if st else -1}")
        key = hashlib.sha256("|".join(stamp).encode()).hexdigest()[:16]
        cache = self.study_dir / "workbench_cache" / f"study_data_{key}"
        names = {"areas": "areas.csv", "categories": "categories.csv", "history": "history.csv"}
        if cache.is_dir():
            t = {k: pd.read_csv(cache / f) if (cache / f).exists() else None for k, f in names.items()}
            h = t["history"]
            if h is not None:
                h = h.assign(period=pd.to_datetime(h["period"]), area_id=h["area_id"].astype(str))
            a = t["areas"]
            if a is not None:
                a = a.assign(area_id=a["area_id"].astype(str))
            return StudyData(a, t["categories"], h)
        sd = study_data(self.outputs, self.root)
        if sd.areas is None:
            return sd
        try:
            with atomic_dir(cache) as tmp:
                for k, f in names.items():
                    df = getattr(sd, k)
                    if df is not None:
                        df.to_csv(tmp / f, index=False, lineterminator="\n")
        except (OSError, InputError) as exc:  # a read-only study folder: no cache, same answers
            self.notes.append(f"note: could not keep the study data in {cache.parent} ({exc})")
            return sd
        for old in cache.parent.glob("study_data_*"):  # those of earlier runs of the study
            if old != cache:
                shutil.rmtree(old, ignore_errors=True)
        return sd

    @_locked
    def forecasts(self, level: str | None = None, horizon: int = 1) -> pd.DataFrame:
        """Next period's forecasts (``horizon`` = 1; 2 = the one after...) per area and category at ``level``.

        Returns ``area_id, name, name_en, level, category, period, mean, lo_80, hi_80, lo_95, hi_95,
        last, last_period, change`` (last = the latest observed count; change = mean - last).
        """
        fc = self._forecast
        cols = ["area_id", "name", "name_en", "level", "category", "period", "mean", "lo_80", "hi_80", "lo_95",
                "hi_95", "last", "last_period", "change"]
        if fc is None:
            return pd.DataFrame(columns=cols)
        fc = fc.assign(area_id=fc["area_id"].astype(str), level=fc["level"].astype(str),
                       period=pd.to_datetime(fc["period"]))
        if level is not None:
            if level not in set(fc["level"]):
                raise InputError(Problem(f"unknown level {level!r}; levels: {', '.join(self.forecast_levels())}"))
            fc = fc.loc[fc["level"] == level]
        periods = sorted(fc["period"].unique())
        if not 1 <= horizon <= len(periods):
            raise InputError(Problem(f"horizon must be 1..{len(periods)}"))
        fc = fc.loc[fc["period"] == periods[horizon - 1]].copy()
        h = self._history()
        if h is not None and len(h):
            last_p = h["period"].max()
            last = h.loc[h["period"] == last_p].set_index(["area_id", "category"])["count"]
            fc["last"] = [last.get((a, c), np.nan) for a, c in zip(fc["area_id"], fc["category"], strict=True)]
            fc["last_period"] = last_p
        else:
            fc["last"] = np.nan
            fc["last_period"] = pd.NaT
        fc["change"] = fc["mean"] - fc["last"]
        fc = self._named(fc)
        for c in ("mean", "lo_80", "hi_80", "lo_95", "hi_95", "last"):
            fc[c] = [self._count(v) for v in fc[c]] if self.suppress_below else fc[c]
        return fc[cols].reset_index(drop=True)

    @_locked
    def warnings(self) -> pd.DataFrame:
        """This period's warnings with their follow-up state.

        Returns ``key, area_id, name, name_en, category, period, detector, count, expected, threshold,
        severity, severity_zh, score, status ('open' or the latest follow-up), unit, note, who, at``,
        most severe first.
        """
        cols = ["key", "area_id", "name", "name_en", "category", "period", "detector", "count", "expected",
                "threshold", "severity", "severity_zh", "score", "status", "unit", "note", "who", "at"]
        w = self._warnings
        if w is None or w.empty:
            return pd.DataFrame(columns=cols)
        w = w.assign(area_id=w["area_id"].astype(str), category=w["category"].astype(str),
                     period=pd.to_datetime(w["period"]), detector=self.detector,
                     threshold=w["upperbound"] if "upperbound" in w.columns else np.nan)
        w = w.drop(columns=[c for c in ("name", "name_en") if c in w.columns])
        w.insert(0, "key", [warning_key(a, c, p, self.detector) for a, c, p in
                            zip(w["area_id"], w["category"], w["period"], strict=True)])
        fu = self.ledger.follow_up_table()
        state = {warning_key(r.area_id, r.category, r.period, r.detector): r for r in fu.itertuples()}
        w["status"] = [state[k].status if k in state else "open" for k in w["key"]]
        for c in ("unit", "note", "who", "at"):
            w[c] = [getattr(state[k], c) if k in state else "" for k in w["key"]]
        w = self._named(w)
        if "severity_zh" not in w.columns:
            w["severity_zh"] = w.get("severity", "")
        w["count"] = [self._count(v) for v in w["count"]]
        return w[cols].reset_index(drop=True)

    def _detections_table(self) -> pd.DataFrame:
        if self._detections is None:
            d = self.outputs.table("alerts", "detections.csv")
            if d is None:
                d = pd.DataFrame(columns=["area_id", "category", "period", "count", "expected", "upperbound", "alarm"])
            self._detections = d.assign(area_id=d["area_id"].astype(str), category=d["category"].astype(str),
                                        period=pd.to_datetime(d["period"]))
        return self._detections

    @_locked
    def warning_series(self, key: str, periods: int = 52) -> pd.DataFrame:
        """The series of a warning up to its period: ``period, count, expected, threshold, alarm`` (the
        last ``periods`` periods of the detector's frequency)."""
        area, cat, day, _det = parse_warning_key(key)
        return self._series(self._area(area), cat, pd.Timestamp(day), periods)

    def _series(self, area: str, category: str | None, until: pd.Timestamp | None, periods: int) -> pd.DataFrame:
        d = self._detections_table()
        s = d.loc[d["area_id"] == area]
        if category is not None:
            s = s.loc[s["category"] == category]
        if until is not None:
            s = s.loc[s["period"] <= until]
        s = s.sort_values(["category", "period"]).groupby("category", sort=False).tail(periods)
        out = pd.DataFrame({"period": s["period"], "category": s["category"], "count": s["count"],
                            "expected": s["expected"], "threshold": s.get("upperbound", np.nan),
                            "alarm": s["alarm"].astype(bool) if "alarm" in s.columns else False})
        out["count"] = [self._count(v) for v in out["count"]]
        if category is not None:
            out = out.drop(columns="category")
        return out.reset_index(drop=True)

    @_locked
    def area_detail(self, area_id: str, periods: int = 52) -> AreaDetail:
        """One area: its series (every category, the alerts' frequency), forecasts, warnings, the index
        components (latest period, current weights), claim results and supervision items."""
        a = self._area(area_id)
        row = self._areas.loc[self._areas["area_id"] == a].iloc[0].to_dict()
        fc = self.forecasts()
        fc = fc.loc[fc["area_id"] == a].reset_index(drop=True)
        w = self.warnings()
        w = w.loc[w["area_id"] == a].reset_index(drop=True)
        comp = self._components(a)
        cl = self.outputs.table("claims", "claims_summary.csv")
        cl = (cl.loc[cl["area_id"].astype(str) == a].reset_index(drop=True) if cl is not None
              else pd.DataFrame(columns=["claim_id", "area_id", "category", "verdict_en", "verdict_zh"]))
        sup = self.supervision()
        return AreaDetail(row, self._series(a, None, None, periods), fc, w, comp, cl,
                          sup.loc[sup["area_id"] == a].reset_index(drop=True))

    def _components(self, area: str) -> pd.DataFrame:
        cols = ["code", "name", "name_en", "level", "score", "rank", "value"]
        if not self.has_index or area not in set(self.reweigher.area_ids):
            return pd.DataFrame(columns=cols)
        levels = self.reweigher.levels(self.current_weights())
        i = int(np.flatnonzero(self.reweigher.area_ids == area)[0])
        t = self.spec.table.set_index("code")
        raw = self._raw_latest()
        rows = []
        for L, S in enumerate(levels, start=1):
            codes = self.spec.codes_at(L)
            R = rank_desc(S, self.index_config.ranks.ties, axis=0)
            for j, c in enumerate(codes):
                rows.append({"code": c, "name": t.loc[c, "name"], "name_en": t.loc[c, "name_en"], "level": L,
                             "score": float(S[i, j]), "rank": int(R[i, j]) if np.isfinite(R[i, j]) else None,
                             "value": raw.get((area, c), np.nan) if L == 1 else np.nan})
        return pd.DataFrame(rows, columns=cols).sort_values(["level", "code"], ascending=[False, True]).reset_index(drop=True)

    def _raw_latest(self) -> dict[tuple[str, str], float]:
        """Indicator values of the latest period as read (before imputation and treatment)."""
        raw = self.index.stages.get("raw") if self.has_index else None
        if raw is None:
            return {}
        r = raw.loc[raw["period"] == self.period] if self.period is not None else raw
        ind = self.spec.indicators
        out = {}
        for rec in r[["area_id", *ind]].itertuples(index=False):
            for c, v in zip(ind, rec[1:], strict=True):
                out[(str(rec[0]), c)] = float(v)
        return out

    # ------------------------------------------------------------------ follow-up and supervision
    @_locked
    def follow_up(self, key: str, status: str, *, who: str, unit: str = "", note: str = "") -> int:
        """Record an action on a warning: ``acknowledged``, ``assigned`` (with the unit) or ``rectified``
        (with a note). Appended to the warning's history; returns the event's id."""
        area, cat, day, det = parse_warning_key(key)
        keys = set(self.warnings()["key"])
        k = warning_key(area, cat, day, det)
        if k not in keys:
            raise InputError(Problem(f"no warning {key!r} this period"))
        return self.ledger.follow_up(area, cat, day, det, status, who=who, unit=unit, note=note)

    @_locked
    def follow_up_table(self) -> pd.DataFrame:
        """Each warning's latest follow-up: ``area_id, name, category, period, detector, status, unit,
        note, who, at`` (the appendix's table)."""
        fu = self._named(self.ledger.follow_up_table())
        return fu[["area_id", "name", "category", "period", "detector", "status", "unit", "note", "who", "at"]]

    @_locked
    def follow_up_history(self, key: str | None = None) -> pd.DataFrame:
        """Every follow-up event (of one warning when ``key`` is given), oldest first."""
        h = self.ledger.follow_up_history()
        if key is not None:
            area, cat, day, det = parse_warning_key(key)
            h = h.loc[(h["area_id"] == area) & (h["category"] == cat) & (h["period"] == day) & (h["detector"] == det)]
        return self._named(h.reset_index(drop=True))

    @_locked
    def supervise(self, area_id: str, indicator: str, target: object, direction: str,
                  review_date: str | dt.date, *, who: str, note: str = "") -> int:
        """Put an area on the supervision list (挂牌督办) for an index indicator (or the index, or a
        dimension, or an incident category) with a target; returns the item's id."""
        if not self.has_index and str(indicator).strip() not in self.categories:
            raise InputError(Problem(f"unknown indicator {indicator!r}; without an index, an incident category: "
                                     + ", ".join(sorted(self.categories))))
        return self.ledger.supervise(self._area(area_id), indicator, target, direction, review_date, who=who, note=note)

    @_locked
    def end_supervision(self, item_id: int, *, who: str, note: str = "") -> None:
        """Take an item off the supervision list (kept in the history)."""
        self.ledger.end_supervision(item_id, who=who, note=note)

    @_locked
    def supervision(self, *, active_only: bool = False) -> pd.DataFrame:
        """The supervision list checked against the latest data.

        Returns ``id, area_id, name, indicator, indicator_name, target, direction, review_date,
        latest_value, latest_period, status, active, who, at, note``; status is ``met``, ``not met``
        (review date reached, target not met), ``not yet due`` (not met, review date not reached) or
        ``no data``. An indicator's value is its value as read (level 1), a dimension's or the index's
        its score under the current weights, a category's its latest count (the alerts' frequency).
        """
        cols = ["id", "area_id", "name", "indicator", "indicator_name", "target", "direction", "review_date",
                "latest_value", "latest_period", "status", "active", "who", "at", "note"]
        s = self.ledger.supervision_table(active_only=active_only)
        if s.empty:
            return pd.DataFrame(columns=cols)
        today = pd.Timestamp(self.ledger.clock().date())
        levels = self.reweigher.levels(self.current_weights()) if self.has_index else []
        raw = self._raw_latest()
        t = self.spec.table.set_index("code") if self.has_index else pd.DataFrame(index=pd.Index([], name="code"))
        det = self._detections_table()
        vals, pers, stats, names, shown = [], [], [], [], []
        for r in s.itertuples():
            v, per, name = np.nan, None, r.indicator
            if r.indicator in t.index:
                name = str(t.loc[r.indicator, "name"])
                L = int(t.loc[r.indicator, "level"])
                per = self.period
                if L == 1:
                    v = raw.get((r.area_id, r.indicator), np.nan)
                elif r.area_id in set(self.reweigher.area_ids):
                    i = int(np.flatnonzero(self.reweigher.area_ids == r.area_id)[0])
                    v = float(levels[L - 1][i, self.spec.codes_at(L).index(r.indicator)])
            else:
                d = det.loc[(det["area_id"] == r.area_id) & (det["category"] == r.indicator)]
                if len(d):
                    last = d.loc[d["period"].idxmax()]
                    v, per = float(last["count"]), last["period"]
                    shown.append(r.id)
            if v is None or not np.isfinite(v):
                st = "no data"
            elif (r.direction == "at_most" and v <= r.target) or (r.direction == "at_least" and v >= r.target):
                st = "met"
            else:
                st = "not yet due" if today < pd.Timestamp(r.review_date) else "not met"
            vals.append(v)
            pers.append(per)
            stats.append(st)
            names.append(name)
        s = s.assign(latest_value=vals, latest_period=pers, status=stats, indicator_name=names)
        if self.suppress_below and shown:  # a category's count is published as the appendix publishes counts
            s["latest_value"] = [self._count(v) if i in shown else v for i, v in zip(s["id"], s["latest_value"], strict=True)]
        s = self._named(s)
        return s[cols]

    # ------------------------------------------------------------------ publishing
    def _overlay(self) -> Overlay:
        tables: dict[tuple[str, str], pd.DataFrame] = {}
        if self.has_index:
            tables.update(self._index_tables())
        fu = self.follow_up_table()
        if len(fu):
            tables[("workbench", "follow_up.csv")] = fu
        sup = self.supervision()
        if len(sup):
            tables[("workbench", "supervision.csv")] = sup
        return Overlay(self.outputs, tables)

    def _index_tables(self) -> dict[tuple[str, str], pd.DataFrame]:
        """The index's tables of the appendix under the current weights (and their rank intervals)."""
        w = self.current_weights()
        res = self._built(w)
        tables: dict[tuple[str, str], pd.DataFrame] = {
            ("index", "scores.csv"): res.scores_for_output(),
            ("index", "weights.csv"): res.weights,
        }
        if w != self._nominal:
            self.rank_intervals(w)
            c = self._cache[self._key(w)]
            tables[("sensitivity", "rank_stats.csv")] = c.intervals  # type: ignore[assignment]
            if c.failures is not None:
                tables[("sensitivity", "failures.csv")] = c.failures
        return tables

    @_locked
    def publish(self, lang: str = "zh", formats: tuple[str, ...] | list[str] = ("html",)) -> Path:
        """Render the appendix from the current state (the current weights, their rank intervals, the
        follow-up and supervision tables) into a new temporary folder; returns the file of the first format asked for
        (``appendix_<lang>.html``, ``.pdf`` or ``.xlsx``; the others are beside it). The caller removes the folder when done."""
        formats = check_formats(tuple(formats))
        if lang not in ("zh", "en"):
            raise InputError(Problem(f"unknown language {lang!r}; valid: zh, en"))
        arts = self._overlay()
        sd = self._sd()
        out = Path(tempfile.mkdtemp(prefix="riskmodel-appendix-"))
        files = []
        if "html" in formats or "pdf" in formats:
            html = render_html(arts, lang=lang, suppress_below=self.suppress_below, root=self.root, data=sd)
            if "html" in formats:
                p = out / f"appendix_{lang}.html"
                p.write_text(html, encoding="utf-8")
                files.append(p)
            if "pdf" in formats:
                p = out / f"appendix_{lang}.pdf"
                write_pdf(html, p)
                files.append(p)
        if "xlsx" in formats:
            p = out / f"appendix_{lang}.xlsx"
            p.write_bytes(appendix_workbook(arts, lang=lang, suppress_below=self.suppress_below, root=self.root, data=sd))
            files.append(p)
        return next(f for f in files if f.suffix == f".{formats[0]}")  # the first format asked for

    def __repr__(self) -> str:
        return f"WorkbenchStudy({self.name!r}, {self.study_dir}, ledger={redacted(self.ledger.url)!r})"


_BUILDS: dict[str, IndexResult] = {}


def _build_once(cfg: IndexConfig) -> IndexResult:
    """The index of ``cfg``, built once per process and input files (their sizes and times): a study opened
    again (a test, a restart of the page's worker) reuses it. The result is only read, never changed."""
    stamp = []
    for k in ("indicators", "spec", "areas", "idata", "imeta"):
        v = getattr(cfg.data, k)
        if v and not is_database_url(v):
            p = Path(cfg.path(v))
            st = p.stat() if p.exists() else None
            stamp.append((str(p.resolve()), st.st_size if st else -1, st.st_mtime_ns if st else -1))
    key = cfg.model_dump_json() + json.dumps(stamp) + str(cfg.base_dir)
    if key not in _BUILDS:
        if len(_BUILDS) >= 4:
            _BUILDS.pop(next(iter(_BUILDS)))
        _BUILDS[key] = build_index(cfg)
    return _BUILDS[key]


def _resolve(p: str | os.PathLike[str], root: Path) -> Path:
    if is_database_url(p):
        return p  # type: ignore[return-value]
    q = Path(p)
    if q.is_absolute() or q.exists():
        return q
    return root / q


__all__ = ["AreaDetail", "STATUSES", "SwapAnswer", "WorkbenchStudy", "find_config", "open_study"]
