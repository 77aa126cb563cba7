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
#
# Everything goes through `riskmodel.forecast.Forecaster` (shaped like
# statsforecast's): `forecast(panel, h, level)` and `cross_validation(panel, h,
# n_windows)` return result objects with `summary()` (text), `to_frame()` and
# `conf_int(level)`.

# %%
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd

from riskmodel.datasets import load_sample_city
from riskmodel.forecast import MODELS, RECONCILERS, Forecaster
from riskmodel.plotting import use_cjk_font

_ = use_cjk_font()
# show figures inline
# %matplotlib inline

# %% [markdown]
# ## The models
# Every model is registered by name in `MODELS` (with its Chinese and English label);
# the same names are the command line's `--model` choices.

# %%
pd.DataFrame({"zh": MODELS.labels("zh"), "en": MODELS.labels("en")})

# %% [markdown]
# ## A subset: the Jinwan district's streets, three categories

# %%
city = load_sample_city(freq="M")
full = city.panel
jw = [a for a in full.hierarchy.areas_at("area") if full.hierarchy.ancestor_at(a, "district") == "ZH-JW"]
panel = full.select(areas=jw, categories=["alerts", "traffic_accidents", "fires"])
names = dict(zip(full.areas["area_id"], full.areas["name"], strict=True))
cat_zh = city.category_names("zh")
print(jw, len(panel.series_ids), "series")

# %% [markdown]
# ## Rolling-origin backtest
# Three windows of 3 months at the end of 2021; each model is compared with seasonal
# naive, which `cross_validation` always adds (`rel_mase` < 1 means better than
# seasonal naive).

# %%
cv = Forecaster(models=["ets", "nbglm"], seed=1).cross_validation(panel, h=3, n_windows=3, level=[80, 95])
print(cv.summary())

# %%
mt = cv.metrics
per_series = mt[(mt["level"] == "area") & (mt["area_id"] != "ALL")].pivot_table(index=["area_id", "category"], columns="model", values="mase")
per_series.round(2)

# %%
fig, ax = plt.subplots(figsize=(6, 4))
for m in ["ets", "nbglm"]:
    ax.scatter(per_series["snaive"], per_series[m], label=MODELS.label(m, "zh"), s=20)
lim = [0, float(per_series.max().max()) * 1.05]
ax.plot(lim, lim, color="grey", lw=0.8)
ax.set_xlabel("季节性朴素法 MASE")
ax.set_ylabel("模型 MASE")
ax.set_title("回测：各序列 MASE（对角线以下优于季节性朴素法）")
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## Next-quarter forecast and fan chart
# `to_frame()` has the mean and the interval bounds per series and month;
# `conf_int(level)` gives one level's interval in long form.

# %%
fc = Forecaster(models=["nbglm"], seed=1).forecast(panel, h=3, level=[80, 95])
print(fc.summary())
fc.to_frame().head()

# %%
area = jw[0]
hist = panel.counts[panel.counts["area_id"] == area]
mean = fc.to_frame().query("area_id == @area")
ci = {lv: fc.conf_int(lv).query("area_id == @area") for lv in (95, 80)}
cats = sorted(mean["category"].unique())
fig, axes = plt.subplots(1, len(cats), figsize=(4.2 * len(cats), 3))
for ax, cat in zip(axes, cats, strict=True):
    h_ = hist[hist["category"] == cat].sort_values("period").tail(36)
    ax.plot(h_["period"], h_["count"], color="black", lw=1, label="观测值")
    for lv, alpha in [(95, 0.18), (80, 0.35)]:
        c = ci[lv][ci[lv]["category"] == cat]
        ax.fill_between(c["period"], c["lo"], c["hi"], color="tab:blue", alpha=alpha, lw=0, label=f"{lv}% 区间")
    m = pd.concat([h_[["period", "count"]].tail(1).rename(columns={"count": "mean"}),
                   mean.loc[mean["category"] == cat, ["period", "mean"]]])
    ax.plot(m["period"], m["mean"], color="tab:blue", lw=1.5, label="预测均值")
    ax.set_title(cat_zh.get(cat, cat), fontsize=10)
    ax.set_ylim(bottom=0)
    loc = mdates.AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
    ax.tick_params(labelsize=7)
axes[0].set_ylabel("件数 / 月")
axes[0].legend(fontsize=7, loc="upper left")
fig.suptitle(f"{names.get(area, area)}（{area}）下季度预测（模拟数据）")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Hierarchical reconciliation
# The reconciliation methods are registered in `RECONCILERS`. With one that needs
# the hierarchy, the district's and the city's series are forecast too, and the
# streets' means add up to the district's.

# %%
print({m: RECONCILERS.label(m, "zh") for m in RECONCILERS.names()})
fcr = Forecaster(models=["ets"], seed=1, reconcile="mint_shrink").forecast(panel, h=3, level=[80, 95])
print(fcr.summary())
cat = fcr.to_frame()
cat = cat[cat["category"] == "alerts"]
streets_sum = cat[cat["area_id"].isin(jw)].groupby("period")["mean"].sum()
district = cat[cat["area_id"] == "ZH-JW"].set_index("period")["mean"]
pd.DataFrame({"sum of streets": streets_sum, "district": district}).round(1)
