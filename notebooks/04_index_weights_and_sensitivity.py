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
# # 04 Index weights and sensitivity (平安指数)
#
# The sample city's monthly Ping'an index per street (**simulated** indicators;
# `experiments/pingan_sample.toml`): five dimensions weighted by an AHP matrix.
# How much do the street ranks depend on those weights? Interactive sliders for the
# five dimension weights show the ranks change live; for a printed page, the same
# question as a table and a chart of ranks under a few weight settings, then Monte
# Carlo rank intervals and the "what would it take" analyses.

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from riskmodel.datasets import load_sample_city
from riskmodel.index import (
    AGGREGATORS,
    NORMALISERS,
    WEIGHTS,
    analyse_sensitivity,
    build_index,
    load_config,
    swap_weights,
)
from riskmodel.maps import choropleth
from riskmodel.plotting import use_cjk_font

_ = use_cjk_font()
# show figures inline
# %matplotlib inline

# %% [markdown]
# ## Build the index
# The config is part of the repository (`experiments/pingan_sample.toml`, one folder
# up from this notebook); its methods are names in the index registries
# (`NORMALISERS`, `WEIGHTS`, `AGGREGATORS`), which also give their labels.

# %%
cfg = load_config("../experiments/pingan_sample.toml")
print({
    "normalise": NORMALISERS.label(cfg.steps.normalise.method, "zh"),
    "weights": WEIGHTS.label(cfg.weights.method, "zh"),
    "aggregate": AGGREGATORS.label(cfg.steps.aggregate.method, "zh"),
})
res = build_index(cfg)
print(res.summary())

# %% [markdown]
# ## The latest month's dimension scores
# With arithmetic aggregation the index is the weighted mean of the five dimension
# scores, so re-weighting needs no rebuild. Check that against the build first.

# %%
DIMS = ["order", "safety", "urban", "disputes", "perception"]
last = res.scores["period"].max()
sc = res.scores[res.scores["period"] == last]
dims = sc[sc["code"].isin(DIMS)].pivot(index="area_id", columns="code", values="score")[DIMS]
nominal = res.index[res.index["period"] == last].set_index("area_id")
w_ahp = res.weights.set_index("code").loc[DIMS, "effective_on_L3"].to_numpy()
w_ahp = w_ahp / w_ahp.sum()
check = dims.to_numpy() @ w_ahp
print("max |weighted mean - built index| =", float(np.abs(check - nominal.loc[dims.index, "score"]).max()))
names = dict(zip(res.units["area_id"], res.units.get("name", res.units["area_id"]), strict=False))


def ranks_for(weights) -> pd.Series:
    """Street ranks (1 = safest) for dimension weights (normalised to sum 1); ties share the best rank,
    as the config's ``ties = "min"``."""
    w = np.asarray(weights, float)
    w = w / w.sum()
    score = pd.Series(dims.to_numpy() @ w, index=dims.index)
    return score.rank(ascending=False, method="min").astype(int).rename("rank")


base_rank = ranks_for(w_ahp)
print("ranks equal the build's:", bool((base_rank == nominal.loc[base_rank.index, "rank"]).all()))
pd.Series(w_ahp, index=DIMS, name="AHP weight").round(3)

# %% [markdown]
# ## Interactive: weight sliders (ipywidgets)
# Move a slider: the table shows each street's rank under the new weights and the
# change against the AHP weights (positive = moves up). Static output below for print.

# %%
import ipywidgets as widgets
from IPython.display import display

sliders = {d: widgets.FloatSlider(value=round(float(w), 3), min=0.0, max=1.0, step=0.01, description=d)
           for d, w in zip(DIMS, w_ahp, strict=True)}
out = widgets.Output()


def show_ranks(**w: float) -> pd.DataFrame:
    if sum(w.values()) <= 0:
        return pd.DataFrame()
    r = ranks_for([w[d] for d in DIMS])
    tab = pd.DataFrame({"name": [names.get(a, a) for a in r.index], "rank": r,
                        "AHP rank": base_rank, "change": base_rank - r}).sort_values("rank")
    return tab


def on_change(_=None) -> None:
    with out:
        out.clear_output(wait=True)
        display(show_ranks(**{d: s.value for d, s in sliders.items()}).head(25))


for s in sliders.values():
    s.observe(on_change, names="value")
on_change()
display(widgets.VBox([widgets.HBox(list(sliders.values())[:3]), widgets.HBox(list(sliders.values())[3:]), out]))

# %% [markdown]
# ## Static equivalent: ranks under a few weight settings

# %%
settings = {
    "AHP（委员会）": w_ahp,
    "等权": np.ones(5),
    "治安优先": np.array([0.5, 0.2, 0.1, 0.1, 0.1]),
    "群众感受优先": np.array([0.15, 0.15, 0.1, 0.1, 0.5]),
    "城市管理优先": np.array([0.15, 0.15, 0.5, 0.1, 0.1]),
}
rank_tab = pd.DataFrame({k: ranks_for(v) for k, v in settings.items()})
rank_tab.insert(0, "name", [names.get(a, a) for a in rank_tab.index])
rank_tab = rank_tab.sort_values("AHP（委员会）")
rank_tab["range"] = rank_tab[list(settings)].max(axis=1) - rank_tab[list(settings)].min(axis=1)
rank_tab

# %%
fig, ax = plt.subplots(figsize=(8, 6.5))
xs = np.arange(len(settings))
for _, row in rank_tab.iterrows():
    ys = row[list(settings)].to_numpy(float)
    ax.plot(xs, ys, marker="o", lw=1.2 if row["range"] >= 5 else 0.6,
            alpha=1.0 if row["range"] >= 5 else 0.4)
    ax.text(xs[-1] + 0.08, ys[-1], f"{row['name']}", fontsize=7, va="center")
ax.set_xticks(xs, list(settings), fontsize=8)
ax.invert_yaxis()
ax.set_ylabel("排名（1 = 最平安）")
ax.set_title(f"{pd.Timestamp(last):%Y年%m月} 各街镇平安指数排名：不同维度权重下（模拟数据）")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## The grades on a map
# The latest month's grades (the config's `[ranks] grades`: thresholds on the index
# score) per street. The boundaries are the sample city's (`load_sample_city().boundaries`:
# **simulated** shapes around each street's approximate location, in metres, UTM zone
# 49N). The colours are Okabe and Ito's colour-blind-safe palette, blue for the safest
# grade to vermilion for the least safe; streets too small for their names are numbered
# in a key beside the legend.

# %%
bounds = load_sample_city(freq="M").boundaries
grades = list(cfg.ranks.grades.labels)
fig = choropleth(bounds.geometries, nominal["grade"], kind="categorical", categories=grades,
                 colours=dict(zip(grades, ["#0072B2", "#56B4E9", "#F0E442", "#E69F00", "#D55E00"], strict=False)),
                 labels=names, lang="zh", title=f"{pd.Timestamp(last):%Y年%m月} 平安指数等级（模拟数据）",
                 legend_title="等级", source="示例城市指标（模拟数据）", simulated=bounds.simulated)
plt.show()
nominal["grade"].value_counts().reindex(grades, fill_value=0)

# %% [markdown]
# ## Monte Carlo rank intervals
# `analyse_sensitivity` reuses the build: weights perturbed by +-25%, three
# normalisations and two aggregations (the config's `[sensitivity]`), 200
# replications here; it also computes Sobol' indices (which choice moves the ranks
# most) and the remove-one table. Its `summary()` is text, `conf_int(level)` the
# rank intervals, `figure` the rank-interval chart.

# %%
rep = analyse_sensitivity(res, n=200, seed=1, remove_levels=(2,), title="平安指数排名区间（模拟数据）")
print(rep.summary())
plt.show()

# %%
ci = rep.conf_int(90)
ci.assign(width=ci["upper"] - ci["lower"]).sort_values("width", ascending=False).head(8)

# %% [markdown]
# ## What would it take?
# Removing one dimension at a time (how far each street's rank moves), and the
# weight change that would swap two neighbouring streets.

# %%
ro = rep.remove_one.assign(name=lambda d: d["area_id"].map(names))
ro.groupby("removed").agg(
    largest_move=("rank_change", lambda x: int(x.abs().max())),
    mean_abs_shift=("mean_abs_shift", "first"),
).sort_values("mean_abs_shift", ascending=False)

# %%
ro.sort_values("rank_change", key=abs, ascending=False).head(10)

# %%
order = base_rank.sort_values()
a, b = order.index[0], order.index[1]
sw = swap_weights(res, a, b, level=2)
print(names.get(a, a), a, "vs", names.get(b, b), b)
print(sw.summary())
