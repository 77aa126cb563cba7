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
# # 06 The Portland real-data study
#
# Real data: Portland (Oregon) police calls for service for burglary and motor
# vehicle theft, March 2012 to May 2017 (NIJ Real-Time Crime Forecasting
# Challenge), placed in the 60 police districts by point-in-polygon; districts nest
# in precincts. The data live outside the repository, in `shared/reference/portland`
# beside the checkout (`../shared/reference/portland` from the repo root). This
# notebook loads them, backtests monthly forecasts per district against seasonal
# naive, forecasts the next quarter with reconciliation, and runs the early-warning
# detector on the last year.

# %%
from pathlib import Path

import matplotlib.pyplot as plt
from riskmodel.plotting import use_cjk_font

from riskmodel.alerts import detect
from riskmodel.data.portland import load_portland
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
PORTLAND = ROOT.parent / "shared" / "reference" / "portland"
_ = use_cjk_font()
# show figures inline
# %matplotlib inline
print(PORTLAND, PORTLAND.exists())

# %% [markdown]
# ## Load

# %%
panel = load_portland(PORTLAND, freq="M")
print(panel.freq, len(panel.series_ids), "series,", panel.periods[0].date(), "to", panel.periods[-1].date())
print({lv: len(panel.hierarchy.areas_at(lv)) for lv in panel.hierarchy.levels})
print("calls:", panel.meta["n_events"], "outside every district:", panel.meta["n_unmatched"])

# %%
prec = panel.aggregate("precinct").counts
wide = prec.pivot_table(index="period", columns=["category", "area_id"], values="count")
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharex=True)
for ax, cat, zh in zip(axes, ["burglary", "vehicle_theft"], ["入室盗窃", "机动车盗窃"], strict=True):
    wide[cat].plot(ax=ax, lw=1)
    ax.set_title(f"波特兰各警区{zh}（月，真实数据）")
    ax.set_xlabel("")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Backtest per district
# Four rolling windows of 3 months at the end of the data. Counts per district and
# month are small (a few to a few dozen), the hard case for forecasting.

# %%
fr, mt = backtest_panel(panel, h=3, windows=4, models=("nbglm",), seed=1)
mt[mt["level"] == "overall"].set_index("model")[["mase", "rel_mase", "crps", "coverage_80", "coverage_95", "bias"]].round(3)

# %%
ps = mt[mt["area_id"] != "ALL"].pivot_table(index=["area_id", "category"], columns="model", values="mase")
fig, ax = plt.subplots(figsize=(6, 4))
ax.hist((ps["nbglm"] / ps["snaive"]).clip(upper=3), bins=30)
ax.axvline(1, color="k", lw=0.8)
ax.set_xlabel("MASE 比值（模型 / 季节性朴素法）")
ax.set_ylabel("序列数")
ax.set_title("各警区回测：小于1表示优于季节性朴素法")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Next quarter, reconciled (districts add up to precincts and the city)

# %%
fc, _ = forecast_panel(panel, h=3, model="nbglm", reconcile_method="mint_shrink", seed=1)
city_id = panel.hierarchy.areas_at("city")[0]
fc[fc["area_id"] == city_id].round({"mean": 1})

# %%
hist = panel.aggregate("city").counts
fig = fan_chart(hist, fc[fc["area_id"] == city_id], area_id=city_id, title="波特兰全市下季度预测", freq="M")
plt.show()

# %% [markdown]
# ## Early warning on the last year (Farrington, monthly, per district)
# The data start in March 2012, so the default five years of reference values
# leave only the last month evaluable; four years (`b=4`) evaluate most of the
# last twelve months.

# %%
det = detect(panel, "farrington-noufaily", start=str(panel.periods[-12].date()), b=4)
tab = det.table
evaluable = tab["expected"].notna()
print(int(evaluable.sum()), "evaluable district-months of", len(tab), "; alarms:", int(tab["alarm"].sum()))
tab[evaluable].groupby(["category", "period"])["alarm"].mean().unstack("category").round(2)

# %% [markdown]
# Alarms fire in 25-50% of districts every month for vehicle theft (and 5-20% for
# burglary), far above a nominal false-alarm rate: vehicle-theft calls rose
# city-wide through 2016-17 (about 210 a month in September 2016, 260-290 from
# October), a sustained rise rather than local outbreaks. Farrington's baseline is
# the same season in past years, so it flags the trend; for outbreak detection on
# these data a detector with a recent-level baseline (e.g. `method="forecast"`) or
# a city-wide adjustment would be the next step.

# %%
al = tab[tab["alarm"].astype(bool)]
fig, ax = plt.subplots(figsize=(8, 3))
per_month = al.groupby(["period", "category"]).size().unstack("category", fill_value=0)
per_month.index = [f"{p:%Y-%m}" for p in per_month.index]
per_month.plot(kind="bar", ax=ax, rot=45)
ax.set_ylabel("预警警区数")
ax.set_title("波特兰：每月发出预警的警区数（Farrington）")
fig.tight_layout()
plt.show()
