# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 Early warning (预警)
#
# Spike detection on weekly counts of the sample city (**simulated**), which has
# 40 injected outbreak-like spikes (`truth/spikes.csv`). We run Farrington
# (Noufaily's improved version) and the negative-binomial GLR chart on the series
# that carry spikes in 2019-2021, score them against the known truth (probability
# of detection, false alarms, delay), merge alarms into episodes and plot one.

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from riskmodel.plotting import use_cjk_font

from riskmodel.alerts import METHODS, detect, episodes
from riskmodel.alerts.evaluate import evaluate_spikes
from riskmodel.data import load_panel_dir


def repo_root(start: Path | None = None) -> Path:
    """The checkout's root: the first parent holding pyproject.toml."""
    p = (start or Path.cwd()).resolve()
    for cand in (p, *p.parents):
        if (cand / "pyproject.toml").exists() and (cand / "src" / "riskmodel").exists():
            return cand
    raise FileNotFoundError("run this notebook inside the riskmodel checkout")


ROOT = repo_root()
SAMPLE = ROOT / "data" / "sample"
_ = use_cjk_font()
# show figures inline
# %matplotlib inline
print({m: f for m, f in METHODS.items()})

# %% [markdown]
# ## The spiked series, weekly

# %%
spikes = pd.read_csv(SAMPLE / "truth" / "spikes.csv", parse_dates=["start"])
recent = spikes[spikes["start"] >= "2019-03-01"]
full = load_panel_dir(SAMPLE, counts="counts_weekly.csv")
keys = sorted(set(zip(recent["area_id"], recent["category"], strict=True)))
panel = full.select(areas=sorted({a for a, _ in keys}), categories=sorted({c for _, c in keys}))
print(len(recent), "spikes in", len(keys), "series; panel has", len(panel.series_ids), "series")
recent.head()

# %% [markdown]
# ## Detect and score against the truth
# Monitoring 2019-03 to 2021-12. A spike counts as detected when a week it touches
# has an alarm; every other week of these series is a quiet week (false-alarm rate).

# %%
results = {}
scores = []
for method in ["farrington-noufaily", "glrnb"]:
    det = detect(panel, method, start="2019-03-04", end="2021-12-27")
    results[method] = det
    sc = evaluate_spikes(det.table, recent, "W")
    scores.append(sc[sc["category"] == "all"].assign(method=method))
pd.concat(scores).set_index("method")[["spikes", "detected", "pod", "delay", "fpr"]].round(3)

# %% [markdown]
# ## Episodes: consecutive alarm weeks merged, with a severity

# %%
det = results["farrington-noufaily"]
eps = episodes(det.table, freq="W", max_gap=1)
print(len(eps), "episodes")
eps.sort_values("excess", ascending=False).head(8)

# %% [markdown]
# ## One spike, with the threshold

# %%
s = recent.sort_values("size_sd", ascending=False).iloc[0]
tab = det.table
one = tab[(tab["area_id"] == s["area_id"]) & (tab["category"] == s["category"])].sort_values("period")
fig, ax = plt.subplots(figsize=(9, 3.5))
ax.plot(one["period"], one["count"], lw=1, label="周计数")
ax.plot(one["period"], one["upperbound"], lw=1, ls="--", label="预警阈值")
al = one[one["alarm"].astype(bool)]
ax.scatter(al["period"], al["count"], color="red", zorder=3, s=18, label="预警")
ax.axvspan(s["start"], s["start"] + pd.Timedelta(days=int(s["days"])), color="orange", alpha=0.3,
           label="注入的异常")
ax.set_title(f"{s['area_id']} {s['category']}：Farrington 预警（模拟数据）")
ax.legend(fontsize=8, ncol=2)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Alarms per week
# The NB GLR chart raises fewer alarms (lower false-alarm rate) and misses more
# spikes; both react to the 2020 pandemic drop and rebound.

# %%
alarms_per_week = (
    pd.concat({m: d.table.groupby("period")["alarm"].sum() for m, d in results.items()}, axis=1)
)
fig, ax = plt.subplots(figsize=(9, 3))
alarms_per_week.plot(ax=ax, lw=1)
ax.set_title("每周预警数（所选序列）")
ax.set_ylabel("预警数")
fig.tight_layout()
plt.show()
