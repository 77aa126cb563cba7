"""Option values that crashed with exit 1 (issue 16.9): seeds out of range, an output path that cannot
be written, a deeply nested TOML config. Each is exit 2 naming the option or file, before any work."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from riskmodel.cli import main

from .conftest import sha


@pytest.mark.parametrize("seed", ["-1", str(2**32), str(10**30)])
@pytest.mark.parametrize("command", ["forecast", "backtest", "claim", "sample"])
def test_a_seed_outside_0_to_2_32_minus_1_is_refused_naming_the_option(tmp_path, counts, capsys, command, seed):
    args = {"forecast": ["forecast", "--counts", str(counts), "--out", str(tmp_path / "f.csv")],
            "backtest": ["backtest", "--counts", str(counts), "--out", str(tmp_path / "bt")],
            "claim": ["claim", "--counts", str(counts), "--area", "A1", "--category", "theft",
                      "--intervention", "2020-01-01", "--out", str(tmp_path / "c")],
            "sample": ["sample", "--out", str(tmp_path / "s")]}[command]
    assert main([*args, "--seed", seed, "--no-track"]) == 2
    err = capsys.readouterr().err
    assert f"--seed must be a whole number from 0 to {2**32 - 1}" in err and seed in err
    assert "internal error" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counts.csv"]  # nothing written


def test_the_largest_seed_is_accepted(tmp_path, counts):
    out = tmp_path / "f.csv"  # gbm: a model that draws random numbers (scikit-learn takes 0..2**32-1)
    assert main(["forecast", "--counts", str(counts), "--out", str(out), "--h", "1", "--model", "gbm",
                 "--seed", str(2**32 - 1), "--no-track"]) == 0
    assert out.exists()


@pytest.mark.parametrize("command", ["forecast", "detect"])
def test_an_output_under_a_regular_file_is_refused_naming_it(tmp_path, counts, capsys, command):
    other = tmp_path / "notes.txt"
    other.write_text("x")
    out = other / "sub" / "f.csv"
    assert main([command, "--counts", str(counts), "--out", str(out), "--no-track"]) == 2
    err = capsys.readouterr().err
    assert f"--out: {other} is a file, not a folder" in err
    assert other.read_text() == "x"


def _unwritable_folder(tmp_path: Path) -> Path:
    d = tmp_path / "locked"
    d.mkdir()
    d.chmod(0o555)
    if not os.access(d, os.W_OK):
        return d
    if Path("/proc/sys").is_dir() and not os.access("/proc/sys", os.W_OK):  # as root: a read-only kernel folder
        return Path("/proc/sys")
    pytest.skip("no folder this user cannot write in")


def test_an_output_in_an_unwritable_folder_is_refused_before_any_work(tmp_path, counts, capsys):
    folder = _unwritable_folder(tmp_path)
    try:
        assert main(["forecast", "--counts", str(counts), "--out", str(folder / "f.csv"), "--no-track"]) == 2
        err = capsys.readouterr().err
        assert f"--out: folder {folder} cannot be written in" in err
        assert main(["backtest", "--counts", str(counts), "--out", str(folder / "new" / "bt"), "--no-track"]) == 2
        assert f"folder {folder} cannot be written in" in capsys.readouterr().err
    finally:
        (tmp_path / "locked").chmod(0o755)


def _deep_toml(path: Path, depth: int) -> Path:
    path.write_text("a = " + "[" * depth + "]" * depth + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("depth", [60, 100_000])
@pytest.mark.parametrize("command", ["run", "index build"])
def test_a_deeply_nested_toml_config_is_refused_naming_the_file(tmp_path, capsys, command, depth):
    cfg = _deep_toml(tmp_path / "deep.toml", depth)
    before = sha(cfg)
    args = ["run", str(cfg)] if command == "run" else ["index", "build", "--config", str(cfg)]
    assert main([*args, "--out", str(tmp_path / "o"), "--no-track"]) == 2
    err = capsys.readouterr().err
    assert f"{cfg}: not a usable" in err and "nested more than 50 levels deep" in err
    assert sha(cfg) == before
