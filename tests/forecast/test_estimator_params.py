"""The forecast models keep scikit-learn's estimator parameter protocol without importing scikit-learn.

:class:`riskmodel.estimator.EstimatorParams` reimplements ``get_params``,
``set_params`` and the changed-parameters ``repr`` of
:class:`sklearn.base.BaseEstimator` (so that listing the models does not
import scikit-learn and scipy); these tests hold it to scikit-learn's own
behaviour on the same toy estimators, and check :func:`sklearn.base.clone`.
"""

from __future__ import annotations

import math

import pytest
from sklearn.base import BaseEstimator, clone

from riskmodel.estimator import EstimatorParams
from riskmodel.forecast import ETS, Auto, NegBinGLM


class _Inner(EstimatorParams):
    def __init__(self, a: int = 1, b: str = "x"):
        self.a = a
        self.b = b


class _Outer(EstimatorParams):
    def __init__(self, inner: object = None, c: float = math.nan, d: tuple = (1, 2)):
        self.inner = inner
        self.c = c
        self.d = d


class _SkInner(BaseEstimator):
    def __init__(self, a: int = 1, b: str = "x"):
        self.a = a
        self.b = b


class _SkOuter(BaseEstimator):
    def __init__(self, inner: object = None, c: float = math.nan, d: tuple = (1, 2)):
        self.inner = inner
        self.c = c
        self.d = d


def _pairs():
    return [
        (_Inner(), _SkInner()),
        (_Inner(a=3), _SkInner(a=3)),
        (_Outer(), _SkOuter()),
        (_Outer(c=0.5, d=(3,)), _SkOuter(c=0.5, d=(3,))),
    ]


@pytest.mark.parametrize("ours,theirs", _pairs())
def test_get_params_and_repr_as_scikit_learn(ours, theirs):
    assert repr(ours.get_params()) == repr(theirs.get_params())
    assert repr(ours).replace("_Inner", "X").replace("_Outer", "X") == \
        repr(theirs).replace("_SkInner", "X").replace("_SkOuter", "X")


def test_nested_parameters_as_scikit_learn():
    ours, theirs = _Outer(inner=_Inner()), _SkOuter(inner=_SkInner())
    assert sorted(ours.get_params(deep=True)) == sorted(theirs.get_params(deep=True))
    assert "inner__a" in ours.get_params(deep=True) and "inner__a" not in ours.get_params(deep=False)
    ours.set_params(inner__a=7, c=1.5)
    theirs.set_params(inner__a=7, c=1.5)
    assert ours.inner.a == theirs.inner.a == 7 and ours.c == theirs.c == 1.5
    assert ours.set_params() is ours
    with pytest.raises(ValueError) as mine:
        ours.set_params(zz=1)
    with pytest.raises(ValueError) as sk:
        theirs.set_params(zz=1)
    assert str(mine.value) == str(sk.value).replace("_SkOuter", "_Outer").replace("_SkInner", "_Inner")


def test_varargs_constructor_refused_as_scikit_learn():
    class Bad(EstimatorParams):
        def __init__(self, *args: int):
            self.args = args

    with pytest.raises(RuntimeError, match="no \\*args"):
        Bad().get_params()


@pytest.mark.parametrize("model", [ETS(trend="none"), NegBinGLM(family="quasipoisson"), Auto(candidates=("naive",))])
def test_clone_of_a_model(model):
    twin = clone(model)
    assert twin is not model and type(twin) is type(model)
    assert repr(twin.get_params()) == repr(model.get_params())
    assert repr(twin) == repr(model) != f"{type(model).__name__}()"


def test_models_module_import_needs_no_scikit_learn():
    import subprocess
    import sys

    code = ("import sys, riskmodel.forecast.base, riskmodel.forecast.models; "
            "print('sklearn' in sys.modules, 'scipy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
