"""The sample city: a simulated, Zhuhai-like city with known truth.

SIMULATED DATA. The streets, towns and districts carry the real names of
Zhuhai's (珠海市) administrative areas so that the examples read naturally,
but every count is drawn from the model below; none is a real record.

The model, per street ``a``, category ``k`` and day ``t``::

    mu[a,k,t] = pop[a,t] / 1e4 * base[k] * area[a,k]          (residents, rate)
                * level[k, t]          city-wide trend, calibrated so the
                                       city's expected totals reproduce the
                                       reported city claims (BRIEF.md)
                * season[k, t]         yearly harmonic
                * weekday[k, t]        day-of-week profile; make-up workdays
                                       behave as workdays
                * holiday[k, t]        statutory holidays and the Spring
                                       Festival period (chinesecalendar)
                * covid[k, t]          city-wide 2020 shock (first pandemic
                                       year), the same for every street
                * programme[a,k,t]     the Xiangwan street programme, from
                                       2019-07-01 with a 180-day linear ramp
    y[a,k,t] ~ NegBin(mean mu, size theta[k]) + injected spikes

The Xiangwan programme multipliers are solved so that the street's expected
2020/2019 change equals the reported one (-35.4% alerts, -21.3% traffic
accidents, urban-management events 329 -> 240 a day), given the city-wide
trend and the 2020 shock: the data are built so that a naive year-on-year
comparison reproduces the report while the programme's own effect is
smaller. ``truth/claim_truth.csv`` gives, per claim, the true programme and
city-wide effects on the expected counts.

Everything is seeded: the same seed gives byte-identical files.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskmodel.data.calendar import holiday_table
from riskmodel.data.readers import write_table_atomic
from riskmodel.data.sample_boundaries import LOCAL_PLANE_CRS, boundaries_geojson
from riskmodel.io_safety import atomic_dir

DEFAULT_SEED = 20201029
START, END = "2014-01-01", "2021-12-31"
PROGRAMME_AREA = "ZH-XZ-XW"
PROGRAMME_START = pd.Timestamp("2019-07-01")
PROGRAMME_RAMP_DAYS = 180

# (district id, Chinese, English)
DISTRICTS = [
    ("ZH-XZ", "香洲区", "Xiangzhou District"),
    ("ZH-JW", "金湾区", "Jinwan District"),
    ("ZH-DM", "斗门区", "Doumen District"),
    ("ZH-WS", "万山区", "Wanshan District"),
    ("ZH-HQ", "横琴新区", "Hengqin New Area"),
]

# (id, district, Chinese, English, lon, lat, residents 2014 in thousands, annual growth)
STREETS = [
    ("ZH-XZ-GB", "ZH-XZ", "拱北街道", "Gongbei Subdistrict", 113.550, 22.222, 190, 0.012),
    ("ZH-XZ-JD", "ZH-XZ", "吉大街道", "Jida Subdistrict", 113.572, 22.243, 110, 0.010),
    ("ZH-XZ-XW", "ZH-XZ", "香湾街道", "Xiangwan Subdistrict", 113.552, 22.271, 140, 0.015),
    ("ZH-XZ-MH", "ZH-XZ", "梅华街道", "Meihua Subdistrict", 113.533, 22.268, 120, 0.015),
    ("ZH-XZ-QS", "ZH-XZ", "前山街道", "Qianshan Subdistrict", 113.522, 22.250, 150, 0.020),
    ("ZH-XZ-CX", "ZH-XZ", "翠香街道", "Cuixiang Subdistrict", 113.561, 22.258, 100, 0.012),
    ("ZH-XZ-SS", "ZH-XZ", "狮山街道", "Shishan Subdistrict", 113.542, 22.252, 90, 0.012),
    ("ZH-XZ-WZ", "ZH-XZ", "湾仔街道", "Wanzai Subdistrict", 113.531, 22.222, 40, 0.020),
    ("ZH-XZ-FS", "ZH-XZ", "凤山街道", "Fengshan Subdistrict", 113.519, 22.298, 80, 0.030),
    ("ZH-XZ-NP", "ZH-XZ", "南屏镇", "Nanping Town", 113.500, 22.232, 110, 0.035),
    ("ZH-XZ-TJ", "ZH-XZ", "唐家湾镇", "Tangjiawan Town", 113.583, 22.362, 150, 0.045),
    ("ZH-JW-SZ", "ZH-JW", "三灶镇", "Sanzao Town", 113.370, 22.040, 100, 0.040),
    ("ZH-JW-HQ", "ZH-JW", "红旗镇", "Hongqi Town", 113.350, 22.140, 90, 0.040),
    ("ZH-JW-PS", "ZH-JW", "平沙镇", "Pingsha Town", 113.180, 22.080, 60, 0.025),
    ("ZH-JW-NS", "ZH-JW", "南水镇", "Nanshui Town", 113.230, 21.980, 30, 0.030),
    ("ZH-DM-JA", "ZH-DM", "井岸镇", "Jing'an Town", 113.300, 22.210, 140, 0.025),
    ("ZH-DM-BT", "ZH-DM", "白藤街道", "Baiteng Subdistrict", 113.320, 22.240, 90, 0.030),
    ("ZH-DM-BJ", "ZH-DM", "白蕉镇", "Baijiao Town", 113.310, 22.270, 80, 0.020),
    ("ZH-DM-DM", "ZH-DM", "斗门镇", "Doumen Town", 113.200, 22.220, 40, 0.010),
    ("ZH-DM-QW", "ZH-DM", "乾务镇", "Qianwu Town", 113.210, 22.150, 50, 0.015),
    ("ZH-DM-LZ", "ZH-DM", "莲洲镇", "Lianzhou Town", 113.230, 22.360, 40, 0.005),
    ("ZH-WS-GS", "ZH-WS", "桂山镇", "Guishan Town", 113.830, 22.130, 3, 0.000),
    ("ZH-WS-WS", "ZH-WS", "万山镇", "Wanshan Town", 113.720, 21.930, 2, 0.000),
    ("ZH-WS-DG", "ZH-WS", "担杆镇", "Dangan Town", 114.300, 21.850, 1.5, 0.000),
    ("ZH-HQ-HQ", "ZH-HQ", "横琴镇", "Hengqin Town", 113.520, 22.130, 10, 0.150),
]


@dataclass(frozen=True)
class Category:
    code: str
    name_zh: str
    name_en: str
    rate: float  # expected events per 10,000 residents per day in 2014
    theta: float  # negative-binomial size (variance = mu + mu^2/theta)
    season_amp: float  # amplitude of the yearly harmonic (log scale)
    season_peak_doy: int  # day of year of the seasonal peak
    weekend: float  # multiplier on non-working days
    holiday: float  # extra multiplier on statutory holidays
    spring: float  # multiplier in the Spring Festival period
    covid: float  # 2020 average city-wide shock (multiplier at its plateau)
    area_sd: float  # sd of the log area effect
    yearly: dict[int, float]  # target city expected totals relative to 2014 (None: free)


CATEGORIES = [
    Category("alerts", "违法犯罪警情", "illegal and criminal alerts", 0.70, 12.0, 0.08, 200, 1.10, 1.05, 0.85, 0.88, 0.35,
             {2015: 0.88, 2016: 0.76, 2017: 0.64, 2018: 1 - 0.4596, 2019: (1 - 0.4596) * (1 - 0.1722)}),
    Category("criminal_cases", "刑事立案", "criminal cases filed", 0.30, 15.0, 0.06, 210, 1.05, 1.00, 0.90, 0.90, 0.35,
             {2015: 0.95, 2016: 0.90, 2017: 0.85, 2018: 0.80, 2019: 0.80 * (1 - 0.045)}),
    Category("traffic_accidents", "交通事故", "traffic accidents", 1.00, 20.0, 0.05, 30, 1.15, 0.85, 0.70, 0.90, 0.30,
             {2015: 1.03, 2016: 1.05, 2017: 1.06, 2018: 1.06, 2019: 1.05}),
    Category("fires", "火灾", "fires", 0.05, 30.0, 0.20, 20, 1.00, 1.40, 1.30, 0.95, 0.30,
             {2015: 0.75, 2016: 0.52, 2017: 0.33, 2018: 1 - 0.8298, 2019: 0.16}),
    Category("urban_management", "城市管理事件", "urban-management events", 8.0, 25.0, 0.06, 250, 0.45, 0.80, 0.80, 0.93, 0.45,
             {2015: 1.10, 2016: 1.22, 2017: 1.30, 2018: 1.35, 2019: 1.38}),
    Category("hotline_12345", "12345热线投诉", "12345 hotline complaints", 5.0, 20.0, 0.07, 200, 0.55, 0.60, 0.75, 1.12, 0.25,
             {2015: 1.15, 2016: 1.30, 2017: 1.45, 2018: 1.55, 2019: 1.62}),
    Category("disputes", "矛盾纠纷", "disputes", 0.60, 15.0, 0.05, 60, 1.10, 1.20, 1.15, 0.92, 0.30,
             {2015: 0.97, 2016: 0.94, 2017: 0.91, 2018: 0.88, 2019: 0.86}),
    Category("production_safety", "安全生产事故", "production-safety accidents", 0.012, 50.0, 0.10, 190, 0.60, 0.50, 0.50, 0.85, 0.50,
             {2015: 0.92, 2016: 0.85, 2017: 0.78, 2018: 0.72, 2019: 0.68}),
    Category("gun_cases", "涉枪案件", "gun-related cases", 0.0005, 50.0, 0.0, 1, 1.00, 1.00, 1.00, 1.00, 0.30,
             {2015: 0.90, 2016: 0.85, 2017: 0.80, 2018: 0.75, 2019: 0.75 * (1 - 0.846)}),
]
CATEGORY_BY_CODE = {c.code: c for c in CATEGORIES}

# The Xiangwan claims: category -> reported 2020/2019 ratio of expected totals
PROGRAMME_TARGETS = {
    "alerts": 1 - 0.354,
    "traffic_accidents": 1 - 0.213,
    "urban_management": 240 / 329,
}
URBAN_2019_DAILY = 329.0  # Xiangwan's urban-management events per day in 2019


def _covid_curve(days: pd.DatetimeIndex, plateau: float) -> np.ndarray:
    """The 2020 city-wide shock: a deep trough in February, then a plateau.

    Multiplier 1 before 2020-01-20; falls to ``1 - 2.5 * (1 - plateau)`` (at
    least 0.35) by mid-February; recovers to ``plateau`` by 2020-05-01, which
    holds to the end of 2020; back to 1 over 2021's first half.
    """
    t = days.to_numpy()
    knots = pd.to_datetime(["2020-01-20", "2020-02-15", "2020-05-01", "2020-12-31", "2021-06-30"]).to_numpy()
    trough = max(1 - 2.5 * (1 - plateau), 0.35)
    vals = np.log([1.0, trough, plateau, plateau, 1.0])
    x = (t - knots[0]) / np.timedelta64(1, "D")
    xk = (knots - knots[0]) / np.timedelta64(1, "D")
    return np.exp(np.interp(x, xk, vals, left=0.0, right=0.0))


def _ramp(days: pd.DatetimeIndex, start: pd.Timestamp, ramp_days: int) -> np.ndarray:
    """0 before ``start``, rising linearly to 1 over ``ramp_days``."""
    x = (days - start).days.to_numpy().astype(float)
    return np.clip(x / ramp_days, 0.0, 1.0)


def _interp_levels(days: pd.DatetimeIndex, log_levels: dict[int, float]) -> np.ndarray:
    """Daily log level, linear between mid-year knots (flat beyond the ends)."""
    years = sorted(log_levels)
    xk = np.array([(pd.Timestamp(f"{y}-07-02") - days[0]).days for y in years], dtype=float)
    x = (days - days[0]).days.to_numpy().astype(float)
    return np.interp(x, xk, [log_levels[y] for y in years])


def _neighbours(coords: np.ndarray, ids: list[str], districts: list[str]) -> list[tuple[str, str]]:
    """Delaunay neighbours of street centroids, without edges over 25 km
    (except within one district, so island towns keep their neighbours)."""
    from scipy.spatial import Delaunay

    tri = Delaunay(coords)
    pairs = set()
    for s in tri.simplices:
        for i in range(3):
            a, b = sorted((int(s[i]), int(s[(i + 1) % 3])))
            d = float(np.hypot(*(coords[a] - coords[b])))
            if d <= 25.0 or (districts[a] == districts[b] and d <= 80.0):
                pairs.add((a, b))
    return sorted((ids[a], ids[b]) for a, b in pairs)


def generate(out_dir: str | os.PathLike[str], seed: int = DEFAULT_SEED) -> dict[str, object]:
    """Generate the sample city into ``out_dir`` (written whole or not at all).

    ``boundaries.geojson`` (the streets' SIMULATED polygons) is made from :data:`STREETS`
    and the grid cells by :mod:`riskmodel.data.sample_boundaries`, without random draws,
    so the other files are the same with or without it.

    Returns a small summary dict (rows, files). See ``data/sample/README.md``
    for every file and column.
    """
    rng = np.random.default_rng(seed)
    days = pd.date_range(START, END, freq="D")
    n_t = len(days)
    cal = holiday_table(START, END)
    years = days.year.to_numpy()
    doy = days.day_of_year.to_numpy()

    # ---------------------------------------------------------------- areas
    ids = [s[0] for s in STREETS]
    n_a = len(ids)
    lat0 = 22.2
    coords_km = np.array(
        [[(s[4] - 113.5) * 111.32 * np.cos(np.radians(lat0)), (s[5] - lat0) * 110.57] for s in STREETS]
    )
    areas = [("ZH", "珠海市", "Zhuhai City", "", "city")]
    areas += [(d, zh, en, "ZH", "district") for d, zh, en in DISTRICTS]
    areas += [(s[0], s[2], s[3], s[1], "area") for s in STREETS]
    pop0 = np.array([s[6] * 1000 for s in STREETS])
    growth = np.array([s[7] for s in STREETS])
    pop_years = np.arange(2014, 2022)
    pop = pop0[:, None] * (1 + growth[:, None]) ** (pop_years[None, :] - 2014)
    pop = np.round(pop / 10) * 10
    # daily population: linear between mid-year values
    pop_daily = np.vstack([np.interp(np.arange(n_t), [(pd.Timestamp(f"{y}-07-02") - days[0]).days for y in pop_years], p) for p in pop])

    # ---------------------------------------------------------- components
    is_work = cal["is_workday"].to_numpy()
    is_hol = cal["is_holiday"].to_numpy()
    sf = cal["spring_festival_period"].to_numpy()
    n_k = len(CATEGORIES)
    mu_shape = np.empty((n_a, n_k, n_t))
    area_eff = np.exp(rng.normal(0, 1, (n_a, n_k)) * np.array([c.area_sd for c in CATEGORIES])[None, :])
    # denser, older Xiangzhou streets have more urban-management reports
    for j, s in enumerate(STREETS):
        if s[1] == "ZH-XZ":
            area_eff[j, [c.code for c in CATEGORIES].index("urban_management")] *= 1.6
    covid = np.empty((n_k, n_t))
    for i, c in enumerate(CATEGORIES):
        season = np.exp(c.season_amp * np.cos(2 * np.pi * (doy - c.season_peak_doy) / 365.25))
        wk = np.where(is_work, 1.0, c.weekend)
        hol = np.where(is_hol, c.holiday, 1.0) * np.where(sf, c.spring, 1.0)
        covid[i] = _covid_curve(days, c.covid)
        mu_shape[:, i, :] = (pop_daily / 1e4) * c.rate * area_eff[:, i, None] * (season * wk * hol * covid[i])[None, :]

    # ------------------------------------------------- city-wide calibration
    # yearly log levels so that the city's expected totals (programme included)
    # reproduce the targets relative to 2014; years 2020-21 carry the 2019
    # level times a mild trend, the pandemic shock being separate (covid[]).
    prog_idx = ids.index(PROGRAMME_AREA)
    ramp = _ramp(days, PROGRAMME_START, PROGRAMME_RAMP_DAYS)
    prog_mult = {c.code: 1.0 for c in CATEGORIES}

    def programme(code: str, m: float) -> np.ndarray:
        return 1.0 + (m - 1.0) * ramp

    cats = [c.code for c in CATEGORIES]
    iu = cats.index("urban_management")
    y19 = years == 2019

    def calibrate_levels(prog: dict[str, float]) -> dict[str, np.ndarray]:
        out = {}
        for i, c in enumerate(CATEGORIES):
            tgt = {2014: 1.0, **c.yearly}
            tgt[2020] = tgt[2019] * 0.97
            tgt[2021] = tgt[2019] * 0.95
            loglv = {yr: np.log(v) for yr, v in tgt.items()}
            shape = mu_shape[:, i, :].copy()
            shape[prog_idx] *= programme(c.code, prog[c.code])
            shape_city = shape.sum(0) / covid[i]  # the targets exclude the pandemic shock
            for _ in range(50):
                tot = pd.Series(shape_city * np.exp(_interp_levels(days, loglv))).groupby(years).sum()
                err = {yr: np.log(tgt[yr] * tot[2014] / tot[yr]) for yr in tgt}
                loglv = {yr: loglv[yr] + err[yr] for yr in tgt}
                if max(abs(e) for e in err.values()) < 1e-12:
                    break
            out[c.code] = np.exp(_interp_levels(days, loglv))
        return out

    def xw_ratio(code: str, m: float, lv: dict[str, np.ndarray]) -> float:
        i = cats.index(code)
        mu_x = mu_shape[prog_idx, i] * lv[code] * programme(code, m)
        return mu_x[years == 2020].sum() / mu_x[y19].sum()

    # scipy imported here, not at import: every `riskmodel validate` imports this module
    from scipy.optimize import brentq

    # levels and programme multipliers depend on each other (the programme
    # street is part of the city): alternate until both settle
    for _ in range(4):
        levels = calibrate_levels(prog_mult)
        for code, target in PROGRAMME_TARGETS.items():
            prog_mult[code] = float(
                brentq(lambda m, code=code, target=target, lv=levels: xw_ratio(code, m, lv) - target, 0.05, 1.5)
            )
        # Xiangwan's urban-management level: 329 events a day in 2019
        u19 = (mu_shape[prog_idx, iu] * levels["urban_management"] * programme("urban_management", prog_mult["urban_management"]))[y19].mean()
        scale_u = URBAN_2019_DAILY / u19
        mu_shape[prog_idx, iu] *= scale_u
        area_eff[prog_idx, iu] *= scale_u

    mu = np.empty_like(mu_shape)
    prog_daily = np.ones((n_k, n_t))
    for i, c in enumerate(CATEGORIES):
        prog_daily[i] = programme(c.code, prog_mult[c.code])
        mu[:, i, :] = mu_shape[:, i, :] * levels[c.code][None, :]
        mu[prog_idx, i, :] *= prog_daily[i]

    # ----------------------------------------------------------- the counts
    theta = np.array([c.theta for c in CATEGORIES])[None, :, None]
    lam = rng.gamma(shape=np.broadcast_to(theta, mu.shape), scale=mu / theta)
    y = rng.poisson(lam)

    # --------------------------------------------------------------- spikes
    spike_rows = []
    spike_cats = ["alerts", "criminal_cases", "traffic_accidents", "fires", "disputes", "hotline_12345", "production_safety"]
    spike_start_days = np.flatnonzero(days >= pd.Timestamp("2016-01-01"))
    for sid in range(1, 41):
        a = int(rng.integers(n_a - 3)) if sid % 5 else int(rng.integers(n_a))
        code = spike_cats[int(rng.integers(len(spike_cats)))]
        i = [c.code for c in CATEGORIES].index(code)
        t0 = int(rng.choice(spike_start_days[:-30]))
        length = int(rng.integers(5, 22))
        base = mu[a, i, t0 : t0 + length]
        sd_week = np.sqrt((base + base**2 / CATEGORIES[i].theta).sum())
        size_k = float(rng.uniform(2.0, 6.0))
        total = max(int(rng.poisson(size_k * sd_week + 2)), 3)
        # spread over the days by a lognormal shape (Noufaily et al. 2013)
        shape_days = np.minimum(np.floor(rng.lognormal(0.0, 0.5, total) * length / 3), length - 1).astype(int)
        extra = np.bincount(shape_days, minlength=length)
        y[a, i, t0 : t0 + length] += extra
        spike_rows.append(
            {
                "spike_id": f"S{sid:02d}",
                "area_id": ids[a],
                "category": code,
                "start": days[t0].date().isoformat(),
                "days": length,
                "extra_total": int(extra.sum()),
                "size_sd": round(size_k, 3),
                "peak_day": days[t0 + int(np.argmax(extra))].date().isoformat(),
            }
        )
    spikes = pd.DataFrame(spike_rows).sort_values(["start", "spike_id"]).reset_index(drop=True)

    # -------------------------------------------------------------- tables
    counts = pd.DataFrame(
        {
            "area_id": np.repeat(ids, n_k * n_t),
            "category": np.tile(np.repeat(cats, n_t), n_a),
            "period": np.tile(days.strftime("%Y-%m-%d"), n_a * n_k),
            "count": y.ravel(),
        }
    )
    daily = counts.assign(period=pd.to_datetime(counts["period"]))
    weekly = daily.assign(period=daily["period"] - pd.to_timedelta(daily["period"].dt.day_of_week, unit="D"))
    weekly = weekly.groupby(["area_id", "category", "period"], as_index=False)["count"].sum()
    monthly = daily.assign(period=daily["period"].dt.to_period("M").dt.start_time)
    monthly = monthly.groupby(["area_id", "category", "period"], as_index=False)["count"].sum()

    pop_tab = pd.DataFrame(
        {"area_id": np.repeat(ids, len(pop_years)), "year": np.tile(pop_years, n_a), "population": pop.ravel().astype(int)}
    )
    dist_of = {s[0]: s[1] for s in STREETS}
    dpop = pop_tab.assign(area_id=pop_tab["area_id"].map(dist_of)).groupby(["area_id", "year"], as_index=False)["population"].sum()
    cpop = pop_tab.assign(area_id="ZH").groupby(["area_id", "year"], as_index=False)["population"].sum()
    pop_all = pd.concat([cpop, dpop, pop_tab], ignore_index=True)

    nb = pd.DataFrame(_neighbours(coords_km, ids, [s[1] for s in STREETS]), columns=["area_id", "neighbour_id"])

    # ------------------------------------------------------------ indicators
    indicators = _indicators(monthly, pop_tab, prog_daily, days, rng)

    # --------------------------------------------------------- grid + events
    grid_areas, events, grid_geo = _grid_events(y, ids, cats, days, rng)
    areas_tab = pd.DataFrame(areas + grid_areas, columns=["area_id", "name", "name_en", "parent_id", "level"])

    # ----------------------------------------------------------------- truth
    effects, claim_truth, claims = _truth(mu, prog_daily, covid, levels, days, ids, cats, prog_mult)

    with atomic_dir(out_dir) as tmp:
        write_table_atomic(areas_tab, tmp / "areas.csv")
        write_table_atomic(pop_all, tmp / "population.csv")
        write_table_atomic(nb, tmp / "neighbours.csv")
        write_table_atomic(counts, tmp / "counts_daily.csv.gz")
        write_table_atomic(_fmt(weekly), tmp / "counts_weekly.csv")
        write_table_atomic(_fmt(monthly), tmp / "counts_monthly.csv")
        write_table_atomic(indicators, tmp / "indicators_monthly.csv")
        write_table_atomic(claims, tmp / "claims.csv")
        write_table_atomic(events, tmp / "events_grid.csv.gz")
        (tmp / "grid_cells.geojson").write_text(json.dumps(grid_geo, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        (tmp / "boundaries.geojson").write_text(boundaries_geojson(STREETS, grid_geo), encoding="utf-8")
        (tmp / "truth").mkdir()
        write_table_atomic(effects, tmp / "truth" / "effects.csv")
        write_table_atomic(claim_truth, tmp / "truth" / "claim_truth.csv")
        write_table_atomic(spikes, tmp / "truth" / "spikes.csv")
        cat_tab = pd.DataFrame(
            [
                {"category": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "rate_per_10k_day_2014": c.rate,
                 "nb_size": c.theta, "covid_plateau": c.covid}
                for c in CATEGORIES
            ]
        )
        write_table_atomic(cat_tab, tmp / "categories.csv")
        write_table_atomic(_mean_table(mu, ids, cats, days), tmp / "truth" / "expected_monthly.csv")
    return {"rows_daily": len(counts), "spikes": len(spikes), "events": len(events), "seed": seed}


def _fmt(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(period=df["period"].dt.strftime("%Y-%m-%d"))


def _mean_table(mu: np.ndarray, ids: list[str], cats: list[str], days: pd.DatetimeIndex) -> pd.DataFrame:
    """Expected counts per street, category and month (the noise-free truth)."""
    n_a, n_k, n_t = mu.shape
    month = days.to_period("M").start_time
    rows = pd.DataFrame(
        {
            "area_id": np.repeat(ids, n_k * n_t),
            "category": np.tile(np.repeat(cats, n_t), n_a),
            "period": np.tile(month, n_a * n_k),
            "expected": mu.ravel(),
        }
    )
    out = rows.groupby(["area_id", "category", "period"], as_index=False, sort=True)["expected"].sum()
    out["expected"] = out["expected"].round(4)
    return _fmt(out)


def _indicators(monthly: pd.DataFrame, pop_tab: pd.DataFrame, prog_daily: np.ndarray, days: pd.DatetimeIndex,
                rng: np.random.Generator) -> pd.DataFrame:
    """Monthly index indicators per street (long: area_id, period, indicator, value)."""
    m = monthly.copy()
    m["year"] = m["period"].dt.year
    m = m.merge(pop_tab, on=["area_id", "year"], how="left")
    m["value"] = (m["count"] / m["population"] * 1e4).round(4)
    rates = m.assign(indicator="rate_" + m["category"])[["area_id", "period", "indicator", "value"]]
    wide = m.pivot_table(index=["area_id", "period"], columns="category", values="value").reset_index()
    n = len(wide)
    # dispute resolution rate: ~96.5% in 2018, slowly rising; fewer resolved where disputes are many
    yr = wide["period"].dt.year.to_numpy()
    logit = 3.1 + 0.12 * (yr - 2018) - 0.15 * (wide["disputes"] - wide["disputes"].mean()) / wide["disputes"].std()
    p = 1 / (1 + np.exp(-(logit + rng.normal(0, 0.25, n))))
    # satisfaction: higher where alerts and urban problems are fewer; rises with the programme
    z = (
        -0.5 * (wide["alerts"] - wide["alerts"].mean()) / wide["alerts"].std()
        - 0.3 * (wide["urban_management"] - wide["urban_management"].mean()) / wide["urban_management"].std()
    )
    month_idx = pd.DatetimeIndex(wide["period"])
    pos = np.clip(np.searchsorted(days, month_idx), 0, len(days) - 1)
    boost = np.where(wide["area_id"] == PROGRAMME_AREA, 4.0 * (1 - prog_daily[0, pos]) / max(1e-9, 1 - prog_daily[0].min()), 0.0)
    sat = np.clip(78 + 4 * z + boost + 0.6 * (yr - 2014) + rng.normal(0, 2.0, n), 0, 100)
    extra = pd.concat(
        [
            pd.DataFrame({"area_id": wide["area_id"], "period": wide["period"], "indicator": "dispute_resolution_rate", "value": np.round(p, 4)}),
            pd.DataFrame({"area_id": wide["area_id"], "period": wide["period"], "indicator": "survey_satisfaction", "value": np.round(sat, 2)}),
        ]
    )
    out = pd.concat([rates, extra], ignore_index=True).sort_values(["area_id", "period", "indicator"], kind="stable")
    return _fmt(out.reset_index(drop=True))


GRID_STREETS = {"ZH-XZ-XW": (6, 5), "ZH-XZ-GB": (5, 4)}  # grid columns x rows of 400 m cells
GRID_CELL_M = 400.0
EVENT_CATEGORIES = ["alerts", "traffic_accidents", "fires", "disputes"]
EVENT_START = "2019-01-01"


def _grid_events(y: np.ndarray, ids: list[str], cats: list[str], days: pd.DatetimeIndex,
                 rng: np.random.Generator) -> tuple[list[tuple], pd.DataFrame, dict]:
    """Grid cells for two streets and event-level records with coordinates.

    Each street's daily counts (2019-2021, four categories) are split over its
    cells by a multinomial with fixed cell intensities (lognormal hotspots), so
    events aggregate back exactly to the street counts. Coordinates are
    metres in a local plane (x east, y north), uniform within the cell;
    timestamps follow a diurnal profile peaking in the evening.
    """
    grid_areas: list[tuple] = []
    features = []
    ev_parts = []
    t_sel = np.flatnonzero(days >= pd.Timestamp(EVENT_START))
    hours = np.arange(24)
    diurnal = 1 + 0.6 * np.cos(2 * np.pi * (hours - 20) / 24)
    diurnal /= diurnal.sum()
    origin = {"ZH-XZ-XW": (4000.0, 6000.0), "ZH-XZ-GB": (4500.0, 0.0)}
    for street, (nx, ny) in GRID_STREETS.items():
        a = ids.index(street)
        x0, y0 = origin[street]
        cells = []
        for r in range(ny):
            for c in range(nx):
                gid = f"{street}-G{r * nx + c + 1:02d}"
                cells.append((gid, x0 + c * GRID_CELL_M, y0 + r * GRID_CELL_M))
                name = f"{street_name(street)}第{r * nx + c + 1}网格"
                grid_areas.append((gid, name, f"{street_name_en(street)} grid {r * nx + c + 1}", street, "grid"))
                features.append(
                    {
                        "type": "Feature",
                        "properties": {"grid_id": gid, "area_id": street},
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [[
                                [x0 + c * GRID_CELL_M, y0 + r * GRID_CELL_M],
                                [x0 + (c + 1) * GRID_CELL_M, y0 + r * GRID_CELL_M],
                                [x0 + (c + 1) * GRID_CELL_M, y0 + (r + 1) * GRID_CELL_M],
                                [x0 + c * GRID_CELL_M, y0 + (r + 1) * GRID_CELL_M],
                                [x0 + c * GRID_CELL_M, y0 + r * GRID_CELL_M],
                            ]],
                        },
                    }
                )
        w = rng.lognormal(0, 0.8, len(cells))
        w /= w.sum()
        for code in EVENT_CATEGORIES:
            i = cats.index(code)
            counts = y[a, i, t_sel]
            n = int(counts.sum())
            day_idx = np.repeat(t_sel, counts)
            cell_idx = rng.choice(len(cells), size=n, p=w)
            hr = rng.choice(24, size=n, p=diurnal)
            sec = rng.integers(0, 3600, size=n)
            cx = np.array([cells[k][1] for k in cell_idx]) + rng.uniform(0, GRID_CELL_M, n)
            cy = np.array([cells[k][2] for k in cell_idx]) + rng.uniform(0, GRID_CELL_M, n)
            ts = days[day_idx] + pd.to_timedelta(hr * 3600 + sec, unit="s")
            ev_parts.append(
                pd.DataFrame(
                    {
                        "timestamp": ts.strftime("%Y-%m-%d %H:%M:%S"),
                        "category": code,
                        "x": np.round(cx, 1),
                        "y": np.round(cy, 1),
                        "area_id": street,
                        "grid_id": [cells[k][0] for k in cell_idx],
                    }
                )
            )
    ev = pd.concat(ev_parts, ignore_index=True).sort_values(["timestamp", "area_id", "category", "x"], kind="stable")
    ev.insert(0, "event_id", [f"E{i:07d}" for i in range(1, len(ev) + 1)])
    geo = {"type": "FeatureCollection", "name": "sample_city_grid_cells",
           "crs_note": "local plane, metres (simulated): the transverse Mercator of the 'crs' member "
                       "(riskmodel.data.sample_boundaries.LOCAL_PLANE_CRS), which puts the cells on their streets",
           "crs": {"type": "name", "properties": {"name": LOCAL_PLANE_CRS}}, "features": features}
    return grid_areas, ev.reset_index(drop=True), geo


def street_name(aid: str) -> str:
    return next(s[2] for s in STREETS if s[0] == aid)


def street_name_en(aid: str) -> str:
    return next(s[3] for s in STREETS if s[0] == aid)


def _truth(mu: np.ndarray, prog_daily: np.ndarray, covid: np.ndarray, levels: dict[str, np.ndarray],
           days: pd.DatetimeIndex, ids: list[str], cats: list[str], prog_mult: dict[str, float]
           ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    years = days.year.to_numpy()
    rows = []
    for code in cats:
        if prog_mult[code] != 1.0:
            rows.append({"effect_id": f"P-{code}", "kind": "programme", "area_id": PROGRAMME_AREA, "category": code,
                         "start": PROGRAMME_START.date().isoformat(), "ramp_days": PROGRAMME_RAMP_DAYS,
                         "multiplier": round(prog_mult[code], 6),
                         "note": "Xiangwan street programme (cameras, door access, bicycle patrol); multiplier on the expected count once fully ramped"})
        c = CATEGORY_BY_CODE[code]
        rows.append({"effect_id": f"C-{code}", "kind": "citywide", "area_id": "ZH", "category": code,
                     "start": "2020-01-20", "ramp_days": 26, "multiplier": c.covid,
                     "note": "2020 pandemic shock, all streets; plateau multiplier May-Dec 2020 (trough in February), back to 1 by mid-2021"})
        lv = pd.Series(levels[code]).groupby(years).mean()
        for yv in range(2015, 2022):
            rows.append({"effect_id": f"T-{code}-{yv}", "kind": "citywide_trend", "area_id": "ZH", "category": code,
                         "start": f"{yv}-01-01", "ramp_days": 0, "multiplier": round(float(lv[yv] / lv[2014]), 6),
                         "note": "mean city-wide level in the year relative to 2014 (trend, not the shock)"})
    effects = pd.DataFrame(rows)

    a = ids.index(PROGRAMME_AREA)
    y19, y20 = years == 2019, years == 2020
    claim_rows, truth_rows = [], []

    def add(cid, area, code, measure, b0, b1, c0, c1, reported, rb, rc, label, source):
        claim_rows.append({"claim_id": cid, "area_id": area, "category": code, "measure": measure,
                           "baseline_start": b0, "baseline_end": b1, "comparison_start": c0, "comparison_end": c1,
                           "reported_change": reported, "reported_baseline": rb, "reported_comparison": rc,
                           "period_label": label, "source": source})

    src_xw = "seeds/000 (2021 article on Xiangzhou's 平安+ index; text says 香港街道, taken as 香湾街道)"
    src_city = "seeds (Zhuhai 平安指数 articles, 2019-2020)"
    add("C1", PROGRAMME_AREA, "alerts", "relative_change", "2019-01-01", "2019-12-31", "2020-01-01", "2020-12-31", -0.354, None, None, "2020 vs 2019 (发案率同比)", src_xw)
    add("C2", PROGRAMME_AREA, "traffic_accidents", "relative_change", "2019-01-01", "2019-12-31", "2020-01-01", "2020-12-31", -0.213, None, None, "2020 vs 2019", src_xw)
    add("C3", PROGRAMME_AREA, "urban_management", "daily_mean", "2019-01-01", "2019-12-31", "2020-01-01", "2020-12-31", round(240 / 329 - 1, 4), 329, 240, "329 -> about 240 a day", src_xw)
    add("C4", "ZH", "alerts", "relative_change", "2014-01-01", "2014-12-31", "2018-01-01", "2018-12-31", -0.4596, None, None, "2018 vs 2014", src_city)
    add("C5", "ZH", "fires", "relative_change", "2014-01-01", "2014-12-31", "2018-01-01", "2018-12-31", -0.8298, None, None, "2018 vs 2014", src_city)
    add("C6", "ZH", "alerts", "relative_change", "2018-01-01", "2018-12-31", "2019-01-01", "2019-12-31", -0.1722, None, None, "2019 vs 2018", src_city)
    add("C7", "ZH", "criminal_cases", "relative_change", "2018-01-01", "2018-12-31", "2019-01-01", "2019-12-31", -0.045, None, None, "2019 vs 2018", src_city)
    add("C8", "ZH", "gun_cases", "relative_change", "2018-01-01", "2018-12-31", "2019-01-01", "2019-12-31", -0.846, None, None, "2019 vs 2018", src_city)
    claims = pd.DataFrame(claim_rows)

    for cl in claim_rows:
        code = cl["category"]
        i = cats.index(code)
        b = (days >= pd.Timestamp(cl["baseline_start"])) & (days <= pd.Timestamp(cl["baseline_end"]))
        c = (days >= pd.Timestamp(cl["comparison_start"])) & (days <= pd.Timestamp(cl["comparison_end"]))
        m = mu[a, i] if cl["area_id"] == PROGRAMME_AREA else mu[:, i].sum(0)
        prog = prog_daily[i] if cl["area_id"] == PROGRAMME_AREA else np.ones(len(days))
        expected_change = m[c].sum() / m[b].sum() - 1
        no_prog = m / prog
        programme_effect = m[c].sum() / no_prog[c].sum() - 1  # effect on the comparison period
        programme_yoy = (m[c].sum() / no_prog[c].sum()) / (m[b].sum() / no_prog[b].sum()) - 1
        no_covid = no_prog / covid[i]
        citywide = (no_prog[c].sum() / no_prog[b].sum()) - 1
        shock = no_prog[c].sum() / no_covid[c].sum() - 1
        truth_rows.append({"claim_id": cl["claim_id"], "area_id": cl["area_id"], "category": code,
                           "expected_change": round(expected_change, 6),
                           "true_programme_effect": round(programme_effect, 6),
                           "true_programme_contribution": round(programme_yoy, 6),
                           "true_citywide_effect": round(citywide, 6),
                           "true_pandemic_shock": round(shock, 6)})
    del y19, y20
    return effects, pd.DataFrame(truth_rows), claims
