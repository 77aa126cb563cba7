"""scikit-learn's estimator parameter protocol, without importing scikit-learn.

The forecast models (:class:`riskmodel.forecast.base.CountForecaster`) and the
feature transformers (:class:`riskmodel.features.builders.PanelTransformer`)
have scikit-learn's estimator shape: :class:`EstimatorParams` (see why it is
not :class:`sklearn.base.BaseEstimator` there). tests/forecast/test_estimator_params.py
holds it to scikit-learn's own behaviour.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np


class EstimatorParams:
    """scikit-learn's estimator parameter protocol, without importing scikit-learn.

    ``get_params(deep)``, ``set_params(**params)`` (``a__b`` for a nested
    estimator's parameter) and the ``Name(changed=value)`` repr, exactly as
    :class:`sklearn.base.BaseEstimator` defines them: the parameters are the
    constructor's keyword arguments, stored under their own names. So
    :func:`sklearn.base.clone`, grid searches and ``repr`` work on every model.

    Why not subclass ``BaseEstimator``: importing :mod:`sklearn.base` imports
    scipy (about 1-2 s of CPU on this project's machines), and the pipeline's
    and the command line's start import the modules that define estimators
    (the feature transformers, the forecast models' base), so every command
    would pay for it before any work; scikit-learn is imported where it
    computes something (the gbm model), not to name parameters.
    """

    @classmethod
    def _get_param_names(cls) -> list[str]:
        """The constructor's parameter names, sorted (no ``*args``: a programming error)."""
        init = cls.__init__
        if init is object.__init__:
            return []
        params = [p for p in inspect.signature(init).parameters.values()
                  if p.name != "self" and p.kind != p.VAR_KEYWORD]
        for p in params:
            if p.kind == p.VAR_POSITIONAL:
                raise RuntimeError(f"{cls.__name__}: an estimator names its parameters in __init__ (no *args)")
        return sorted(p.name for p in params)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters and their values (``deep``: with nested estimators' as ``a__b``)."""
        out: dict[str, Any] = {}
        for key in self._get_param_names():
            value = getattr(self, key)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{key}__{k}", v) for k, v in value.get_params().items())
            out[key] = value
        return out

    def set_params(self, **params: Any) -> EstimatorParams:  # noqa: ANN401 - any parameter value
        """Set parameters (``a__b`` for a nested estimator's); returns self. Unknown names: ValueError."""
        if not params:
            return self
        valid = self.get_params(deep=True)
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            head, sep, sub = key.partition("__")
            if head not in valid:
                raise ValueError(f"Invalid parameter {head!r} for estimator {self}. Valid parameters are: "
                                 f"{self._get_param_names()!r}.")
            if sep:
                nested.setdefault(head, {})[sub] = value
            else:
                setattr(self, head, value)
                valid[head] = value
        for head, sub_params in nested.items():
            valid[head].set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        """``Name(p=v, ...)`` with the parameters that differ from the constructor's defaults."""
        sig = inspect.signature(type(self).__init__).parameters
        changed = []
        for key, value in self.get_params(deep=False).items():
            default = sig[key].default if key in sig else inspect.Parameter.empty
            # as scikit-learn's print_changed_only: compared by repr (arrays, NaN); NaN equals NaN
            if default is inspect.Parameter.empty or (
                    repr(value) != repr(default) and not (_is_nan(value) and _is_nan(default))):
                changed.append(f"{key}={value!r}")
        return f"{type(self).__name__}({', '.join(changed)})"


def _is_nan(x: object) -> bool:
    return isinstance(x, float | np.floating) and bool(np.isnan(x))


__all__ = ["EstimatorParams"]
