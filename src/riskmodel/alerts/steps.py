"""Pipeline step ``alerts``: this period's spike warnings per street and category.

Config keys (``[steps.alerts]``):

* ``method`` (``"forecast"``): any of :data:`riskmodel.alerts.METHODS` (the forecast-based
  detector found all 17 injected spikes of the sample city at a 0.8% weekly false-alarm
  rate, benchmarks/alerts/sample_city.md; ``"farrington-noufaily"`` is the R-comparable one);
* ``freq`` (``"W"``): the frequency to monitor at (daily study data are summed;
  a last period that is still incomplete is dropped);
* ``level`` (``"area"``): the hierarchy level of the monitored series (streets);
* ``lookback`` (13): periods shown in the figures and searched for episodes
  that are still open;
* ``options`` (``{}``): the method's options (see :func:`riskmodel.alerts.detect`);
* ``max_figures`` (40): figures of flagged series (the most severe first);
* ``evaluate`` (true): score the detector on the study's injected spikes
  (``truth/spikes.csv`` under ``data.truth``) when there are any.

The series are run through the study's ``[execution]`` backend, in chunks
of its ``chunk_size`` (see :mod:`riskmodel.pipeline`).

Writes into the step folder: ``detections.csv`` (every monitored period),
``warnings.csv`` (the alarms of the last period: area, category, severity,
count, expected, upper bound, episode start and length), ``episodes.csv``
(alarm runs of the last ``lookback`` periods), ``evaluation.csv`` (POD, FPR,
delay on the injected spikes) and ``figures/<area>_<category>.png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.alerts.detect import METHODS, check_method, detect
from riskmodel.alerts.episodes import SEVERITY_ZH, episodes, severity
from riskmodel.errors import ConfigError, Problem
from riskmodel.pipeline import StrictModel, register_step


class AlertsStepConfig(StrictModel):
    method: str = "forecast"
    freq: str = "W"
    level: str = "area"
    lookback: int = 13
    options: dict[str, Any] = {}
    max_figures: int = 40
    evaluate: bool = True


def _panel(ctx: Any, cfg: AlertsStepConfig):  # noqa: ANN202
    if cfg.method not in METHODS:
        raise ConfigError(Problem(f"key 'steps.alerts.method': unknown value {cfg.method!r}; valid: {', '.join(METHODS)}"))
    p = ctx.panel_at(cfg.freq) if cfg.freq != ctx.panel.freq else ctx.panel
    check_method(cfg.method, p.freq)
    levels = p.hierarchy.levels if hasattr(p.hierarchy, "levels") else []
    if cfg.level in levels and set(p.counts["area_id"]) - set(p.hierarchy.areas_at(cfg.level)):
        p = p.aggregate(cfg.level)
    if p.meta.get("partial_last"):
        last = p.counts["period"].max()
        p = p._replace(p.counts[p.counts["period"] < last].copy())  # noqa: SLF001 - drop an incomplete period
    return p


@register_step("alerts", config=AlertsStepConfig)
def step(ctx: Any, cfg: AlertsStepConfig, run: Any) -> dict[str, Any]:
    """Spike warnings of the last period per street and category, with episodes and figures."""
    panel = _panel(ctx, cfg)
    run.set_tags({"riskmodel.backend": ctx.execution.backend})
    det = detect(panel, cfg.method, chunk_size=ctx.chunk_size, backend=ctx.backend, **cfg.options)
    table = det.table
    out = ctx.step_dir("alerts")
    table.to_csv(out / "detections.csv", index=False)
    last = table["period"].max()
    periods = np.sort(table["period"].unique())
    window_start = periods[max(0, len(periods) - cfg.lookback)]
    recent = table[table["period"] >= window_start]
    eps = episodes(recent, det.freq)
    eps.to_csv(out / "episodes.csv", index=False)
    warn = table[(table["period"] == last) & table["alarm"]].copy()
    warn["severity"] = severity(warn["score"], warn["alarm"])
    open_eps = eps[eps["end"] == last].set_index(["area_id", "category"])
    warn = warn.join(open_eps[["start", "alarms", "severity"]].rename(
        columns={"start": "episode_start", "alarms": "episode_alarms", "severity": "episode_severity"}),
        on=["area_id", "category"])
    rank = {"yellow": 0, "orange": 1, "red": 2}
    warn["severity"] = [max(a, b, key=lambda s: rank.get(s, -1)) for a, b in zip(warn["severity"], warn["episode_severity"].fillna(""), strict=True)]
    warn["severity_zh"] = warn["severity"].map(SEVERITY_ZH)
    names = panel.areas.set_index("area_id")
    for col in ("name", "name_en"):
        if col in names.columns:
            warn[col] = warn["area_id"].map(names[col])
    warn = warn.drop(columns=["episode_severity", "reason"]).sort_values(
        ["severity", "score"], key=lambda s: s.map(rank) if s.name == "severity" else s, ascending=False)
    warn.to_csv(out / "warnings.csv", index=False)

    metrics: dict[str, float] = {
        "series": float(table[["area_id", "category"]].drop_duplicates().shape[0]),
        "alarms_total": float(table["alarm"].sum()),
        "warnings_last_period": float(len(warn)),
        "episodes_recent": float(len(eps)),
        "evaluated_share": float((table["reason"] == "").mean()),
    }
    evaluation = None
    if cfg.evaluate:
        evaluation = _evaluate(ctx, table, det.freq)
        if evaluation is not None:
            evaluation.to_csv(out / "evaluation.csv", index=False)
            allrow = evaluation[evaluation["category"] == "all"].iloc[0]
            metrics.update({f"truth.{k}": float(allrow[k]) for k in ("pod", "fpr", "delay", "spikes")
                            if pd.notna(allrow[k])})
            run.log_table(evaluation, "alerts_evaluation.csv")
    run.log_params({"alerts.method": cfg.method, "alerts.freq": det.freq, "alerts.last_period": str(pd.Timestamp(last).date()),
                    **{f"alerts.opt.{k}": v for k, v in det.options.items()}})
    run.log_metrics(metrics)
    run.log_table(warn, "alerts_warnings.csv")
    run.log_table(eps, "alerts_episodes.csv")
    figs = _figures(panel, table, eps, out / "figures", cfg.max_figures, window_start, det.method, run)
    return {"warnings": warn, "episodes": eps, "detections": out / "detections.csv", "figures": figs,
            "evaluation": evaluation, "last_period": last, "method": cfg.method}


def _truth_spikes(ctx: Any) -> pd.DataFrame | None:
    t = getattr(ctx.data, "truth", None)
    if not t:
        return None
    p = ctx.path(t)
    f = p if p.is_file() else p / "spikes.csv"
    if not f.exists():
        return None
    return pd.read_csv(f, parse_dates=["start"])


def _evaluate(ctx: Any, table: pd.DataFrame, freq: str) -> pd.DataFrame | None:
    """POD, FPR and delay of the detector on the injected spikes inside the monitored range."""
    spikes = _truth_spikes(ctx)
    if spikes is None or spikes.empty:
        return None
    return evaluate_spikes(table, spikes, freq)


def evaluate_spikes(table: pd.DataFrame, spikes: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Detection of known spikes (``area_id, category, start, days``) in a detection table.

    A spike is detected when a monitored period overlapping its days has an
    alarm; quiet periods are those of the spiked-or-not series with no spike
    day. All monitored periods count, including those where the method could
    not evaluate (limit54, short history): a spike there is missed, as it would
    be in practice. Returns one row per category and ``all``.
    """
    from riskmodel.data.panel import period_start

    tab = table.copy()
    tab["period"] = pd.to_datetime(tab["period"])
    key = tab.set_index(["area_id", "category", "period"])["alarm"]
    in_spike = pd.Series(False, index=key.index)
    rows = []
    first_p = tab["period"].min()
    last_p = tab["period"].max()
    for s in spikes.itertuples(index=False):
        days = pd.date_range(s.start, periods=int(s.days), freq="D")
        pers = pd.DatetimeIndex(period_start(pd.Series(days), freq).unique())
        idx = [(s.area_id, s.category, p) for p in pers if (s.area_id, s.category, p) in key.index]
        if not idx or pers.min() < first_p or pers.max() > last_p:
            continue
        in_spike.loc[idx] = True
        hits = key.loc[idx].to_numpy()
        delay = int(np.argmax(hits)) if hits.any() else np.nan
        rows.append({"category": s.category, "detected": bool(hits.any()), "delay": delay})
    ev = pd.DataFrame(rows, columns=["category", "detected", "delay"])
    quiet = ~in_spike
    fa = key[quiet].groupby(level="category").agg(["sum", "size"])
    out = []
    for cat in [*sorted(set(ev["category"]) | set(fa.index)), "all"]:
        e = ev if cat == "all" else ev[ev["category"] == cat]
        f = fa if cat == "all" else fa.loc[[cat]] if cat in fa.index else fa.iloc[0:0]
        out.append({
            "category": cat,
            "spikes": int(len(e)),
            "detected": int(e["detected"].sum()),
            "pod": float(e["detected"].mean()) if len(e) else np.nan,
            "delay": float(e["delay"].mean()) if e["detected"].any() else np.nan,
            "fpr": float(f["sum"].sum() / f["size"].sum()) if len(f) and f["size"].sum() else np.nan,
        })
    return pd.DataFrame(out)


def _figures(panel: Any, table: pd.DataFrame, eps: pd.DataFrame, folder: Path, n_max: int,
             window_start: Any, method: str, run: Any) -> list[str]:
    """One figure per flagged series (most severe episodes first)."""
    if eps.empty or n_max <= 0:
        return []

    import matplotlib.pyplot as plt

    from riskmodel.report.fonts import use_cjk_font

    use_cjk_font(required=False)
    folder.mkdir(parents=True, exist_ok=True)
    rank = {"red": 2, "orange": 1, "yellow": 0}
    order = eps.assign(_r=eps["severity"].map(rank)).sort_values(["_r", "max_score"], ascending=False)
    flagged = order[["area_id", "category"]].drop_duplicates().head(n_max)
    names = panel.areas.set_index("area_id")
    made = []
    show_from = pd.Timestamp(window_start) - pd.Timedelta(days=7 * 52)
    for a, c in flagged.itertuples(index=False):
        s = table[(table["area_id"] == a) & (table["category"] == c) & (table["period"] >= show_from)]
        fig, ax = plt.subplots(figsize=(8, 3.2))
        ax.step(s["period"], s["count"].astype(float), where="mid", color="0.2", lw=1, label="count 计数")
        ax.plot(s["period"], s["expected"], color="tab:blue", lw=1, label="expected 期望")
        ax.step(s["period"], s["upperbound"], where="mid", color="tab:orange", lw=1, label="alarm threshold 预警阈值")
        al = s[s["alarm"]]
        ax.scatter(al["period"], al["count"].astype(float), color="tab:red", zorder=3, s=18, label="alarm 预警")
        ax.axvspan(pd.Timestamp(window_start), s["period"].max(), color="0.9", zorder=0)
        nm = f"{names.at[a, 'name']} {names.at[a, 'name_en']}" if "name" in names.columns and a in names.index else a
        ax.set_title(f"{nm} ({a}) - {c}: incidents per period, {method}", fontsize=9)
        ax.set_ylabel("incidents per period")
        ax.legend(fontsize=7, loc="upper left")
        fig.text(0.01, 0.01, "Source: study counts; shaded: recent periods. Threshold: the method's upper bound.", fontsize=6)
        fig.tight_layout()
        name = f"{a}_{c}.png".replace("/", "_")
        fig.savefig(folder / name, dpi=110)
        run.log_figure(fig, name, artifact_path="figures/alerts")
        plt.close(fig)
        made.append(name)
    return made
