"""The command line contract and the main job's pipeline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from riskmodel.cli import main
from riskmodel.pipeline import STEPS, Experiment, register_step, run_experiment
from riskmodel.tracking import Tracker

ROOT = Path(__file__).resolve().parents[1]


def test_help_lists_commands_and_each_has_help(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for cmd in ("sample", "validate", "run"):
        assert cmd in out
    for cmd in ("sample", "validate", "run"):
        assert main([cmd, "--help"]) == 0
        assert "--" in capsys.readouterr().out


def test_console_script_exit_codes(tmp_path):
    exe = Path(sys.executable).parent / "riskmodel"
    r = subprocess.run([str(exe), "validate", "--counts", str(tmp_path / "missing.csv")], capture_output=True, text=True)
    assert r.returncode == 2
    assert "does not exist" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([str(exe), "no-such-command"], capture_output=True, text=True)
    assert r.returncode == 2


def _config(tmp_path: Path, steps: str, extra: str = "") -> Path:
    cfg = tmp_path / "exp.toml"
    cfg.write_text(
        f"""
[study]
name = "t"
out = "{tmp_path / 'out'}"
{extra}
[data]
counts = "{ROOT / 'data/sample/counts_monthly.csv'}"
freq = "M"
areas = "{ROOT / 'data/sample/areas.csv'}"
{steps}
""",
        encoding="utf-8",
    )
    return cfg


def test_config_errors_name_the_key(tmp_path):
    cfg = _config(tmp_path, "[steps.validate]\n[steps.overview]\nlevl = 'district'\n[steps.nosuch]\n", "colour = 1")
    with pytest.raises(Exception) as err:
        Experiment.load(cfg)
    msg = str(err.value)
    assert "key 'study.colour': unknown key" in msg
    assert "key 'steps.overview.levl': unknown key" in msg
    assert "key 'steps.nosuch': unknown step" in msg
    assert main(["run", str(cfg), "--no-track"]) == 2


def test_run_logs_parent_and_child_runs_and_writes_outputs(tmp_path):
    cfg = _config(tmp_path, "[steps.validate]\n[steps.overview]\n")
    tracker = Tracker(experiment="t-pipeline")
    summary = run_experiment(cfg, tracker=tracker, progress=False)
    assert (tmp_path / "out" / "overview" / "counts_by_district.png").stat().st_size > 10_000
    c = MlflowClient(tracking_uri=tracker.uri)
    parent = c.get_run(summary["run_id"])
    assert parent.info.status == "FINISHED"
    assert len(parent.data.tags["input.counts"]) == 16
    kids = c.search_runs([parent.info.experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert sorted(r.data.tags["riskmodel.step"] for r in kids) == ["overview", "validate"]
    v = next(r for r in kids if r.data.tags["riskmodel.step"] == "validate")
    assert v.data.metrics["n_series"] == 225


def test_failing_step_marks_runs_failed_and_leaves_no_outputs(tmp_path):
    @register_step("appendix")
    def boom(ctx, cfg, run):
        (ctx.step_dir("appendix") / "half.csv").write_text("half")
        raise RuntimeError("step exploded")

    try:
        cfg = _config(tmp_path, "[steps.validate]\n[steps.appendix]\n")
        tracker = Tracker(experiment="t-fail")
        with pytest.raises(RuntimeError, match="step exploded"):
            run_experiment(cfg, tracker=tracker, progress=False)
        assert not (tmp_path / "out").exists()
        c = MlflowClient(tracking_uri=tracker.uri)
        exp = c.get_experiment_by_name("t-fail")
        runs = c.search_runs([exp.experiment_id])
        assert {r.info.status for r in runs} == {"FAILED", "FINISHED"}
        failed = [r for r in runs if r.info.status == "FAILED"]
        assert {r.info.run_name for r in failed} == {"study:t", "t:appendix"}
        assert all(r.data.tags["error.message"] == "step exploded" for r in failed)
    finally:
        STEPS.pop("appendix", None)
        from riskmodel.pipeline import load_steps

        load_steps()


def test_main_job_on_sample_city_no_track(tmp_path):
    """The README's main job config, with only the foundation's steps (the others have their own tests)."""
    import tomllib

    exp = tomllib.loads((ROOT / "experiments" / "sample.toml").read_text(encoding="utf-8"))
    assert {"validate", "overview", "forecast", "alerts", "index", "claims", "appendix"} <= set(exp["steps"])
    data = "\n".join(f'{k} = "{ROOT / v}"' for k, v in exp["data"].items() if k != "freq")
    cfg = tmp_path / "sample.toml"
    cfg.write_text(f'[study]\nname = "sample"\n[data]\nfreq = "D"\n{data}\n[steps.validate]\n[steps.overview]\n',
                   encoding="utf-8")
    out = tmp_path / "o"
    assert main(["run", str(cfg), "--out", str(out), "--no-track", "--no-progress"]) == 0
    assert (out / "validate" / "data_summary.csv").exists()
    assert (out / "overview" / "counts_by_district.png").exists()


def test_command_listing_matches_the_commands_and_imports_no_library():
    """`riskmodel --help` lists COMMANDS without importing the libraries; each entry is its command's help."""
    code = ("import sys; from riskmodel.cli import main; main(['--help']); "
            "print(sorted(m for m in sys.modules if m.startswith('riskmodel.') and m.split('.')[1] in "
            "('forecast', 'alerts', 'impact', 'index', 'hotspots', 'pipeline', 'tracking', 'report')))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip().endswith("[]"), r.stdout[-300:]
    from riskmodel.cli import COMMANDS, load_command

    for name, (_, first_line) in COMMANDS.items():
        real = " ".join((load_command(name).help or "").strip().split("\n\n")[0].split())
        assert real.startswith(first_line), (name, real[:120])
