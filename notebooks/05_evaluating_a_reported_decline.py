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
# # 05 Evaluating a reported decline: Xiangwan's "-35.4%"
#
# A 2021 article reports that the incident rate (发案率) of 香湾街道 Xiangwan fell
# 35.4% in 2020 against 2019 after a programme of HD cameras, door access and bicycle
# patrols (from July 2019). In the sample city (**simulated**) the claim is built in
# with a known truth (`city.truth["claim_truth"]`): the year-on-year figure is
# reproduced, but part of it is the city-wide trend and the 2020 pandemic shock.
# Which part is the programme's? We evaluate the claim with every method of
# `riskmodel.impact` and compare the estimates with the truth.

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from riskmodel.datasets import load_sample_city
from riskmodel.impact import METHODS, evaluate, observed_change, rate_ratio, read_claims
from riskmodel.plotting import use_cjk_font

_ = use_cjk_font()
# show figures inline
# %matplotlib inline
pd.set_option("display.width", 160)

# %% [markdown]
# ## The claim and the data

# %%
city = load_sample_city(freq="M")
claims = read_claims(city.claims)
claim = next(c for c in claims if c.claim_id == "C1")
print(claim.area_id, claim.category, claim.period_label, "reported:", claim.reported_change)
panel = city.panel
obs = observed_change(panel, claim)
obs

# %%
xw = panel.select(areas=["ZH-XZ-XW"], categories=["alerts"]).counts.set_index("period")["count"]
city_alerts = panel.aggregate("city").select(categories=["alerts"]).counts.set_index("period")["count"]
fig, ax = plt.subplots(figsize=(9, 3.5))
ax.plot(xw.index, xw / xw["2018"].mean(), label="香湾街道", lw=1.2)
ax.plot(city_alerts.index, city_alerts / city_alerts["2018"].mean(), label="全市", lw=1.2)
ax.axvline(pd.Timestamp("2019-07-01"), color="k", ls="--", lw=0.8)
ax.text(pd.Timestamp("2019-07-15"), 1.35, "项目开始", fontsize=8)
ax.axvspan(pd.Timestamp("2020-01-01"), pd.Timestamp("2020-12-31"), color="grey", alpha=0.15)
ax.set_title("违法犯罪警情（相对2018年月均）：香湾街道与全市（模拟数据）")
ax.set_ylabel("相对2018年月均")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# The street fell, but so did the whole city in 2020. A two-period rate ratio only
# restates the year-on-year change (with an interval for the noise):

# %%
rr = rate_ratio(xw["2019"].to_numpy(), xw["2020"].to_numpy())
print("Xiangwan:", rr.summary())
rr_city = rate_ratio(city_alerts["2019"].to_numpy(), city_alerts["2020"].to_numpy())
print("city:    ", rr_city.summary())

# %% [markdown]
# ## Every method
# The methods are registered in `riskmodel.impact.METHODS`, each with a kind: a
# *change* (before against after, no counterfactual), an *effect* (against a
# counterfactual: interrupted time series with the comparison areas' rate, a
# structural counterfactual in the CausalImpact design, ratio of ratios, difference
# in differences, synthetic control) or a *check* (a placebo intervention a year
# earlier, regression to the mean).

# %%
kinds = pd.DataFrame({"zh": METHODS.labels("zh"), "en": METHODS.labels("en"),
                      "kind": {m: METHODS[m].extra.get("kind") for m in METHODS.names()}})
kinds

# %% [markdown]
# `evaluate` runs every method (one that cannot run for this claim says why) and
# returns an `Evaluation`: `summary()` is the text, with the verdict in Chinese and
# English; `to_frame()` the effects table; `conf_int(level)` the intervals.
# (`structural_full` runs only with `EvaluationOptions(full_sample=True)`.)

# %%
ev = evaluate(panel, claim.area_id, claim.category, intervention="2019-07-01",
              comparison=(claim.comparison_start, claim.comparison_end),
              baseline=(claim.baseline_start, claim.baseline_end), claim=claim)
print(ev.summary())

# %%
eff = ev.to_frame()
eff[[c for c in eff.columns if c != "note"]].round(3)

# %% [markdown]
# ## Against the truth
# `true_programme_effect`: the programme's own effect on 2020 (with against without);
# `expected_change`: what the naive year-on-year figure should be up to noise.

# %%
truth = city.truth["claim_truth"].set_index("claim_id").loc["C1"]
truth

# %%
ci = ev.conf_int(95)
# the checks are not estimates of the effect
est = ci[ci["estimate"].notna() & ci["lo"].notna() & (ci["method"].map(kinds["kind"]) != "check")]
est = est.rename(columns={"lo": "lo95", "hi": "hi95"}).reset_index(drop=True)
fig, ax = plt.subplots(figsize=(8, 4))
y = np.arange(len(est))
ax.errorbar(est["estimate"], y, xerr=[est["estimate"] - est["lo95"], est["hi95"] - est["estimate"]],
            fmt="o", capsize=3)
ax.axvline(truth["true_programme_effect"], color="green", ls="--", label="真实项目效果")
ax.axvline(claim.reported_change, color="red", ls=":", label="报告值 -35.4%")
ax.axvline(truth["true_citywide_effect"], color="grey", ls="-.", label="全市共同变化")
ax.set_yticks(y, est["method"].map(kinds["zh"]))
ax.set_xlabel("相对变化（95%区间）")
ax.set_title("香湾街道警情下降：各方法估计与真实值（模拟数据）")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %%
est["covers_truth"] = (est["lo95"] <= truth["true_programme_effect"]) & (truth["true_programme_effect"] <= est["hi95"])
est[["method", "estimate", "lo95", "hi95", "covers_truth"]].round(3)

# %% [markdown]
# The observed and two-period figures (about -38%) contain the city-wide fall; the
# methods that build a counterfactual (ITS, structural, ratio of ratios, DiD,
# synthetic control) give a smaller programme effect, and their intervals cover the
# true -28.9%. The placebo check (a fake start a year earlier) finds no effect.
#
# ## Observed against the counterfactual

# %%
fig = ev.chart("zh")
plt.show()
