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
# beside the checkout, where `riskmodel.data.load_portland()` finds them (or pass
# the folder). This notebook loads them, backtests monthly forecasts per district
# against seasonal naive, forecasts the next quarter with reconciliation, and runs
# the early-warning detector on the last year.

# %%
import matplotlib.dates as mdates
import matplotlib.pyplot as plt

from riskmodel.alerts import DETECTORS, detect
from riskmodel.data import load_portland
from riskmodel.data.portland import portland_boundaries
from riskmodel.forecast import MODELS, RECONCILERS, Forecaster
from riskmodel.maps import choropleth
from riskmodel.plotting import use_cjk_font

_ = use_cjk_font()
# show figures inline
# %matplotlib inline

# %% [markdown]
# ## Load

# %%
panel = load_portland(freq="M")
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
# ## The districts on a map
# The 60 police districts' REAL boundaries (the challenge's shapefile beside the calls;
# `portland_boundaries()` reprojects them from Oregon State Plane feet to UTM zone 10N
# metres and says so in its notes), coloured by burglary calls per month over the last
# year of data. `riskmodel.maps.choropleth` adds the north arrow, the scale bar and the
# source line; district numbers stand for their names (`D510` is district 510).

# %%
bounds = portland_boundaries()
print("\n".join(bounds.notes))
last_year = panel.counts[(panel.counts["period"] > panel.periods[-13]) & (panel.counts["category"] == "burglary")]
per_month = last_year.groupby("area_id")["count"].sum() / 12
fig = choropleth(bounds.geometries, per_month, labels={a: a.removeprefix("D") for a in bounds.ids}, lang="zh",
                 title=f"波特兰各警察分区每月入室盗窃报警数（{panel.periods[-12]:%Y-%m}至{panel.periods[-1]:%Y-%m}，真实数据）",
                 legend_title="每月报警数", source="NIJ Real-Time Crime Forecasting Challenge；Portland Police Bureau",
                 label_size=5.5)
plt.show()

# %% [markdown]
# ## Backtest per district
# Four rolling windows of 3 months at the end of the data. Counts per district and
# month are small (a few to a few dozen), the hard case for forecasting.

# %%
cv = Forecaster(models=["nbglm"], seed=1).cross_validation(panel, h=3, n_windows=4, level=[80, 95])
print(cv.summary())

# %%
mt = cv.metrics
ps = mt[(mt["level"] == "district") & (mt["area_id"] != "ALL")].pivot_table(
    index=["area_id", "category"], columns="model", values="mase")
fig, ax = plt.subplots(figsize=(6, 4))
ax.hist((ps["nbglm"] / ps["snaive"]).clip(upper=3), bins=30)
ax.axvline(1, color="k", lw=0.8)
ax.set_xlabel(f"MASE 比值（{MODELS.label('nbglm', 'zh')} / {MODELS.label('snaive', 'zh')}）")
ax.set_ylabel("序列数")
ax.set_title("各警区回测：小于1表示优于季节性朴素法")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Next quarter, reconciled (districts add up to precincts and the city)

# %%
method = "mint_shrink"
print(method, "=", RECONCILERS.label(method, "en"))
fc = Forecaster(models=["nbglm"], seed=1, reconcile=method).forecast(panel, h=3, level=[80, 95])
city_id = panel.hierarchy.areas_at("city")[0]
f = fc.to_frame()
f[f["area_id"] == city_id].round({"mean": 1})

# %%
hist = panel.aggregate("city").counts
ci = {lv: fc.conf_int(lv).query("area_id == @city_id") for lv in (95, 80)}
zh = {"burglary": "入室盗窃", "vehicle_theft": "机动车盗窃"}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
for ax, cat in zip(axes, ["burglary", "vehicle_theft"], strict=True):
    h_ = hist[hist["category"] == cat].sort_values("period").tail(36)
    m = f[(f["area_id"] == city_id) & (f["category"] == cat)]
    ax.plot(h_["period"], h_["count"], color="black", lw=1, label="观测值")
    for lv, alpha in [(95, 0.18), (80, 0.35)]:
        c = ci[lv][ci[lv]["category"] == cat]
        ax.fill_between(c["period"], c["lo"], c["hi"], color="tab:blue", alpha=alpha, lw=0, label=f"{lv}% 区间")
    ax.plot([h_["period"].iloc[-1], *m["period"]], [h_["count"].iloc[-1], *m["mean"]], color="tab:blue", lw=1.5,
            label="预测均值")
    ax.set_title(zh[cat], fontsize=10)
    ax.set_ylim(bottom=0)
    loc = mdates.AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
axes[0].set_ylabel("报警数 / 月")
axes[0].legend(fontsize=7, loc="lower left")
fig.suptitle("波特兰全市下季度预测（协调后，真实数据）")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Early warning on the last year (Farrington, monthly, per district)
# The data start in March 2012, so the default five years of reference values
# leave only the last month evaluable; four years (`b=4`) evaluate most of the
# last twelve months.

# %%
det = detect(panel, "farrington-noufaily", start=str(panel.periods[-12].date()), b=4)
print(det.summary())
tab = det.to_frame()
evaluable = tab["expected"].notna()
print(int(evaluable.sum()), "evaluable district-months of", len(tab), "; alarms:", int(tab["alarm"].sum()))
tab[evaluable].groupby(["category", "period"])["alarm"].mean().unstack("category").round(2)

# %% [markdown]
# Alarms fire in a quarter to a half of the districts every month for vehicle theft
# (and 3-22% for burglary), far above a nominal false-alarm rate: vehicle-theft calls
# rose city-wide through 2016-17 (about 210 a month in September 2016, 250-290 from
# October), a sustained rise rather than local outbreaks. Farrington's baseline is
# the same season in past years, so it flags the trend; for outbreak detection on
# these data a detector with a recent-level baseline (the registry's `forecast`
# detector, `riskmodel.alerts.DEFAULT_METHOD`) or a city-wide adjustment would be
# the next step.

# %%
al = tab[tab["alarm"].astype(bool)]
fig, ax = plt.subplots(figsize=(8, 3))
per_month = al.groupby(["period", "category"]).size().unstack("category", fill_value=0)
per_month.index = [f"{p:%Y-%m}" for p in per_month.index]
per_month.plot(kind="bar", ax=ax, rot=45)
ax.set_ylabel("预警警区数")
ax.set_title(f"波特兰：每月发出预警的警区数（{DETECTORS.label(det.method, 'zh')}）")
fig.tight_layout()
plt.show()
