"""A small TOML writer for riskmodel's own configs (the weight config a committee exports).

Python reads TOML (tomllib) but has no writer in the standard library, and the
configs written here are small, of known shapes (tables of strings, numbers,
booleans, lists and inline tables), so a few lines do instead of a new
dependency. Every text written is read back with tomllib by the caller's tests.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def key(k: str) -> str:
    """A key, bare when TOML allows it, else quoted."""
    return k if _BARE.match(k) else json.dumps(k, ensure_ascii=False)


def value(v: Any) -> str:  # noqa: ANN401 - any TOML value
    """A TOML value: string, bool, int, float, list or inline table."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{key(str(k))} = {value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def dumps(doc: Mapping[str, Any], header: str = "") -> str:
    """A document: top-level scalars first, then one ``[table]`` per top-level mapping
    (a list of mappings as ``[[table]]``); nested mappings inside a table are inline."""
    lines = [f"# {h}" if h else "#" for h in header.splitlines()] if header else []
    tables = []
    for k, v in doc.items():
        if isinstance(v, Mapping) or (isinstance(v, list) and v and all(isinstance(x, Mapping) for x in v)):
            tables.append((k, v))
        else:
            lines.append(f"{key(k)} = {value(v)}")
    for k, v in tables:
        items = v if isinstance(v, list) else [v]
        for item in items:
            lines.append("")
            lines.append(f"[[{key(k)}]]" if isinstance(v, list) else f"[{key(k)}]")
            lines.extend(f"{key(str(a))} = {value(b)}" for a, b in item.items())
    return "\n".join(lines) + "\n"
