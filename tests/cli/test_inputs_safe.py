"""Inputs are never overwritten: an output that is an input, or lies inside an input folder, is refused
with exit 2 before any work, in every command (issue 16.4)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from riskmodel.cli import main

from .conftest import sha, tiny_counts


def _paths(tmp_path: Path, counts: Path, how: str) -> tuple[Path, Path]:
    """(the path given as input, the path given as --out) for each way of naming the same file."""
    if how == "same":
        return counts, counts
    if how == "relative":  # the same file, spelled differently
        return counts, Path(os.path.relpath(counts.parent / "." / counts.name))
    link = tmp_path / "link.csv"
    if how == "out_is_a_symlink_to_the_input":
        link.symlink_to(counts)
        return counts, link
    if how == "input_is_a_symlink_to_out":
        link.symlink_to(counts)
        return link, counts
    if how == "hard_link":
        os.link(counts, link)
        return link, counts
    raise AssertionError(how)


HOWS = ["same", "relative", "out_is_a_symlink_to_the_input", "input_is_a_symlink_to_out", "hard_link"]


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("command", ["forecast", "detect"])
def test_out_equal_to_the_counts_is_refused_and_the_counts_are_unchanged(tmp_path, counts, capsys, command, how):
    given, out = _paths(tmp_path, counts, how)
    before = sha(counts)
    assert main([command, "--counts", str(given), "--out", str(out), "--no-track"]) == 2
    err = capsys.readouterr().err
    assert "--out is the input file given to --counts" in err and "never overwrites" in err
    assert "Traceback" not in err
    assert sha(counts) == before


def _args(command: str, inp: Path, out: Path) -> list[str]:
    """Every command with an output, with ``inp`` as one of its input files."""
    return {
        "backtest": ["backtest", "--counts", str(inp), "--out", str(out)],
        "claim": ["claim", "--counts", str(inp), "--area", "A1", "--category", "theft",
                  "--intervention", "2020-01-01", "--out", str(out)],
        "grid": ["grid", "--events", str(inp), "--polygons", str(inp), "--id-field", "id", "--cell-size", "100",
                 "--out", str(out)],
        "hotspots": ["hotspots", "--events", str(inp), "--polygons", str(inp), "--id-field", "id",
                     "--cell-size", "100", "--coverage", "1", "--out", str(out)],
        "index build": ["index", "build", "--config", str(inp), "--out", str(out)],
        "index sensitivity": ["index", "sensitivity", "--config", str(inp), "--out", str(out)],
        "run": ["run", str(inp), "--out", str(out)],
    }[command] + ([] if command == "grid" else ["--no-track"])


@pytest.mark.parametrize("command", ["backtest", "claim", "grid", "hotspots", "index build", "index sensitivity", "run"])
def test_every_command_refuses_an_output_over_one_of_its_inputs(tmp_path, counts, capsys, command):
    before = sha(counts)
    assert main(_args(command, counts, counts)) == 2
    assert "is the input file given to" in capsys.readouterr().err
    assert sha(counts) == before


def test_a_command_added_later_gets_the_check_too(tmp_path, counts, fake_command, capsys):
    ran = []
    fake_command(lambda **kw: ran.append(kw), with_paths=True)
    assert main(["fake", "--source", str(counts), "--out", str(counts)]) == 2
    assert "--out is the input file given to --source" in capsys.readouterr().err
    assert ran == []
    assert main(["fake", "--source", str(counts), "--out", str(tmp_path / "o.csv")]) == 0
    assert len(ran) == 1


def test_a_study_output_inside_an_input_folder_or_over_a_data_file_is_refused(tmp_path, counts, capsys):
    truth = tmp_path / "truth"
    truth.mkdir()
    (truth / "effects.csv").write_text("a\n1\n")
    cfg = tmp_path / "exp.toml"
    cfg.write_text(f'[study]\nname = "t"\nout = "{truth / "out"}"\n[data]\ncounts = "{counts}"\nfreq = "M"\n'
                   f'truth = "{truth}"\n[steps.validate]\n', encoding="utf-8")
    assert main(["run", str(cfg), "--no-track", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "study.out lies inside the input folder given to data.truth" in err
    assert sorted(p.name for p in truth.iterdir()) == ["effects.csv"]
    assert main(["run", str(cfg), "--out", str(counts), "--no-track", "--no-progress"]) == 2
    assert "--out is the input file given to data.counts" in capsys.readouterr().err


def test_an_output_folder_holding_the_inputs_is_allowed_but_never_replaces_one(tmp_path, capsys):
    """Writing new files beside the inputs is fine; a file that would replace one is refused at
    commit, with nothing written (the names of a folder's files are known only then)."""
    data = tmp_path / "data"
    data.mkdir()
    counts = tiny_counts(data / "forecasts.csv")  # named like one of backtest's outputs
    before = sha(counts)
    assert main(["backtest", "--counts", str(counts), "--out", str(data), "--h", "3", "--model", "snaive",
                 "--no-track"]) == 2
    err = capsys.readouterr().err
    assert "would replace the input given to --counts" in err and "nothing was written" in err
    assert sha(counts) == before
    assert sorted(p.name for p in data.iterdir()) == ["forecasts.csv"]
