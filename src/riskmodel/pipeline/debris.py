"""Temporary output folders left by killed studies: mark them, find them, remove them.

A study writes its outputs into a temporary folder beside ``study.out``
(:func:`riskmodel.io_safety.atomic_dir`: ``.<out name>.<random>.tmp`` in the
output folder's parent) and moves them into place at the end. A killed study
(SIGKILL, out of memory) cannot remove that folder: it stays, hidden, with
the outputs of the steps done so far (up to 86 files, 19 MB seen).

So the study puts a marker file :data:`MARKER` in its temporary folder (host,
pid and the process's start time; removed before the outputs are moved), and
the next study with the same output folder removes every
``.<out name>.*.tmp`` folder whose marker names **this host** and a process
that is **gone** (:func:`remove_stale_temp_dirs`). Folders without the marker
(not a study's), or of a live process, or of another host, are left alone.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from riskmodel.tracking.cleanup import stale_reason
from riskmodel.tracking.core import process_tags

MARKER = ".riskmodel-study-owner.json"
"""The marker file in a study's temporary output folder."""


def mark_temp_dir(tmp: Path) -> Path:
    """Write the marker (this process's host, pid, start) into a study's temp folder; return its path."""
    p = tmp / MARKER
    p.write_text(json.dumps(process_tags()), encoding="utf-8")
    return p


def remove_stale_temp_dirs(out_dir: str | os.PathLike[str]) -> list[tuple[Path, int, int]]:
    """Remove the temp folders of killed studies that wrote to ``out_dir``.

    Returns
    -------
    list of (folder, files, bytes)
        What was removed (see the module notes for the rule).
    """
    out_dir = Path(out_dir)
    parent = out_dir.parent
    if not parent.is_dir():
        return []
    removed = []
    for d in sorted(parent.glob(f".{out_dir.name}.*.tmp")):
        marker = d / MARKER
        if not d.is_dir() or d.is_symlink() or not marker.is_file():
            continue
        try:
            tags = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(tags, dict) or stale_reason(tags, 0, local_only=True) is None:
            continue
        files = [f for f in d.rglob("*") if f.is_file() and f != marker]
        size = sum(f.stat().st_size for f in files)
        shutil.rmtree(d, ignore_errors=True)
        removed.append((d, len(files), size))
    return removed


__all__ = ["MARKER", "mark_temp_dir", "remove_stale_temp_dirs"]
