"""A refused password stops every tracked command before it writes anything (issue 16, item 11)."""

from __future__ import annotations

import pytest
from tests.conftest import SAMPLE

from riskmodel.cli import main
from riskmodel.errors import InputError, Problem
from riskmodel.tracking import Tracker


def _refuse(self) -> str:  # noqa: ANN001 - stands in for Tracker.experiment_id
    raise InputError(Problem("the tracking server refused the credentials (HTTP 401 Unauthorized)"))


@pytest.mark.parametrize("argv", [
    ["detect", "--counts", str(SAMPLE / "counts_monthly.csv"), "--method", "farrington", "--out", "OUT/alarms.csv"],
    ["forecast", "--counts", str(SAMPLE / "counts_monthly.csv"), "--model", "naive", "--out", "OUT/fc.csv"],
])
def test_a_refused_password_writes_no_output(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(Tracker, "experiment_id", _refuse)
    argv = [a.replace("OUT", str(tmp_path / "out")) for a in argv]
    assert main(argv) == 2
    assert "refused the credentials" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
