"""The result protocol's artifacts and their one writer (riskmodel.results)."""

from __future__ import annotations

import gzip

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from riskmodel.results import Artifact, level_fraction, table_bytes, write_artifacts  # noqa: E402


def test_artifacts_are_written_whole_with_the_conventions(tmp_path) -> None:
    df = pd.DataFrame({"a": [1, 2], "b": [0.1, float("nan")]})
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    arts = [Artifact("t.csv", df), Artifact("sub/t.csv.gz", df), Artifact("note.txt", "平安\n"),
            Artifact("figures/f.png", fig, savefig={"dpi": 50})]
    assert [a.kind for a in arts] == ["table", "table", "text", "figure"]
    paths = write_artifacts(arts, tmp_path / "out")
    assert [p.relative_to(tmp_path / "out").as_posix() for p in paths] == [a.name for a in arts]
    assert (tmp_path / "out" / "t.csv").read_bytes() == b"a,b\n1,0.1\n2,\n"
    assert gzip.decompress((tmp_path / "out" / "sub" / "t.csv.gz").read_bytes()) == b"a,b\n1,0.1\n2,\n"
    # no time stamp in the gzip header: the same table, the same bytes
    assert table_bytes(df, "x.csv.gz") == table_bytes(df, "y.csv.gz")
    assert (tmp_path / "out" / "note.txt").read_text(encoding="utf-8") == "平安\n"
    assert (tmp_path / "out" / "figures" / "f.png").read_bytes()[:4] == b"\x89PNG"
    plt.close(fig)


def test_a_failing_artifact_writes_nothing(tmp_path) -> None:
    class Broken:
        def savefig(self, *a, **k):
            raise RuntimeError("render failed")

    with pytest.raises(RuntimeError, match="render failed"):
        write_artifacts([Artifact("a.csv", pd.DataFrame({"x": [1]})), Artifact("b.png", Broken())], tmp_path / "o")
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
    with pytest.raises(ValueError, match="repeated"):
        write_artifacts([Artifact("a.txt", "x"), Artifact("a.txt", "y")], tmp_path / "o2")


def test_levels_in_percent_or_as_fractions() -> None:
    assert level_fraction(95) == level_fraction(0.95) == pytest.approx(0.95)
    with pytest.raises(Exception, match="between 0 and 100"):
        level_fraction(120)
