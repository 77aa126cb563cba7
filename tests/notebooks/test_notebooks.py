"""Execute every research notebook in notebooks/ (they must run cleanly on the sample city).

Each notebook is executed with nbclient in its own folder (as nbmake does), with a
120 s cell timeout; the notebooks use tracking off, so nothing is written to the repo.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from riskmodel.data.portland import default_dir

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NB_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("[0-9][0-9]_*.ipynb"))
# notebooks that read the peers' reference data beside the checkout (../shared/reference)
NEEDS_PORTLAND = {"06_portland_real_data"}


def test_every_py_notebook_has_its_ipynb() -> None:
    py = {p.stem for p in NB_DIR.glob("[0-9][0-9]_*.py")}
    nb = {p.stem for p in NOTEBOOKS}
    assert py == nb, f"unpaired notebooks: {sorted(py ^ nb)}"
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # anything that tracks despite Tracker(enabled=False) would land here, not in the repo
    if path.stem in NEEDS_PORTLAND and not default_dir().exists():
        pytest.skip(f"Portland reference data not found at {default_dir()} (shared/reference beside the checkout)")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlruns.db")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
        f"{path.name} is committed with outputs; strip them (jupytext --sync then clear)"
    )
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(NB_DIR)}})
    t0 = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - t0
    print(f"{path.name}: {elapsed:.1f} s")
