"""The forecast appendix, rendered from a tracked study run (HTML and PDF, zh and en)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from riskmodel.cli import main
from riskmodel.errors import InputError
from riskmodel.report.workbook import write_appendix
from riskmodel.tracking import Tracker

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def study_run(tmp_path_factory):
    """A tracked study with the tables the analysis steps log (small, known values)."""
    d = tmp_path_factory.mktemp("study")
    cfg = d / "experiment.toml"
    cfg.write_text(
        f'[study]\nname = "mini"\n[data]\ncounts = "{ROOT / "data/sample/counts_monthly.csv"}"\n'
        f'freq = "M"\nareas = "{ROOT / "data/sample/areas.csv"}"\n[steps.forecast]\nh = 2\n',
        encoding="utf-8",
    )
    t = Tracker(experiment="appendix-test")
    with t.run("study:mini") as parent:
        parent.log_text(cfg.read_text(encoding="utf-8"), "experiment.toml")
        with t.run("mini:forecast", tags={"riskmodel.step": "forecast"}) as r:
            r.log_table(pd.DataFrame({
                "area_id": ["ZH-XZ", "ZH-XZ-XW", "ZH-XZ", "ZH-XZ-XW"], "level": ["district", "area"] * 2,
                "category": ["fires", "fires", "alerts", "alerts"], "period": ["2022-01-01"] * 4,
                "model": "auto", "mean": [40.0, 2.0, 900.0, 80.0], "lo_80": [30, 0, 800, 70], "hi_80": [50, 4, 1000, 90],
                "lo_95": [25, 0, 750, 60], "hi_95": [55, 6, 1050, 100]}), "forecast.csv")
        with t.run("mini:alerts", tags={"riskmodel.step": "alerts"}) as r:
            r.log_table(pd.DataFrame({"area_id": ["ZH-XZ-XW"], "category": ["alerts"], "period": ["2021-12-20"],
                                      "count": [30], "expected": [12.5], "upperbound": [22.0], "alarm": [True],
                                      "severity": ["red"], "severity_zh": ["红色"]}), "alerts_warnings.csv")
        with t.run("mini:claims", tags={"riskmodel.step": "claims"}) as r:
            r.log_table(pd.DataFrame({"claim_id": ["C1"], "area_id": ["ZH-XZ-XW"], "category": ["alerts"],
                                      "reported_change": [-0.354], "observed_change": [-0.38], "effect": [-0.25],
                                      "effect_lo95": [-0.33], "effect_hi95": [-0.16], "verdict_en": ["not consistent"],
                                      "verdict_zh": ["不一致"]}), "claims_summary.csv")
    return parent.run_id


def test_html_and_pdf_in_both_languages(study_run, tmp_path):
    zh = write_appendix(study_run, tmp_path, lang="zh", suppress_below=5)
    en = write_appendix(study_run, tmp_path, lang="en", formats=("html",))
    assert [p.name for p in zh] == ["appendix_zh.html", "appendix_zh.pdf"]
    html = zh[0].read_text(encoding="utf-8")
    for text in ("下季度预测", "香湾街道", "香洲区", "火灾", "本期预警", "红色", "成效声明评估", "不一致", "模拟数据"):
        assert text in html, text
    # 2 fires forecast for the street: suppressed below 5; the district's 40 (25-55) is shown
    assert "&lt;5 [&lt;5–&lt;5] (&lt;5–6)" in html and "40 [30–50] (25–55)" in html
    # last year's January (actual) and the change against it come from the study's counts
    jan21 = pd.read_csv(ROOT / "data/sample/counts_monthly.csv").query(
        "area_id == 'ZH-XZ-XW' and category == 'alerts' and period == '2021-01-01'")["count"].iloc[0]
    assert f"{jan21:,}" in html and f"{80 / jan21 - 1:+.1%}" in html
    pdf = zh[1].read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
    assert any(f in _embedded_fonts(pdf) for f in ("WenQuanYi", "NotoSansCJK", "SourceHanSans"))
    eh = en[0].read_text(encoding="utf-8")
    assert "Next-quarter forecasts" in eh and "Xiangwan Subdistrict" in eh and "SIMULATED" in eh


def _embedded_fonts(pdf: bytes) -> str:
    """Names of the fonts embedded in a PDF (object streams decompressed)."""
    import re
    import zlib

    text = b""
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            text += zlib.decompress(m.group(1))
        except zlib.error:
            continue
    return " ".join(x.decode() for x in re.findall(rb"/FontName\s*/([A-Za-z0-9+_-]+)", text))


def test_bad_requests_are_clean_errors(study_run, tmp_path, capsys):
    with pytest.raises(InputError, match="valid: zh, en"):
        write_appendix(study_run, tmp_path, lang="fr")
    with pytest.raises(InputError, match="valid: html, pdf"):
        write_appendix(study_run, tmp_path, formats=("docx",))
    assert main(["appendix", "--run", "0" * 32, "--out", str(tmp_path / "x")]) == 2
    assert "no MLflow run" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
