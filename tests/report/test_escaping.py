"""The published appendix escapes every name it takes from the user's files (issue 16, item 2).

A small study (one district with one street, one category, four years of months) whose every
text field is hostile: area names (zh and en), category names, the study's name, the forecast's
model label, the warnings' severity, the index grade, the claims' ids and verdicts.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmodel.report.appendix import _environment, render_html

SCRIPT = "<script>alert(1)</script>"
ATTR = '" onmouseover="alert(2)'


class FakeStudy:
    """A StudyOutputs with tables in memory (what the steps would have logged)."""

    def __init__(self, name: str, config: dict, tables: dict[tuple[str, str], pd.DataFrame]):
        self.run_id = "r" * 32
        self.name = name
        self.tags = {"git_commit": "abc"}
        self.config = config
        self._tables = tables

    @property
    def steps(self) -> dict[str, object]:
        return {s: object() for s, _ in self._tables}

    def table(self, step: str, name: str) -> pd.DataFrame | None:
        t = self._tables.get((step, name))
        return None if t is None else t.copy()

    def images(self, step: str, pattern: str = "*.png", limit: int | None = None) -> list[bytes]:
        return []


def _hostile_study(d: Path) -> FakeStudy:
    pd.DataFrame({
        "area_id": ["C", "D1", "S1"],
        "name": ["城" + SCRIPT, "区" + ATTR, "街" + SCRIPT],
        "name_en": ["City" + SCRIPT, "District" + ATTR, "Street" + SCRIPT],
        "parent_id": ["", "C", "D1"], "level": ["city", "district", "area"],
    }).to_csv(d / "areas.csv", index=False)
    pd.DataFrame({"category": ["fires"], "name_zh": ["火灾" + SCRIPT], "name_en": ["fires" + ATTR]}).to_csv(
        d / "categories.csv", index=False)
    months = pd.date_range("2018-01-01", "2021-12-01", freq="MS")
    rng = np.random.default_rng(0)
    pd.DataFrame({"area_id": "S1", "category": "fires", "period": months.strftime("%Y-%m-%d"),
                  "count": rng.poisson(20, len(months))}).to_csv(d / "counts_monthly.csv", index=False)
    cfg = tomllib.loads(f'[study]\nname = "x"\n[data]\ncounts = "{d / "counts_monthly.csv"}"\nfreq = "M"\n'
                        f'areas = "{d / "areas.csv"}"\n[steps.forecast]\nh = 1\n[steps.alerts]\nfreq = "W"\n')
    fc = pd.DataFrame({"area_id": ["D1", "S1"], "level": ["district", "area"], "category": "fires",
                       "period": "2022-01-01", "model": "auto(gbm 1.0)+" + SCRIPT, "mean": [20.0, 20.0],
                       "lo_80": 15, "hi_80": 25, "lo_95": 12, "hi_95": 28})
    bm = pd.DataFrame({"area_id": ["ALL", "S1"], "category": ["ALL", "fires"], "level": ["overall", "area"],
                       "model": [SCRIPT, SCRIPT], "mase": 0.5, "coverage_80": 0.8, "coverage_95": 0.95})
    warn = pd.DataFrame({"area_id": ["S1"], "category": ["fires"], "period": ["2021-12-20"], "count": [30],
                         "expected": [12.5], "upperbound": [22.0], "alarm": [True], "severity": [SCRIPT],
                         "severity_zh": [SCRIPT]})
    scores = pd.DataFrame({"area_id": ["S1"], "level": 2, "code": "Index", "score": [80.0], "rank": [1],
                           "period": ["2021-12-01"], "grade": ["A" + SCRIPT]})
    claims = pd.DataFrame({"claim_id": ["C1" + SCRIPT], "area_id": ["S1"], "category": ["fires"],
                           "reported_change": [-0.3], "observed_change": [-0.2], "effect": [-0.1],
                           "effect_lo95": [-0.2], "effect_hi95": [0.0], "verdict_en": ["ok" + ATTR],
                           "verdict_zh": ["一致" + SCRIPT]})
    tables = {("forecast", "forecast.csv"): fc, ("forecast", "backtest_metrics.csv"): bm,
              ("alerts", "alerts_warnings.csv"): warn, ("index", "scores.csv"): scores,
              ("claims", "claims_summary.csv"): claims}
    return FakeStudy("study" + SCRIPT + ATTR, cfg, tables)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_hostile_names_are_escaped_everywhere(tmp_path, lang):
    html = render_html(_hostile_study(tmp_path), lang=lang, root=tmp_path)
    # no script element at all (the template has none), no attribute broken out of
    assert "<script" not in html.lower()
    assert 'onmouseover="' not in html and "onmouseover=&#34;" in html
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    # every field came through, as text: study name, areas, category, model, severity, grade, claim id, verdict
    want = ["study&lt;script&gt;", "Street&lt;script&gt;" if lang == "en" else "街&lt;script&gt;",
            "District&#34; onmouseover" if lang == "en" else "区&#34; onmouseover",
            "fires&#34; onmouseover" if lang == "en" else "火灾&lt;script&gt;",
            "A&lt;script&gt;", "C1&lt;script&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;"]
    for w in want:
        assert w in text, w
    if lang == "en":
        assert "ok&#34; onmouseover" in text
    # the district's forecast table has the district's (escaped) name as its heading
    assert re.search(r"<h3>(District|区)&#34; onmouseover=&#34;alert\(2\)</h3>", text)


def test_riskmodels_own_wording_is_not_escaped(tmp_path):
    html = render_html(_hostile_study(tmp_path), lang="en", root=tmp_path)
    # its own notes keep their quotes as written; small counts are shown as text '<5'
    assert "'Last year' is the actual total" in html
    html = render_html(_hostile_study(tmp_path), lang="en", root=tmp_path, suppress_below=50)
    assert "&lt;50 [&lt;50–&lt;50] (&lt;50–&lt;50)" in html


def test_the_environment_escapes_by_default():
    tpl = _environment().from_string("{{ x }}")
    assert tpl.render(x=SCRIPT) == "&lt;script&gt;alert(1)&lt;/script&gt;"
