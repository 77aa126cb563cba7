"""read_toml refuses a config nested too deeply, naming the file (issue 16.9)."""

from __future__ import annotations

import pytest

from riskmodel.config import MAX_TOML_DEPTH, read_toml
from riskmodel.errors import ConfigError


@pytest.mark.parametrize("text", [
    "a = " + "[" * 100_000 + "]" * 100_000,  # the parser itself runs out of stack (RecursionError)
    "a = " + "{b = " * 3000 + "1" + "}" * 3000,
    "a = " + "[" * MAX_TOML_DEPTH + "]" * MAX_TOML_DEPTH,  # parses, but one level deeper than the limit
])
def test_a_deeply_nested_config_is_a_config_error_naming_the_file(tmp_path, text) -> None:
    p = tmp_path / "deep.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=f"{p}: not a usable index config: tables or arrays nested more than"):
        read_toml(p, what="index config")


def test_nesting_up_to_the_limit_is_read(tmp_path) -> None:
    # the file's table is one level, each array one more: MAX_TOML_DEPTH - 1 arrays reach the limit
    k = MAX_TOML_DEPTH - 1
    p = tmp_path / "ok.toml"
    p.write_text("a = " + "[" * k + "1" + "]" * k + "\n[t.u.v]\nw = 1\n", encoding="utf-8")
    raw = read_toml(p)
    assert raw["t"] == {"u": {"v": {"w": 1}}}
    inner = raw["a"]
    for _ in range(k - 1):
        inner = inner[0]
    assert inner == [1]
