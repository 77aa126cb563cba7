"""The study's maps (riskmodel.report.maps) from small results, and the appendix's map pages."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from shapely.geometry import box, mapping  # noqa: E402

from riskmodel.data.boundaries import AreaBoundaries  # noqa: E402
from riskmodel.impact.claims import Claim  # noqa: E402
from riskmodel.impact.series import ControlSpec  # noqa: E402
from riskmodel.maps import NO_DATA_COLOUR, RDBU7, map_colours  # noqa: E402
from riskmodel.report import maps as rm  # noqa: E402
from riskmodel.report.appendix import StudyData, render_html, write_pdf  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

# a city of two districts, four streets in a row (5 km x 4 km each), metres in UTM 49N
AREAS = pd.DataFrame({
    "area_id": ["C", "D1", "D2", "S1", "S2", "S3", "S4"],
    "name": ["城", "东区", "西区", "甲街道", "乙街道", "丙街道", "丁街道"],
    "name_en": ["City", "East", "West", "Jia", "Yi", "Bing", "Ding"],
    "parent_id": [None, "C", "C", "D1", "D1", "D2", "D2"],
    "level": ["city", "district", "district", "area", "area", "area", "area"],
})
NAMES = dict(zip(AREAS["area_id"], AREAS["name"], strict=True))
X0, Y0 = 700_000, 2_450_000
GEOMS = {f"S{k}": box(X0 + (k - 1) * 5000, Y0, X0 + k * 5000, Y0 + 4000) for k in range(1, 5)}


def boundaries(simulated: bool = True) -> AreaBoundaries:
    return AreaBoundaries(dict(GEOMS), "EPSG:32649", "test streets", simulated=simulated)


SCORES = pd.DataFrame({
    "area_id": ["S1", "S2", "S3", "S4"] * 2 + ["S1"],
    "period": ["2021-11-01"] * 4 + ["2021-12-01"] * 4 + ["2021-12-01"],
    "level": [3] * 8 + [2], "code": ["Index"] * 8 + ["Safety"],
    "score": [60.0, 70.0, 80.0, 90.0, 62.0, 91.0, 79.0, 55.0, 1.0],
    "rank": [4, 3, 2, 1, 3, 1, 2, 4, 1],
    "grade": ["C", "B", "B", "A", "C", "A", "B", "D", None],
    "rank_change": [np.nan] * 4 + [1, 2, 0, -3, np.nan],
})


def _fill(fig, area: str) -> str:
    p = next(p for p in fig.axes[0].patches if p.get_gid() == f"area-{area}")
    return to_hex(p.get_facecolor())


def _texts(fig) -> dict[str, str]:
    return {t.get_gid(): t.get_text() for t in fig.axes[0].texts if t.get_gid()}


def test_index_maps_show_the_latest_period():
    b = boundaries()
    fig = rm.index_score_map(b, SCORES, names=NAMES, areas=AREAS, data_source="counts.csv")
    try:
        latest = pd.Series({"S1": 62.0, "S2": 91.0, "S3": 79.0, "S4": 55.0})
        cols, _ = map_colours(latest, fmt="{:g}")
        assert {a: _fill(fig, a) for a in GEOMS} == {a: c.lower() for a, c in cols.items()}
        assert fig.axes[0].get_title(loc="left") == "平安指数得分（2021-12）"
        assert _texts(fig)["source"] == "来源：边界：test streets；数据：counts.csv；模拟边界"
    finally:
        plt.close(fig)
    fig = rm.index_grade_map(b, SCORES, names=NAMES, areas=AREAS, lang="en", grades=["A", "B", "C", "D", "E"])
    try:
        assert [_fill(fig, a) for a in ("S2", "S3", "S1", "S4")] == [c.lower() for c in rm.GRADE_COLOURS[:4]]
        assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["A", "B", "C", "D", "E"]
        assert "Ping'an index grade (2021-12)" in fig.axes[0].get_title(loc="left")
    finally:
        plt.close(fig)
    fig = rm.rank_change_map(b, SCORES, areas=AREAS, period="2021-12-01")
    try:
        # +1, +2, 0, -3 places: blue for up, neutral for none, red for down (whole-number classes)
        assert [_fill(fig, a) for a in ("S1", "S2", "S3", "S4")] == [RDBU7[4], RDBU7[5], RDBU7[3], RDBU7[0]]
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="one period only"):
        rm.rank_change_map(b, SCORES.drop(columns="rank_change"))


FORECAST = pd.DataFrame({
    "area_id": ["S1", "S1", "S2", "S2", "S3", "S1", "D1"],
    "level": ["area"] * 6 + ["district"],
    "category": ["x", "y", "x", "y", "x", "x", "x"],
    "period": ["2022-01-01"] * 5 + ["2022-02-01", "2022-01-01"],
    "mean": [12.0, 8.0, 9.0, 0.0, 5.0, 99.0, 500.0],
})
HISTORY = pd.DataFrame({
    "area_id": ["S1", "S1", "S2", "S2", "S3", "S1", "S4"],
    "category": ["x", "y", "x", "y", "x", "x", "x"],
    "period": ["2021-12-01"] * 5 + ["2021-11-01", "2021-12-01"],
    "count": [10, 6, 12, 0, 0, 50, 7],
})


def test_forecast_change_is_next_period_against_the_last_observed_per_street():
    change, first, last = rm.forecast_change(FORECAST, HISTORY)
    # S1: (12 + 8) / (10 + 6) - 1 = +25%; S2: 9 / 12 - 1 = -25%; S3: last observed 0 -> no relative change
    assert change["S1"] == pytest.approx(0.25) and change["S2"] == pytest.approx(-0.25)
    assert np.isnan(change["S3"]) and "D1" not in change.index and "S4" not in change.index
    assert (first, last) == ("2022-01-01", "2021-12-01")
    fig = rm.forecast_change_map(boundaries(), FORECAST, HISTORY, names=NAMES, areas=AREAS, lang="en")
    try:
        # class width nice(0.25 / 3) = 0.1: +25% in (0.2, 0.3], red (an increase); -25% blue; S3, S4 no data
        assert _fill(fig, "S1") == RDBU7[::-1][6] and _fill(fig, "S2") == RDBU7[::-1][0]
        assert _fill(fig, "S3") == _fill(fig, "S4") == NO_DATA_COLOUR
        legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert legend[-1] == "no data" and "+20% – +30%" in legend
        assert "2022-01 forecast vs 2021-12 observed" in fig.axes[0].get_title(loc="left")
    finally:
        plt.close(fig)


def test_warnings_are_counted_by_street_with_zero_for_the_quiet_ones():
    warn = pd.DataFrame({"area_id": ["S1", "S1", "S3"], "category": ["x", "y", "x"], "period": ["2021-12-20"] * 3})
    n = rm.warning_counts(warn, GEOMS)
    assert n.to_dict() == {"S1": 2.0, "S2": 0.0, "S3": 1.0, "S4": 0.0}
    fig = rm.warnings_map(boundaries(), warn, names=NAMES, areas=AREAS)
    try:
        cols, legend = map_colours(n)
        assert [lab for lab, _ in legend] == ["0", "1", "2"]
        assert {a: _fill(fig, a) for a in GEOMS} == {a: c.lower() for a, c in cols.items()}
        assert "2021-12-20" in fig.axes[0].get_title(loc="left")
    finally:
        plt.close(fig)
    fig = rm.warnings_map(boundaries(), warn.iloc[:0], areas=AREAS)  # no warning this period: all 0
    try:
        assert len({_fill(fig, a) for a in GEOMS}) == 1 and NO_DATA_COLOUR not in {_fill(fig, a) for a in GEOMS}
    finally:
        plt.close(fig)


def _claim(area: str, controls: ControlSpec | None = None) -> Claim:
    ts = pd.Timestamp
    return Claim("C1", area, "x", "relative_change", ts("2019-01-01"), ts("2019-12-31"), ts("2020-01-01"),
                 ts("2020-12-31"), -0.3, controls=controls)


def test_claim_comparison_areas_from_each_kind_of_result():
    assert rm.claim_comparison(_claim("S1"), AREAS) == ["S2", "S3", "S4"]  # default: the treated area's level
    assert rm.claim_comparison(_claim("D1"), AREAS) == ["D2"]
    assert rm.claim_comparison(_claim("S1", ControlSpec(areas=("S3",))), AREAS) == ["S3"]
    assert rm.claim_comparison(_claim("S1", ControlSpec(categories=("y",))), AREAS) == []  # other categories
    ev = SimpleNamespace(series=SimpleNamespace(controls=pd.DataFrame(columns=["S2", "S4", "S1/y"])))
    assert rm.claim_comparison(ev, AREAS) == ["S2", "S4"]
    assert rm.claim_comparison(pd.Series({"area_id": "S1", "comparison_areas": "S2; S3"}), AREAS) == ["S2", "S3"]
    assert rm.claim_comparison(pd.Series({"area_id": "S1"}), AREAS) == ["S2", "S3", "S4"]


def test_claim_map_marks_treated_comparison_and_other_areas():
    fig = rm.claim_map(boundaries(), "S1", ["S3"], names=NAMES, areas=AREAS, claim_id="C1", category="火灾")
    try:
        assert [_fill(fig, a) for a in ("S1", "S3", "S2")] == ["#d55e00", "#56b4e9", "#f7f7f7"]
        hl = [p for p in fig.axes[0].patches if (p.get_gid() or "").startswith("highlight:")]
        assert [p.get_gid() for p in hl] == ["highlight:项目地区"]
        assert hl[0].get_path().vertices[:, 0].min() == X0 and hl[0].get_path().vertices[:, 0].max() == X0 + 5000
        assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["项目地区", "对照地区", "其他地区"]
        assert fig.axes[0].get_title(loc="left") == "声明 C1：甲街道（火灾）及对照地区"
    finally:
        plt.close(fig)
    # a claim on a district: its streets are the treated area, the other district's the comparison
    fig = rm.claim_map(boundaries(), "D1", ["D2"], areas=AREAS, lang="en")
    try:
        assert [_fill(fig, a) for a in ("S1", "S2", "S3", "S4")] == ["#d55e00"] * 2 + ["#56b4e9"] * 2
        # one outline around the district: its two streets' union, 10 km x 4 km, one ring, no edge between them
        path = next(p for p in fig.axes[0].patches if p.get_gid() == "highlight:treated area").get_path()
        assert (path.codes == path.MOVETO).sum() == 1 and np.ptp(path.vertices[:, 0]) == 10_000
        assert set(map(tuple, path.vertices[path.vertices[:, 0] == X0 + 5000])) == {(X0 + 5000, Y0), (X0 + 5000, Y0 + 4000)}
    finally:
        plt.close(fig)
    fig = rm.claim_map(boundaries(), "C", [], areas=AREAS, lang="en", claim_id="C9", category="fires")
    try:
        assert fig.axes[0].get_title(loc="left") == "Claim C9: C (fires), no comparison areas"
        assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["treated area"]  # nothing else
    finally:
        plt.close(fig)


class Stub:
    """What the appendix reads of a study (riskmodel.report.appendix.StudyOutputs), in memory."""

    run_id = "stub"
    name = "mapstudy"
    tags: dict = {}

    def __init__(self, config: dict | None = None, only: tuple[str, ...] = ()):
        self.config = config or {"data": {"counts": "data/sample/counts_monthly.csv"}}
        self.tables = {
            # streets only: no district heading, so no fan chart (slow to draw, not what is tested here)
            ("forecast", "forecast.csv"): FORECAST[FORECAST["level"] == "area"].assign(
                model="auto", lo_80=0.0, hi_80=1.0, lo_95=0.0, hi_95=2.0),
            ("alerts", "alerts_warnings.csv"): pd.DataFrame({
                "area_id": ["S1"], "category": ["x"], "period": ["2021-12-20"], "count": [30], "expected": [12.5],
                "upperbound": [22.0], "alarm": [True], "severity": ["red"], "severity_zh": ["红色"]}),
            ("index", "scores.csv"): SCORES,
            ("claims", "claims_summary.csv"): pd.DataFrame({
                "claim_id": ["C1", "C2"], "area_id": ["S1", "S1"], "category": ["x", "y"],
                "reported_change": [-0.3, -0.2], "observed_change": [-0.3, -0.1], "effect": [-0.2, np.nan],
                "effect_lo95": [-0.3, np.nan], "effect_hi95": [-0.1, np.nan], "verdict_en": ["ok", "ok"],
                "verdict_zh": ["一致", "一致"]}),
        }
        if only:  # fewer maps: a faster test
            self.tables = {k: v for k, v in self.tables.items() if k[0] in only}
        self.steps = {s: None for s, _ in self.tables}

    def table(self, step: str, name: str) -> pd.DataFrame | None:
        t = self.tables.get((step, name))
        return None if t is None else t.copy()

    def images(self, step: str, pattern: str = "*.png", limit: int | None = None) -> list[bytes]:
        return []


DATA = StudyData(AREAS, None, HISTORY.assign(period=pd.to_datetime(HISTORY["period"])))


def _section_ids(html: str) -> list[str]:
    return re.findall(r'<section id="([a-z_]+)"', html)


def test_the_appendix_has_a_map_page_after_each_mapped_section():
    html = render_html(Stub(), lang="zh", data=DATA, boundaries=boundaries())
    assert _section_ids(html) == ["forecast", "forecast_map", "warnings", "warnings_map", "index", "index_map",
                                  "claims", "claims_map", "methods"]
    pages = dict(re.findall(r'<section id="([a-z_]+_map)"[^>]*>(.*?)</section>', html, re.S))
    # index: score, grade, rank change; claims C1 and C2 share their area's map
    counts = {k: v.count("<img src=\"data:image/png;base64,") for k, v in pages.items()}
    assert counts == {"forecast_map": 1, "warnings_map": 1, "index_map": 3, "claims_map": 1}
    assert "预警地图" in pages["warnings_map"] and "边界为模拟边界" in pages["warnings_map"]
    assert '<section id="index_map" class=" maps">' in html  # the map pages' style
    assert '<li><a href="#index_map">平安指数地图</a></li>' in html  # and in the contents
    plain = render_html(Stub(), lang="zh", data=DATA, boundaries=None)  # no boundaries: no map page
    assert _section_ids(plain) == ["forecast", "warnings", "index", "claims", "methods"]
    # the rest of the document is the same (the generated time aside)
    def strip(h: str) -> str:
        h = re.sub(r'<section id="[a-z]+_map".*?</section>\n', "", h, flags=re.S)
        return re.sub(r"\n+", "\n", re.sub(r'<li><a href="#[a-z]+_map">[^<]*</a></li>|生成时间: [^·]*', "", h))

    assert strip(html) == strip(plain)


def test_the_appendix_reads_the_boundaries_its_config_names(tmp_path):
    def to_lonlat(g):  # the same boxes near Zhuhai, in degrees (about 100 km a degree)
        return box(*([113.5, 22.2, 113.5, 22.2] + (np.array(g.bounds) - [X0, Y0, X0, Y0]) / 1e5))

    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"area_id": a}, "geometry": mapping(to_lonlat(g))} for a, g in GEOMS.items()]}
    (tmp_path / "b.geojson").write_text(json.dumps(fc), encoding="utf-8")
    cfg = {"data": {"counts": "data/sample/counts_monthly.csv", "boundaries": "b.geojson"}}
    html = render_html(Stub(cfg, only=("alerts",)), lang="en", data=DATA, root=tmp_path)
    assert _section_ids(html) == ["warnings", "warnings_map", "methods"] and "Warnings map" in html
    assert "b.geojson" in html  # the boundaries' source in the page note


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_map_pages_in_the_pdf(tmp_path):
    html = render_html(Stub(only=("alerts", "claims")), lang="en", data=DATA, boundaries=boundaries())
    write_pdf(html, tmp_path / "a.pdf")
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "a.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = text.split("\f")
    for title in ("Warnings map", "Claims' areas"):
        page = next(p for p in pages[1:] if title in p)  # (page 1: the contents)
        assert "simulated and are not real administrative boundaries" in page


def test_the_appendix_step_gives_the_study_boundaries_to_the_renderer(tmp_path, monkeypatch):
    from riskmodel.pipeline import run_experiment
    from riskmodel.pipeline.steps import appendix as step
    from riskmodel.tracking import Tracker

    seen = []
    real = step.render_html

    def spy(*args, **kw):
        seen.append(kw.get("boundaries"))
        return real(*args, **kw)

    monkeypatch.setattr(step, "render_html", spy)
    cfg = tmp_path / "exp.toml"
    cfg.write_text(f'[study]\nname = "b"\nout = "{tmp_path / "out"}"\n[data]\n'
                   f'counts = "{ROOT / "data/sample/counts_monthly.csv"}"\nfreq = "M"\n'
                   f'areas = "{ROOT / "data/sample/areas.csv"}"\n'
                   f'boundaries = "{ROOT / "data/sample/boundaries.geojson"}"\n'
                   '[steps.appendix]\nformats = ["html"]\nlangs = ["en"]\n', encoding="utf-8")
    run_experiment(cfg, tracker=Tracker(enabled=False), progress=False)
    assert len(seen) == 1 and isinstance(seen[0], AreaBoundaries) and seen[0].simulated and len(seen[0]) == 25
