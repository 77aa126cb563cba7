"""Bad input: a clear message and exit code 2, never a traceback."""

from __future__ import annotations

import pandas as pd
import pytest

from riskmodel.cli import main

SPEC = pd.DataFrame({
    "indicator": ["a", "b", "c", "P", "Q", "Index"],
    "parent": ["P", "P", "Q", "Index", "Index", ""],
    "direction": [1, -1, 1, 1, 1, 1],
    "weight": [0.5, 0.5, 1.0, 0.6, 0.4, 1.0],
})


def _long(values=None):
    vals = values or {"a": [1, 2, 3, 4], "b": [4, 3, 5, 1], "c": [2, 2, 7, 9]}
    return pd.DataFrame([{"area_id": f"S{i}", "indicator": k, "value": v}
                         for k, vs in vals.items() for i, v in enumerate(vs)])


def _run(tmp_path, capsys, toml_body, spec=SPEC, data=None, cmd="build"):
    spec.to_csv(tmp_path / "spec.csv", index=False)
    (data if data is not None else _long()).to_csv(tmp_path / "long.csv", index=False)
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(f'[data]\nindicators = "{tmp_path / "long.csv"}"\nspec = "{tmp_path / "spec.csv"}"\n' + toml_body,
                   encoding="utf-8")
    args = ["index", cmd, "--config", str(cfg), "--out", str(tmp_path / "out"), "--no-track"]
    if cmd == "sensitivity":
        args += ["--n", "10"]
    code = main(args)
    err = capsys.readouterr().err
    return code, err


def test_a_good_config_builds(tmp_path, capsys):
    code, err = _run(tmp_path, capsys, "[weights]\nsum_to = 1.0\n")
    assert code == 0, err
    assert (tmp_path / "out" / "scores.csv").exists()


@pytest.mark.parametrize(
    "body, needles",
    [
        ('[steps]\nnormalise = { method = "minmaxx" }\n', ["steps.normalise.method", "unknown value 'minmaxx'", "zscore"]),
        ('[steps]\naggregate = { method = "median" }\n', ["steps.aggregate.method", "geometric", "copeland"]),
        ('[weights]\nmethod = "magic"\n', ["weights.method", "entropy", "critic", "ahp"]),
        ('[steps]\nnormalize = { method = "minmax" }\n', ["steps.normalize", "unknown key"]),
        ('[weights]\nsum_to = 2.0\n', ["children of 'P'", "sum to 1", "declared to sum to 2"]),
        ('[indicators]\ndrop = ["zz"]\n', ["indicators.drop", "zz"]),
        ('[steps]\nimpute = { method = "group_mean", group = "district" }\n', ["district"]),
    ],
)
def test_config_mistakes_are_named(tmp_path, capsys, body, needles):
    code, err = _run(tmp_path, capsys, body)
    assert code == 2
    assert "Traceback" not in err
    for n in needles:
        assert n in err, (n, err)


def test_pairwise_matrix_not_reciprocal(tmp_path, capsys):
    body = ('[weights]\nmethod = "ahp"\n[[weights.ahp]]\nparent = "Index"\ncodes = ["P", "Q"]\n'
            'matrix = [[1, 3], [3, 1]]\n')
    code, err = _run(tmp_path, capsys, body)
    assert code == 2 and "not reciprocal" in err and "(P, Q) = 3" in err


def test_pairwise_matrix_with_a_zero(tmp_path, capsys):
    body = ('[weights]\nmethod = "ahp"\n[[weights.ahp]]\nparent = "Index"\ncodes = ["P", "Q"]\n'
            'matrix = [[1, 0], [2, 1]]\n')
    code, err = _run(tmp_path, capsys, body)
    assert code == 2 and "positive" in err


def test_indicator_missing_from_the_data(tmp_path, capsys):
    code, err = _run(tmp_path, capsys, "", data=_long({"a": [1, 2, 3], "b": [3, 2, 1]}))
    assert code == 2 and "missing from the data: c" in err


def test_constant_indicator(tmp_path, capsys):
    code, err = _run(tmp_path, capsys, "", data=_long({"a": [1, 2, 3], "b": [3, 2, 1], "c": [5, 5, 5]}))
    assert code == 2 and "constant indicator" in err and ": c" in err


def test_parent_that_does_not_exist(tmp_path, capsys):
    spec = SPEC.copy()
    spec.loc[2, "parent"] = "R"
    code, err = _run(tmp_path, capsys, "", spec=spec)
    assert code == 2 and "parent does not exist" in err and "line 4 ('R')" in err


def test_unknown_sensitivity_alternative(tmp_path, capsys):
    code, err = _run(tmp_path, capsys, '[sensitivity]\nnormalise = ["minmax", "softmax"]\n', cmd="sensitivity")
    assert code == 2 and "sensitivity.normalise" in err and "softmax" in err
