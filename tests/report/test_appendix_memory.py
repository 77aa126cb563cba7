"""The study's appendix is rendered in memory: the same document as from the tracked run."""

from __future__ import annotations

import dataclasses
import tempfile
import tomllib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from riskmodel.data import load_panel  # noqa: E402
from riskmodel.plotting import use_cjk_font  # noqa: E402
from riskmodel.report.appendix import StudyRecord, appendix_inputs, load_study, render_html  # noqa: E402
from riskmodel.tracking import Tracker  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _study(tracker: Tracker, cfg_text: str, appendix_tables: dict | None = None) -> tuple[str, dict]:
    use_cjk_font(required=False)
    runs = {}
    with tracker.run("study:mem") as parent:
        parent.log_text(cfg_text, "experiment.toml")
        with tracker.run("mem:forecast", tags={"riskmodel.step": "forecast"}) as r:
            r.log_table(pd.DataFrame({
                "area_id": ["ZH-XZ", "ZH-XZ-XW"], "level": ["district", "area"], "category": ["fires", "fires"],
                "period": ["2022-01-01"] * 2, "model": "auto", "mean": [40.5, 2.25], "lo_80": [30, 0],
                "hi_80": [50, 4], "lo_95": [25, 0], "hi_95": [55, 6]}), "forecast.csv")
            for d in ("ZH-XZ", "ZH-JW"):
                fig, ax = plt.subplots(figsize=(3, 2))
                ax.plot([0, 1, 2], [1, 3, 2])
                ax.set_title(f"{d} 火灾")
                r.log_figure(fig, f"fan_{d}.png")
                plt.close(fig)
            runs["forecast"] = r
        with tracker.run("mem:alerts", tags={"riskmodel.step": "alerts"}) as r:
            r.log_table(pd.DataFrame({"area_id": ["ZH-XZ-XW"], "category": ["alerts"], "period": ["2021-12-20"],
                                      "count": [30], "expected": [12.5], "upperbound": [22.0], "alarm": [True],
                                      "severity": ["red"], "severity_zh": ["红色"]}), "alerts_warnings.csv")
            runs["alerts"] = r
        if appendix_tables:
            # what the study's appendix step logs so that the run-based appendix needs no data
            with tracker.run("mem:appendix", tags={"riskmodel.step": "appendix"}) as r:
                for name, t in appendix_tables.items():
                    r.log_table(t, name)
    return parent.run_id, {"parent": parent, "runs": runs}


def test_in_memory_render_equals_the_tracked_one(tmp_path) -> None:
    cfg = (f'[study]\nname = "mem"\n[data]\ncounts = "{ROOT / "data/sample/counts_monthly.csv"}"\nfreq = "M"\n'
           f'areas = "{ROOT / "data/sample/areas.csv"}"\n[steps.forecast]\nh = 1\n[steps.alerts]\nfreq = "W"\n')
    run_id, got = _study(Tracker(experiment="appendix-memory"), cfg)
    parent = got["parent"]
    panel = load_panel(ROOT / "data/sample/counts_monthly.csv", freq="M", areas=ROOT / "data/sample/areas.csv")
    record = StudyRecord(run_id=run_id, name="mem", tags=dict(parent.tags), config=tomllib.loads(cfg),
                         runs=got["runs"])
    with tempfile.TemporaryDirectory() as d:
        arts = load_study(run_id, d)
        for lang in ("zh", "en"):
            tracked = render_html(arts, lang=lang, root=ROOT)
            memory = render_html(record, lang=lang, root=ROOT, panel=panel)
            strip = lambda h: "\n".join(x for x in h.splitlines() if "Generated" not in x and "生成时间" not in x)  # noqa: E731
            assert strip(memory) == strip(tracked)
            assert memory.count("data:image/png;base64,") == 1  # the appendix draws the one district's fan chart in its language
            assert "香湾街道" in memory or "Xiangwan Subdistrict" in memory
    assert record.table("alerts", "alerts_warnings.csv")["alarm"].dtype == bool  # as read back from CSV
    assert record.images("forecast", "fan_*.png", limit=1) == record.images("forecast", "fan_*.png")[:1]


def test_the_appendix_step_runs_with_tracking_off(tmp_path) -> None:
    from riskmodel.pipeline import run_experiment

    cfg = tmp_path / "exp.toml"
    cfg.write_text(f'[study]\nname = "off"\nout = "{tmp_path / "out"}"\n[data]\n'
                   f'counts = "{ROOT / "data/sample/counts_monthly.csv"}"\nfreq = "M"\n'
                   f'areas = "{ROOT / "data/sample/areas.csv"}"\n[steps.validate]\n'
                   '[steps.appendix]\nformats = ["html"]\nlangs = ["en"]\n', encoding="utf-8")
    run_experiment(cfg, tracker=Tracker(enabled=False), progress=False)
    html = (tmp_path / "out" / "appendix" / "appendix_en.html").read_text(encoding="utf-8")
    assert "Forecast appendix" in html and "not tracked" in html


def test_the_run_based_appendix_needs_no_data_when_the_run_logged_its_tables(tmp_path, monkeypatch) -> None:
    """Issue 14 item 6: names, district headings and last year's figures, the same document both ways.

    The config's data paths are relative and the run-based appendix is rendered from a folder where
    they do not exist: it reads what the appendix step logged (areas, categories, history).
    """
    cfg = ('[study]\nname = "mem"\n[data]\ncounts = "data/sample/counts_monthly.csv"\nfreq = "M"\n'
           'areas = "data/sample/areas.csv"\n[steps.forecast]\nh = 1\n[steps.alerts]\nfreq = "W"\n')
    panel = load_panel(ROOT / "data/sample/counts_monthly.csv", freq="M", areas=ROOT / "data/sample/areas.csv")
    fc = pd.DataFrame({"area_id": ["ZH-XZ", "ZH-XZ-XW"], "category": ["fires", "fires"], "period": ["2022-01-01"] * 2})
    tables = appendix_inputs(panel, fc, "M", pd.read_csv(ROOT / "data/sample/categories.csv"))
    run_id, got = _study(Tracker(experiment="appendix-same"), cfg, appendix_tables=tables)
    record = StudyRecord(run_id=run_id, name="mem", tags=dict(got["parent"].tags), config=tomllib.loads(cfg),
                         runs=got["runs"])
    monkeypatch.chdir(tmp_path)  # the data's relative paths do not resolve here
    strip = lambda h: "\n".join(x for x in h.splitlines() if "Generated" not in x and "生成时间" not in x)  # noqa: E731
    with tempfile.TemporaryDirectory() as d:
        arts = load_study(run_id, d)
        assert "appendix" in arts.steps
        without = dataclasses.replace(arts, steps={k: v for k, v in arts.steps.items() if k != "appendix"})
        for lang, street, district in (("zh", "香湾街道", "香洲区"), ("en", "Xiangwan Subdistrict", "Xiangzhou District")):
            memory = render_html(record, lang=lang, root=ROOT, panel=panel)
            logged = render_html(arts, lang=lang, root=tmp_path)  # no data here: the logged tables
            assert strip(logged) == strip(memory)
            if lang == "zh":
                again = render_html(without, lang=lang, root=ROOT)  # the data read again
                assert strip(again) == strip(memory)
            assert street in logged and f"<h3>{district}</h3>" in logged and "<h3>all</h3>" not in logged
            c = panel.counts
            jan21 = c.loc[(c["area_id"] == "ZH-XZ-XW") & (c["category"] == "fires")
                          & (c["period"] == pd.Timestamp("2021-01-01")), "count"]
            assert f"<td>{int(jan21.iloc[0]):,}</td>" in logged  # last year's January
            assert memory.count("data:image/png;base64,") == 1
        # without the logged tables and without the data: codes (the CLI says why)
        bare = render_html(without, lang="en", root=tmp_path)
        assert "Xiangwan Subdistrict" not in bare and "<td>ZH-XZ-XW</td>" in bare
