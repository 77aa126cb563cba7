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
# # 01 Data and features
#
# The sample city (**simulated**, modelled on Zhuhai) as an `IncidentPanel`: the
# hierarchy, aggregation to districts and the city, rates per 10,000 residents, and
# the feature builders that the forecasting models use. Every data-derived feature
# for period *t* uses counts up to *t-1* only.
#
# `riskmodel.datasets.load_sample_city()` gives the city: its monthly and weekly
# counts are installed with the package (the daily counts are generated on first
# use into a cache folder outside the repository).

# %%
import matplotlib.pyplot as plt
import pandas as pd

from riskmodel.datasets import load_sample_city
from riskmodel.plotting import use_cjk_font

_ = use_cjk_font()
# show figures inline
# %matplotlib inline

# %% [markdown]
# ## The panel
# Monthly counts per street (25 streets, 9 categories, 2014-2021).

# %%
city = load_sample_city(freq="M")
panel = city.panel
print(panel)
print(panel.freq, len(panel.series_ids), "series,", len(panel.periods), "periods")
panel.counts.head()

# %% [markdown]
# The nine categories, with their Chinese names (`city.category_names("zh")`):

# %%
cat_zh = city.category_names("zh")
cat_zh

# %%
h = panel.hierarchy
print({lv: len(h.areas_at(lv)) for lv in h.levels})
areas = panel.areas
names = dict(zip(areas["area_id"], areas["name"], strict=True))
areas[areas["level"] != "grid"].head(8)

# %% [markdown]
# ## Aggregation: districts and the city
# The street counts summed to the city. The city's reported figure for alerts, 2018
# against 2014, is -46.0% (claim C4 in `city.claims`); the counts give -44.9%.

# %%
city_counts = panel.aggregate("city").counts
yearly = (
    city_counts.assign(year=city_counts["period"].dt.year)
    .groupby(["category", "year"])["count"].sum()
    .unstack("year")
)
change = (yearly[2018] / yearly[2014] - 1).rename("2018 vs 2014")
pd.DataFrame({"name": change.index.map(cat_zh), "2018 vs 2014": change.round(3)})

# %%
dist = panel.aggregate("district").counts
alerts = dist[dist["category"] == "alerts"].pivot(index="period", columns="area_id", values="count")
fig, ax = plt.subplots(figsize=(8, 3.5))
for col in alerts.columns:
    ax.plot(alerts.index, alerts[col], label=names.get(col, col), lw=1)
ax.set_title("各区违法犯罪警情（月）— 模拟数据")
ax.set_ylabel("警情数 / 月")
ax.legend(ncol=3, fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## Rates per 10,000 residents
# Streets differ in size by a factor of ten; rates make them comparable.

# %%
rates = panel.select(categories=["alerts"], start="2019-01-01", end="2019-12-31").rates(per=10000)
rate_col = [c for c in rates.columns if c.startswith("rate")][0]
per_street = rates.groupby("area_id")[rate_col].sum().sort_values()
fig, ax = plt.subplots(figsize=(8, 4))
ax.barh([names.get(a, a) for a in per_street.index], per_street.to_numpy())
ax.set_title("2019年每万人违法犯罪警情（各街镇）")
ax.set_xlabel("每万人警情数")
fig.tight_layout()

# %% [markdown]
# ## Features
# The default transformers on a small subset (Xiangwan and three other Xiangzhou streets, two
# categories): lags, rolling means, year-on-year change, trend and Fourier
# seasonality, holidays, neighbour means and the category mix.

# %%
from riskmodel.features import FeatureBuilder

streets = sorted(h.areas_at("area"))
xz = [a for a in streets if a.startswith("ZH-XZ") and a != "ZH-XZ-XW"][:3]
sub = panel.select(areas=["ZH-XZ-XW", *xz],
                   categories=["alerts", "traffic_accidents"])
fb = FeatureBuilder().fit(sub)
X = fb.transform(sub)
print(X.shape)
X.columns.tolist()

# %%
X[X["area_id"] == "ZH-XZ-XW"].tail(3).T

# %% [markdown]
# ### No leakage
# A lag-1 feature at *t* equals the count at *t-1*: check it on one series.

# %%
one = X[(X["area_id"] == "ZH-XZ-XW") & (X["category"] == "alerts")].sort_values("period")
lag_col = [c for c in X.columns if "lag" in c and c.endswith("1")][0]
assert len(one) == len(sub.periods)
ok = (one[lag_col].iloc[1:].to_numpy() == one["count"].iloc[:-1].to_numpy()).all()
print(lag_col, "equals the previous count:", bool(ok))

# %%
fig, ax = plt.subplots(figsize=(8, 3))
ax.plot(one["period"], one["count"], label="警情数", lw=1)
roll = [c for c in X.columns if c.startswith("roll") and "12" in c]
if roll:
    ax.plot(one["period"], one[roll[0]], label=roll[0], lw=1.5)
ax.set_title("香湾街道违法犯罪警情与12个月滚动均值")
ax.legend()
fig.tight_layout()
