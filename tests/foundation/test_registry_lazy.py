"""Methods registered by reference (``"package.module:attribute"``), imported on first use."""

from __future__ import annotations

import subprocess
import sys

import pytest

from riskmodel.registry import Option, Registry, by_reference, lazy_exports, resolve

LABELS = {"zh": "甲", "en": "a"}


def test_resolve_names_an_attribute_of_a_module():
    import os.path

    assert resolve("os.path:join") is os.path.join
    assert resolve("riskmodel.registry:Registry.register") is Registry.register  # dotted attribute
    with pytest.raises(ValueError, match="module:attribute"):
        resolve("os.path.join")
    with pytest.raises(AttributeError):
        resolve("os.path:no_such_function")


def test_a_target_by_reference_is_imported_on_first_use_and_kept():
    r: Registry = Registry("thing", "--thing")
    spec = r.register("j", "json:dumps", labels=LABELS, options=(Option("indent", int, None),))
    import json

    assert spec.lazy and spec.ref == "json:dumps"
    assert spec.target is json.dumps and spec.target is json.dumps
    assert r.register("k", json.loads, labels=LABELS).target is json.loads  # an object still works
    assert not r["k"].lazy
    with pytest.raises(ValueError, match="package.module:attribute"):
        r.register("bad", "json.dumps", labels=LABELS)


def test_listing_and_checking_methods_by_reference_imports_nothing():
    # a module that is not imported yet stays so until the method is used
    code = ("import sys; from riskmodel.registry import Registry, Option\n"
            "r = Registry('t', '--t'); r.register('x', 'wave:open', labels={'zh': 'x', 'en': 'x'})\n"
            "r.check('x'); r.check_options('x', {}); r.choices_help(); r.labels('zh')\n"
            "print('wave' in sys.modules); r['x'].target; print('wave' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_by_reference_calls_the_function_named():
    parse = by_reference("json:loads")
    assert parse('{"a": 1}') == {"a": 1} and parse.__name__ == "loads"
    with pytest.raises(ValueError, match="package.module:function"):
        by_reference("json.loads")


def test_lazy_exports_import_a_name_when_first_read():
    import types

    mod = types.ModuleType("riskmodel_test_lazy_pkg")
    sys.modules[mod.__name__] = mod
    try:
        mod.__getattr__, mod.__dir__ = lazy_exports(mod.__name__, {"dumps": "json"})
        import json

        assert mod.dumps is json.dumps and "dumps" in vars(mod)  # kept as a plain attribute after
        assert "dumps" in dir(mod)
        with pytest.raises(AttributeError, match="no attribute 'nope'"):
            _ = mod.nope
    finally:
        del sys.modules[mod.__name__]
