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
# # 02 Forecasting and backtests
#
# Monthly forecasts per street on the sample city (**simulated**): the model
# registry, a rolling-origin backtest against seasonal naive (MASE, coverage of
# the 80/95% intervals, CRPS), a fan chart, and hierarchical reconciliation so
# that the streets add up to the district. A small subset keeps it fast.

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from riskmodel.plotting import use_cjk_font

from riskmodel.data import load_panel_dir
from riskmodel.forecast import MODELS
from riskmodel.forecast.api import backtest_panel, forecast_panel
from riskmodel.forecast.figures import fan_chart


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
print("models:", ", ".join(MODELS))

# %% [markdown]
# ## A subset: the Jinwan district's streets, three categories

# %%
full = load_panel_dir(SAMPLE, counts="counts_monthly.csv")
jw = [a for a in full.hierarchy.areas_at("area") if full.hierarchy.ancestor_at(a, "district") == "ZH-JW"]
panel = full.select(areas=jw, categories=["alerts", "traffic_accidents", "fires"])
print(jw, len(panel.series_ids), "series")

# %% [markdown]
# ## Rolling-origin backtest
# Three windows of 3 months at the end of 2021; each model is compared with seasonal
# naive (`rel_mase` < 1 means better than seasonal naive).

# %%
fr, mt = backtest_panel(panel, h=3, windows=3, models=("ets", "nbglm"), levels=(80, 95), seed=1)
overall = mt[mt["level"] == "overall"].set_index("model")
overall[["mase", "rel_mase", "crps", "coverage_80", "coverage_95", "bias", "seconds"]].round(3)

# %%
per_series = mt[(mt["area_id"] != "ALL")].pivot_table(index=["area_id", "category"], columns="model", values="mase")
per_series.round(2)

# %%
fig, ax = plt.subplots(figsize=(6, 4))
for m in ["ets", "nbglm"]:
    ax.scatter(per_series["snaive"], per_series[m], label=m, s=20)
lim = [0, float(per_series.max().max()) * 1.05]
ax.plot(lim, lim, color="grey", lw=0.8)
ax.set_xlabel("季节性朴素法 MASE")
ax.set_ylabel("模型 MASE")
ax.set_title("回测：各序列 MASE（对角线以下优于季节性朴素法）")
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## Next-quarter forecast and fan chart

# %%
fc, info = forecast_panel(panel, h=3, model="nbglm", levels=(80, 95), seed=1)
fc.head()

# %%
area = jw[0]
hist = panel.counts[panel.counts["area_id"] == area]
fig = fan_chart(hist, fc[fc["area_id"] == area], area_id=area, title=f"{area} 下季度预测（模拟数据）", freq="M")
plt.show()

# %% [markdown]
# ## Hierarchical reconciliation
# With reconciliation the district's and the city's series are forecast too, and the
# streets' means add up to the district's.

# %%
from riskmodel.forecast.reconcile import METHODS

print("reconciliation methods:", METHODS)
method = "mint_shrink" if "mint_shrink" in METHODS else [m for m in METHODS if m != "none"][0]
fcr, _ = forecast_panel(panel, h=3, model="ets", reconcile_method=method, seed=1)
cat = fcr[fcr["category"] == "alerts"]
streets_sum = cat[cat["area_id"].isin(jw)].groupby("period")["mean"].sum()
district = cat[cat["area_id"] == "ZH-JW"].set_index("period")["mean"]
pd.DataFrame({"sum of streets": streets_sum, "district": district}).round(1)
