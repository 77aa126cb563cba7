"""Errors that riskmodel raises on purpose.

Every problem with a user's input is an :class:`InputError` (exit code 2 on the
command line) carrying one or more :class:`Problem` records, each naming the
file, the column and up to five offending rows. Anything else that escapes is
an internal error (exit code 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

MAX_ROWS_SHOWN = 5


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input.

    Parameters
    ----------
    message : str
        What is wrong, in plain words.
    source : str, optional
        The file (or table name) where the problem is.
    column : str, optional
        The column concerned.
    rows : sequence of int, optional
        Offending row numbers as a user sees them in the file (1-based, the
        header being line 1, so the first data row is line 2). Only the first
        five are shown.
    values : sequence, optional
        The offending values, aligned with ``rows``.
    """

    message: str
    source: str | None = None
    column: str | None = None
    rows: Sequence[int] = field(default_factory=tuple)
    values: Sequence[object] = field(default_factory=tuple)
    n_rows: int | None = None

    @classmethod
    def at_rows(
        cls,
        message: str,
        *,
        index: Sequence[int],
        source: str | None = None,
        column: str | None = None,
        values: Sequence[object] = (),
        first_line: int = 2,
    ) -> Problem:
        """A problem at table rows given by 0-based position (line = position + 2:
        the header is line 1)."""
        rows = [int(i) + first_line for i in index]
        return cls(message, source=source, column=column, rows=rows, values=list(values), n_rows=len(rows))

    def __str__(self) -> str:
        where = []
        if self.source:
            where.append(str(self.source))
        if self.column:
            where.append(f"column '{self.column}'")
        head = ": ".join([", ".join(where), self.message]) if where else self.message
        rows = list(self.rows)[:MAX_ROWS_SHOWN]
        if rows:
            total = self.n_rows if self.n_rows is not None else len(self.rows)
            vals = list(self.values)[:MAX_ROWS_SHOWN]
            if vals:
                shown = ", ".join(f"line {r} ({v!r})" for r, v in zip(rows, vals, strict=False))
            else:
                shown = ", ".join(f"line {r}" for r in rows)
            more = f" and {total - len(rows)} more" if total > len(rows) else ""
            head += f" [{total} row{'s' if total != 1 else ''}: {shown}{more}]"
        return head


class RiskmodelError(Exception):
    """Base class of riskmodel's own errors."""


class InputError(RiskmodelError, ValueError):
    """Bad input: a file, a column, an option or a config key is wrong.

    Holds every :class:`Problem` found, so that a user sees them all at once.
    """

    def __init__(self, problems: Problem | str | Iterable[Problem]):
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__(self.render())

    def render(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        return f"{len(self.problems)} problems:\n" + "\n".join(f"  - {p}" for p in self.problems)


class ConfigError(InputError):
    """A configuration file or option is wrong (names the key)."""


def problems_from_validation(err: object, source: str, where: str = "") -> list[Problem]:
    """Turn a pydantic ``ValidationError`` into Problems naming the full key.

    ``where`` prefixes the key (``steps.forecast``); unknown keys say "unknown
    key", missing ones "required key is missing". A union field (``str | table``)
    reports one error per member: repeated messages are kept once.
    """
    out: list[Problem] = []
    seen: set[str] = set()
    for e in err.errors():  # type: ignore[attr-defined]
        loc = [str(x) for x in e["loc"] if not str(x).startswith(("function-", "list[", "str"))]
        key = ".".join([where, *loc] if where else loc)
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        elif e["type"] == "missing":
            msg = "required key is missing"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        text = f"key '{key}': {msg}"
        if text not in seen:
            seen.add(text)
            out.append(Problem(text, source=source))
    return out
