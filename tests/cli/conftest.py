"""Small inputs for the command-line tests."""

from __future__ import annotations

import hashlib
import sys
import types
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import pytest
import typer

import riskmodel.cli as cli


def tiny_counts(path: Path, areas: tuple[str, ...] = ("A1", "A2"), months: int = 48) -> Path:
    """Monthly counts of one category in ``areas`` (Poisson, mean 20, seed 0), written as CSV."""
    rng = np.random.default_rng(0)
    periods = pd.date_range("2018-01-01", periods=months, freq="MS").strftime("%Y-%m-%d")
    rows = [(a, "theft", p, int(rng.poisson(20))) for a in areas for p in periods]
    pd.DataFrame(rows, columns=["area_id", "category", "period", "count"]).to_csv(path, index=False)
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def counts(tmp_path: Path) -> Path:
    return tiny_counts(tmp_path / "counts.csv")


@pytest.fixture
def fake_command(monkeypatch):
    """Add a command ``fake`` to ``riskmodel`` whose body is the function given (a new command
    module, as a developer would add one): ``fake_command(body)`` then ``main(["fake", ...])``."""
    def install(body, *, with_paths: bool = False) -> None:
        module = types.ModuleType("riskmodel.cli._fake_for_test")

        def register(app: typer.Typer) -> None:
            if with_paths:
                @app.command("fake")
                def fake(source: Annotated[Path, typer.Option("--source")],
                         out: Annotated[Path, typer.Option("--out")],
                         seed: Annotated[int, typer.Option("--seed")] = 0) -> None:
                    body(source=source, out=out, seed=seed)
            else:
                @app.command("fake")
                def fake() -> None:
                    body()

        module.register = register
        monkeypatch.setitem(sys.modules, "riskmodel.cli._fake_for_test", module)
        monkeypatch.setitem(cli.COMMANDS, "fake", ("_fake_for_test", "A command added by a test."))
        cli.load_command.cache_clear()

    yield install
    cli.load_command.cache_clear()
