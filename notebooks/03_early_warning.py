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
# 40 outbreak-like spikes injected at known places and times (`city.truth["spikes"]`).
# We run Farrington (Noufaily's improved version) and the negative-binomial GLR chart
# on the series that carry spikes in 2019-2021, score them against the known truth
# (probability of detection, false alarms, delay), merge alarms into episodes and
# plot one.

# %%
import matplotlib.pyplot as plt
import pandas as pd

from riskmodel.alerts import DEFAULT_METHOD, DETECTORS, detect, evaluate_spikes
from riskmodel.datasets import load_sample_city
from riskmodel.maps import choropleth
from riskmodel.plotting import use_cjk_font

_ = use_cjk_font()
# show figures inline
# %matplotlib inline

# %% [markdown]
# ## The detectors
# Every detector is registered by name in `DETECTORS`, with its labels and the
# frequencies it takes (Farrington compares a week with the same weeks of past years;
# EARS is for daily counts). `riskmodel detect` and the study configs offer the same
# names; `DEFAULT_METHOD` is the one used when none is named.

# %%
print("default:", DEFAULT_METHOD)
pd.DataFrame({
    "zh": DETECTORS.labels("zh"),
    "en": DETECTORS.labels("en"),
    "freqs": {n: ", ".join(DETECTORS[n].needs.freqs) for n in DETECTORS.names()},
})

# %% [markdown]
# ## The spiked series, weekly

# %%
city = load_sample_city(freq="W")
names = dict(zip(city.panel.areas["area_id"], city.panel.areas["name"], strict=True))
cat_zh = city.category_names("zh")
spikes = city.truth["spikes"].assign(start=lambda d: pd.to_datetime(d["start"]))
recent = spikes[spikes["start"] >= "2019-03-01"]
keys = sorted(set(zip(recent["area_id"], recent["category"], strict=True)))
panel = city.panel.select(areas=sorted({a for a, _ in keys}), categories=sorted({c for _, c in keys}))
print(len(spikes), "spikes in all;", len(recent), "from 2019-03 in", len(keys), "series; panel has",
      len(panel.series_ids), "series")
recent.head()

# %% [markdown]
# ## Detect and score against the truth
# Monitoring 2019-03 to 2021-12. `detect` returns a `Detection`: `summary()` says
# what was monitored, how much could be evaluated and why not, and the alarms.
# A spike counts as detected when a week it touches has an alarm; every other week
# of these series is a quiet week (false-alarm rate).

# %%
results = {}
scores = []
for method in ["farrington-noufaily", "glrnb"]:
    det = detect(panel, method, start="2019-03-04", end="2021-12-27")
    results[method] = det
    print(det.summary(), end="\n\n")
    sc = evaluate_spikes(det.to_frame(), recent, "W")
    scores.append(sc[sc["category"] == "all"].assign(method=method))
pd.concat(scores).set_index("method")[["spikes", "detected", "pod", "delay", "fpr"]].round(3)

# %% [markdown]
# Farrington leaves a third of the series-weeks unevaluated: its `limit54` rule
# raises no alarm unless there were at least 5 cases in the last 4 weeks, which
# the rare categories (fires, production safety) seldom reach. Per series
# (`per_series()`), the ones with most alarms:

# %%
det = results["farrington-noufaily"]
det.per_series().sort_values("alarms", ascending=False).head(8)

# %% [markdown]
# ## Episodes: consecutive alarm weeks merged, with a severity

# %%
eps = det.episodes(max_gap=1)
print(len(eps), "episodes")
eps.sort_values("excess", ascending=False).head(8)

# %% [markdown]
# ## One spike, with the threshold

# %%
s = recent.sort_values("size_sd", ascending=False).iloc[0]
tab = det.to_frame()
one = tab[(tab["area_id"] == s["area_id"]) & (tab["category"] == s["category"])].sort_values("period")
fig, ax = plt.subplots(figsize=(9, 3.5))
ax.plot(one["period"], one["count"], lw=1, label="周计数")
ax.plot(one["period"], one["upperbound"], lw=1, ls="--", label="预警阈值")
al = one[one["alarm"].astype(bool)]
ax.scatter(al["period"], al["count"], color="red", zorder=3, s=18, label="预警")
ax.axvspan(s["start"], s["start"] + pd.Timedelta(days=int(s["days"])), color="orange", alpha=0.3,
           label="注入的异常")
ax.set_title(f"{names.get(s['area_id'], s['area_id'])} {cat_zh.get(s['category'], s['category'])}："
             f"{DETECTORS.label(det.method, 'zh')}预警（模拟数据）")
ax.legend(fontsize=8, ncol=2)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Alarms per week
# The NB GLR chart raises fewer alarms (lower false-alarm rate) and misses more
# spikes. Both fire in February and March 2020, when the 12345 hotline complaints
# surged at the start of the pandemic (the largest episodes above). From 2021
# Farrington raises more and more alarms, mostly on the alerts series: after years
# of decline the alerts rose again in 2021, above the falling trend that Farrington
# projects from the same weeks of past years.

# %%
alarms_per_week = pd.concat(
    {DETECTORS.label(m, "zh"): d.to_frame().groupby("period")["alarm"].sum() for m, d in results.items()}, axis=1
)
fig, ax = plt.subplots(figsize=(9, 3))
alarms_per_week.plot(ax=ax, lw=1)
ax.set_title("每周预警数（所选序列）")
ax.set_ylabel("预警数")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Warnings by street, on a map
# The last quarter's Farrington alarms (13 weeks to the end of monitoring) counted by
# street, every category together. The street boundaries are the sample city's
# (`city.boundaries`: **simulated**, plausible shapes around each street's approximate
# location, in metres, UTM zone 49N); only the streets with spiked series were
# monitored here, the others are hatched as not monitored. `riskmodel.maps.choropleth`
# adds the north arrow, the scale bar and the source line; streets too small for their
# names are numbered in a key beside the legend.

# %%
tab = results["farrington-noufaily"].to_frame()
end = tab["period"].max()
last_q = tab[(tab["period"] > end - pd.Timedelta(weeks=13)) & tab["alarm"].astype(bool)]
monitored = sorted({a for a, _ in keys})
per_street = last_q.groupby("area_id").size().reindex(monitored, fill_value=0)
fig = choropleth(city.boundaries.geometries, per_street, labels=names, lang="zh",
                 title=f"近13周预警数（截至{pd.Timestamp(end):%Y-%m-%d}，{DETECTORS.label('farrington-noufaily', 'zh')}）",
                 legend_title="预警数（各类别合计）", source="示例城市周计数（模拟数据）",
                 simulated=city.boundaries.simulated, no_data_label="未监测")
plt.show()
per_street.rename(index=names).sort_values(ascending=False).head()
