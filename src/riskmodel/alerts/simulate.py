"""Outbreak simulation after Noufaily et al. (2013), for evaluating detectors.

Baseline counts per week ``t = 1..n``:

    mu_t = exp(theta + beta t + sum_{j=1}^{m} [gamma1 cos(2 pi j t / 52) + gamma2 sin(2 pi j t / 52)])
    Y_t ~ negative binomial with mean mu_t and variance phi * mu_t (Poisson when phi = 1)

Outbreaks: ``n_past`` outbreaks start at uniformly drawn weeks of the
baseline years and one in the evaluation weeks (the last ``n_eval``). An
outbreak starting in week ``s`` has ``Poisson(k * sd_s)`` cases, ``sd_s =
sqrt(phi * mu_s)`` the baseline standard deviation at its start, with ``k``
drawn from ``past_k`` (past outbreaks) or ``current_k`` (the current one);
each case falls ``d`` weeks after the start, ``d`` drawn from a lognormal
distribution (log-mean 0, log-sd 0.5) discretised to whole weeks 0..19
(``P(d) = P(d < X <= d+1) / P(X <= 20)``, as R's
``surveillance:::lognormDiscrete``).

Note: R's ``sts_creation`` differs from the paper in the outbreak size (it
uses ``k * mu (1 + mu/size)``, a variance, at the *last* simulated week);
we follow the paper.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from riskmodel.errors import InputError, Problem


@dataclass(frozen=True)
class Scenario:
    """One baseline scenario (Noufaily et al. 2013's parametrisation)."""

    name: str
    theta: float
    beta: float = 0.0
    gamma1: float = 0.0
    gamma2: float = 0.0
    m: int = 0
    phi: float = 1.0

    def mean(self, t: np.ndarray) -> np.ndarray:
        """Baseline mean at weeks ``t`` (1-based)."""
        t = np.asarray(t, dtype=float)
        season = np.zeros_like(t)
        for j in range(1, self.m + 1):
            season += self.gamma1 * np.cos(2 * np.pi * j * t / 52) + self.gamma2 * np.sin(2 * np.pi * j * t / 52)
        return np.exp(self.theta + self.beta * t + season)


#: A grid in the spirit of Noufaily et al. (2013, Table 1): rare to frequent
#: counts, with and without trend, no/annual/biannual seasonality, Poisson to
#: strongly overdispersed. (Not the paper's exact table.)
SCENARIOS: tuple[Scenario, ...] = (
    Scenario("rare-flat", theta=0.3, phi=1.5),
    Scenario("rare-seasonal", theta=0.5, gamma1=0.6, gamma2=0.6, m=1, phi=2.0),
    Scenario("mid-seasonal", theta=2.0, gamma1=0.4, gamma2=0.5, m=1, phi=1.5),
    Scenario("mid-trend-biannual", theta=1.8, beta=0.001, gamma1=0.3, gamma2=0.3, m=2, phi=3.0),
    Scenario("frequent-seasonal", theta=3.5, gamma1=0.3, gamma2=0.4, m=1, phi=2.0),
    Scenario("frequent-overdispersed", theta=3.5, beta=0.0005, gamma1=0.5, gamma2=0.2, m=2, phi=5.0),
    Scenario("poisson-seasonal", theta=1.0, gamma1=0.5, gamma2=0.3, m=1, phi=1.0),
)


def lognormal_spread(dmax: int = 20, logmu: float = 0.0, sigma: float = 0.5) -> np.ndarray:
    """Probabilities of a case falling 0..dmax-1 weeks after the outbreak start."""
    F = stats.lognorm.cdf(np.arange(dmax + 1), s=sigma, scale=np.exp(logmu))
    return np.diff(F) / stats.lognorm.cdf(dmax, s=sigma, scale=np.exp(logmu))


def draw_baseline(mu: np.ndarray, phi: float, rng: np.random.Generator) -> np.ndarray:
    """Counts with mean ``mu`` and variance ``phi * mu`` (NB with size mu/(phi-1); Poisson if phi = 1)."""
    if phi < 1:
        raise InputError(Problem(f"phi must be >= 1 (got {phi})"))
    if phi == 1:
        return rng.poisson(mu)
    return rng.negative_binomial(mu / (phi - 1.0), 1.0 / phi)


@dataclass
class SimulatedSet:
    """Simulated series (one column per replicate).

    Attributes
    ----------
    y : ndarray (T, R) int
        Observed counts (baseline + outbreak cases).
    baseline : ndarray (T, R) int
    mu : ndarray (T, R)
        Baseline means.
    outbreak : ndarray (T, R) int
        Outbreak cases of all outbreaks.
    current : ndarray (T, R) int
        Cases of the current (evaluation-period) outbreak.
    scenario : ndarray (R,) of str
    k_current : ndarray (R,)
        Size multiplier of the current outbreak.
    n_eval : int
        Evaluation weeks (the last ``n_eval`` rows).
    periods : DatetimeIndex (T,)
        Monday week starts, for long-format output.
    """

    y: np.ndarray
    baseline: np.ndarray
    mu: np.ndarray
    outbreak: np.ndarray
    current: np.ndarray
    scenario: np.ndarray
    k_current: np.ndarray
    n_eval: int
    periods: pd.DatetimeIndex
    meta: dict[str, object] = field(default_factory=dict)

    @property
    def eval_rows(self) -> np.ndarray:
        return np.arange(self.y.shape[0] - self.n_eval, self.y.shape[0])

    def to_counts(self) -> pd.DataFrame:
        """Long counts: area_id = ``<scenario>-r<replicate>``, category 'sim'."""
        T, R = self.y.shape
        ids = [f"{s}-r{j:04d}" for j, s in enumerate(self.scenario)]
        return pd.DataFrame({
            "area_id": np.repeat(ids, T),
            "category": "sim",
            "period": np.tile(self.periods.to_numpy(), R),
            "count": self.y.T.ravel().astype("int64"),
        })


def simulate(
    scenarios: tuple[Scenario, ...] | list[Scenario] = SCENARIOS,
    n_reps: int = 100,
    *,
    n_weeks: int = 624,
    n_eval: int = 49,
    n_past: int = 4,
    past_k: tuple[float, ...] = (2, 3, 5, 10),
    current_k: tuple[float, ...] = tuple(range(1, 11)),
    seed: int = 0,
    start: str = "2000-01-03",
) -> SimulatedSet:
    """Simulate ``n_reps`` series per scenario (columns grouped by scenario).

    Parameters
    ----------
    n_weeks : int
        Length of each series (624 = 12 years of 52 weeks, as Noufaily).
    n_eval : int
        The last ``n_eval`` weeks are the evaluation ("current") period, with
        exactly one outbreak starting in it.
    n_past : int
        Outbreaks in the earlier weeks (they contaminate the baselines).
    past_k, current_k : tuple of float
        Size multipliers (outbreak cases ~ Poisson(k * baseline sd)).
    seed : int
        Same seed -> same output.
    """
    if n_eval >= n_weeks:
        raise InputError(Problem(f"n_eval ({n_eval}) must be below n_weeks ({n_weeks})"))
    rng = np.random.default_rng(seed)
    t = np.arange(1, n_weeks + 1)
    spread = lognormal_spread()
    R = len(scenarios) * n_reps
    y = np.zeros((n_weeks, R), dtype=np.int64)
    base = np.zeros_like(y)
    mu = np.zeros((n_weeks, R))
    out = np.zeros_like(y)
    cur = np.zeros_like(y)
    scen = np.empty(R, dtype=object)
    kcur = np.zeros(R)
    col = 0
    for sc in scenarios:
        m = sc.mean(t)
        sd = np.sqrt(sc.phi * m)
        for _ in range(n_reps):
            b = draw_baseline(m, sc.phi, rng)
            o = np.zeros(n_weeks, dtype=np.int64)
            c = np.zeros(n_weeks, dtype=np.int64)
            starts = rng.integers(0, n_weeks - n_eval, size=n_past)
            ks = rng.choice(past_k, size=n_past)
            for s0, k in zip(starts, ks, strict=True):
                o += _outbreak(s0, k * sd[s0], spread, n_weeks, rng)
            s0 = int(rng.integers(n_weeks - n_eval, n_weeks))
            k = float(rng.choice(current_k))
            c = _outbreak(s0, k * sd[s0], spread, n_weeks, rng)
            o += c
            y[:, col], base[:, col], mu[:, col], out[:, col], cur[:, col] = b + o, b, m, o, c
            scen[col], kcur[col] = sc.name, k
            col += 1
    periods = pd.date_range(start, periods=n_weeks, freq="W-MON")
    return SimulatedSet(
        y=y, baseline=base, mu=mu, outbreak=out, current=cur, scenario=scen, k_current=kcur,
        n_eval=n_eval, periods=periods, meta={"seed": seed, "n_reps": n_reps},
    )


def _outbreak(s0: int, mean_cases: float, spread: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Cases of one outbreak starting at row ``s0``, spread by ``spread``."""
    n_cases = int(rng.poisson(mean_cases))
    o = np.zeros(n, dtype=np.int64)
    if n_cases == 0:
        return o
    per = rng.multinomial(n_cases, spread)
    end = min(n, s0 + len(spread))
    o[s0:end] = per[: end - s0]
    return o
