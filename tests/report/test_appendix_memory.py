"""The study's appendix is rendered in memory: the same document as from the tracked run."""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from riskmodel.data import load_panel  # noqa: E402
from riskmodel.plotting import use_cjk_font  # noqa: E402
from riskmodel.report.appendix import StudyRecord, load_study, render_html  # noqa: E402
from riskmodel.tracking import Tracker  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _study(tracker: Tracker, cfg_text: str) -> tuple[str, dict]:
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
            assert memory.count("data:image/png;base64,") == 2
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
