"""Values the index must refuse (issue 16, items 7 and 9) and weights it must warn about (issue 14, item 7)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.cli import main
from riskmodel.index.build import DOMINANT_SHARE, build_index
from riskmodel.index.config import parse_config

SPEC = pd.DataFrame({"indicator": ["a", "b", "c", "P", "Q", "Index"], "parent": ["P", "P", "Q", "Index", "Index", ""],
                     "direction": [1, -1, 1, 1, 1, 1], "weight": [0.5, 0.5, 1.0, 0.6, 0.4, 1.0]})


def _long(period: bool = True) -> pd.DataFrame:
    vals = {"a": [1, 2, 3, 4], "b": [4, 3, 5, 1], "c": [2, 2, 7, 9]}
    d = pd.DataFrame([{"area_id": f"S{i}", "indicator": k, "value": v} for k, vs in vals.items() for i, v in enumerate(vs)])
    if period:
        d.insert(1, "period", "2020-01-01")
    return d.astype({"value": object})


def _run(tmp_path, capsys, data: pd.DataFrame, body: str = "", spec: pd.DataFrame = SPEC):
    spec.to_csv(tmp_path / "spec.csv", index=False)
    data.to_csv(tmp_path / "long.csv", index=False)
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(f'[data]\nindicators = "{tmp_path / "long.csv"}"\nspec = "{tmp_path / "spec.csv"}"\n' + body,
                   encoding="utf-8")
    code = main(["index", "build", "--config", str(cfg), "--out", str(tmp_path / "out"), "--no-track"])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("value", ["inf", "-inf", "Infinity"])
def test_an_infinite_indicator_value_is_refused_with_its_line(tmp_path, capsys, value):
    d = _long()
    d.loc[5, "value"] = value  # line 7 of the file (header + 0-based row 5)
    code, _, err = _run(tmp_path, capsys, d)
    assert code == 2, err
    assert "long.csv" in err and "column 'value'" in err and "not a finite number" in err and "line 7" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("period, why", [("9999-01-01", "outside 1900-2199"), ("1066-10-14", "outside 1900-2199"),
                                         ("9999", "not a date"), ("someday", "not a date")])
def test_an_implausible_period_is_refused_with_its_line(tmp_path, capsys, period, why):
    d = _long()
    d.loc[2, "period"] = period
    code, _, err = _run(tmp_path, capsys, d)
    assert code == 2, err
    assert "column 'period'" in err and why in err and "line 4" in err and period in err


def test_an_implausible_idata_time_is_refused(tmp_path, capsys):
    meta = pd.DataFrame({"iCode": ["a", "b", "Index"], "Parent": ["Index", "Index", ""], "Direction": [1, 1, 1],
                         "Weight": [1, 1, 1], "Level": [1, 1, 2], "Type": ["Indicator", "Indicator", "Aggregate"]})
    data = pd.DataFrame({"uCode": ["X", "Y", "X", "Y"], "Time": [2019, 2019, 2020, 9999], "a": [1, 2, 3, 4],
                         "b": [2, 1, 4, 3]})
    meta.to_csv(tmp_path / "imeta.csv", index=False)
    data.to_csv(tmp_path / "idata.csv", index=False)
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(f'[data]\nidata = "{tmp_path / "idata.csv"}"\nimeta = "{tmp_path / "imeta.csv"}"\n', encoding="utf-8")
    code = main(["index", "build", "--config", str(cfg), "--out", str(tmp_path / "out"), "--no-track"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "column 'Time'" in err and "line 5" in err and "9999" in err


@pytest.mark.parametrize("body, needles", [
    ('[steps]\nnormalise = { method = "minmax", range = [5, 5] }\n', ["steps.normalise.range", "low < high", "[5, 5]"]),
    ('[steps]\nnormalise = { method = "minmax", range = [100, 0] }\n', ["steps.normalise.range", "low < high"]),
    ('[steps]\nnormalise = { method = "zscore", mean_sd = [0, 0] }\n', ["steps.normalise.mean_sd", "sd > 0"]),
    ('[steps]\nnormalise = { method = "prank", scale = -1 }\n', ["steps.normalise.scale", "> 0"]),
    ('[sensitivity]\nnormalise = [{ method = "minmax", range = [1, 1] }]\n', ["sensitivity.normalise", "low < high"]),
])
def test_degenerate_normalisation_settings_are_refused(tmp_path, capsys, body, needles):
    code, _, err = _run(tmp_path, capsys, _long(), body)
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err
    for n in needles:
        assert n in err, (n, err)


@pytest.mark.parametrize("period", ["yesterday", "9999-01-01", "2020-13-01"])
def test_a_period_that_is_not_a_date(tmp_path, capsys, period):
    """data.period crashed with exit 1 (DateParseError); now exit 2 naming the key."""
    SPEC.to_csv(tmp_path / "spec.csv", index=False)
    _long().to_csv(tmp_path / "long.csv", index=False)
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(f'[data]\nindicators = "{tmp_path / "long.csv"}"\nspec = "{tmp_path / "spec.csv"}"\n'
                   f'period = "{period}"\n', encoding="utf-8")
    code = main(["index", "build", "--config", str(cfg), "--out", str(tmp_path / "out"), "--no-track"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "data.period" in err and period in err and "internal error" not in err


def test_good_periods_and_ranges_still_build(tmp_path, capsys):
    code, out, err = _run(tmp_path, capsys, _long(), 'period = "2020-01-01"\n[steps]\nnormalise = { method = "minmax", range = [1, 10] }\n')
    assert code == 0, err
    s = pd.read_csv(tmp_path / "out" / "scores.csv")
    top = s[s["code"] == "a"]
    assert top["score"].min() == pytest.approx(1.0) and top["score"].max() == pytest.approx(10.0)


# --------------------------------------------------------------------------- entropy weights
def _sparse(tmp_path, n: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    vals = {"theft": rng.poisson(40, n), "fraud": rng.poisson(25, n), "assault": rng.poisson(15, n),
            "arson": np.where(np.arange(n) % 10 == 0, 5, 0)}  # 3 of 30 units non-zero
    spec = pd.DataFrame({"indicator": [*vals, "Index"], "parent": ["Index"] * 4 + [""], "direction": 1, "weight": 1})
    spec.to_csv(tmp_path / "spec.csv", index=False)
    return pd.DataFrame([{"area_id": f"S{i:02d}", "indicator": k, "value": int(v[i])} for k, v in vals.items()
                         for i in range(n)])


def _entropy_weight(x: np.ndarray) -> np.ndarray:
    """Entropy weights on the raw basis, by the textbook formula (the known answer)."""
    p = x / x.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        e = -np.nansum(np.where(p > 0, p * np.log(p), 0.0), axis=0) / np.log(len(x))
    return (1 - e) / (1 - e).sum()


def test_entropy_weights_that_put_most_weight_on_one_sparse_indicator_are_warned_about(tmp_path, capsys):
    data = _sparse(tmp_path)
    code, out, err = _run(tmp_path, capsys, data, '[weights]\nmethod = "entropy"\nbasis = "raw"\n',
                          spec=pd.read_csv(tmp_path / "spec.csv"))
    assert code == 0, err
    wide = data.pivot(index="area_id", columns="indicator", values="value")[["theft", "fraud", "assault", "arson"]]
    want = _entropy_weight(wide.to_numpy(float))
    assert want[3] > DOMINANT_SHARE  # the sparse indicator dominates (the known answer)
    line = f"entropy weights put {want[3]:.2f} of 'Index' on one indicator, 'arson'; 90% of its values are 0"
    assert line in err and line in out  # stderr, and the summary
    ww = pd.read_csv(tmp_path / "out" / "weight_warnings.csv")
    assert ww["code"].tolist() == ["arson"] and ww["weight"].iloc[0] == pytest.approx(want[3])
    assert ww["zero_share"].iloc[0] == pytest.approx(0.9)


def test_balanced_entropy_weights_and_static_weights_give_no_warning(tmp_path, capsys):
    full = _sparse(tmp_path)
    spec_full = pd.read_csv(tmp_path / "spec.csv")
    rng = np.random.default_rng(2)
    data = pd.DataFrame([{"area_id": f"S{i:02d}", "indicator": k, "value": int(rng.poisson(40))}
                         for k in ("theft", "fraud", "assault") for i in range(30)])
    spec = spec_full.query("indicator != 'arson'")
    code, out, err = _run(tmp_path, capsys, data, '[weights]\nmethod = "entropy"\nbasis = "raw"\n', spec=spec)
    w = pd.read_csv(tmp_path / "out" / "weights.csv").set_index("code")["within_parent"]
    assert w.drop("Index").max() < DOMINANT_SHARE
    assert code == 0 and "warning" not in err and "warning" not in out
    assert not (tmp_path / "out" / "weight_warnings.csv").exists()
    # a static weight above half is the user's choice: no warning
    code, out, err = _run(tmp_path, capsys, full, "", spec=spec_full.assign(weight=[5, 1, 1, 1, 1]))
    assert code == 0 and "warning" not in err


def test_the_warning_is_a_result_field(tmp_path):
    data = _sparse(tmp_path)
    data.to_csv(tmp_path / "long.csv", index=False)
    cfg = parse_config({"data": {"indicators": str(tmp_path / "long.csv"), "spec": str(tmp_path / "spec.csv")},
                        "weights": {"method": "entropy", "basis": "raw"}})
    res = build_index(cfg)
    assert len(res.warnings()) == 1 and "'arson'" in res.warnings()[0]
    assert res.warnings()[0] in res.summary()
    assert "weight_warnings.csv" in [a.name for a in res.artifacts()]


def test_an_out_folder_that_is_a_data_file_the_config_names_is_refused(tmp_path, capsys):
    spec_path = tmp_path / "spec.csv"
    SPEC.to_csv(spec_path, index=False)
    _long().to_csv(tmp_path / "long.csv", index=False)
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(f'[data]\nindicators = "{tmp_path / "long.csv"}"\nspec = "{spec_path}"\n', encoding="utf-8")
    before = (tmp_path / "long.csv").read_bytes()
    code = main(["index", "build", "--config", str(cfg), "--out", str(tmp_path / "long.csv"), "--no-track"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "long.csv" in err and "data.indicators" in err
    assert (tmp_path / "long.csv").read_bytes() == before
