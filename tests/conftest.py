"""Shared fixtures: paths to the sample city and the peers' reference data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
REFERENCE = ROOT.parent / "shared" / "reference"


@pytest.fixture(autouse=True, scope="session")
def _isolated_tracking(tmp_path_factory):
    """The suite logs to one throwaway MLflow store, never to ./mlruns.db.

    One store for the session: creating a SQLite store runs MLflow's
    migrations, which takes a second or two.
    """
    d = tmp_path_factory.mktemp("mlflow")
    old = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{d / 'mlruns.db'}"
    yield
    if old is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = old


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    if not REFERENCE.exists():
        pytest.skip(f"reference data not found at {REFERENCE}")
    return REFERENCE
