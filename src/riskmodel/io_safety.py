"""Outputs written whole or not at all.

Every file riskmodel writes goes through :func:`atomic_path` (one file) or
:func:`atomic_dir` (a folder of outputs): the content is written to a temporary
sibling and renamed into place only when complete, so a failure never leaves a
half-written result and never touches the inputs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path; on success rename it to ``target``.

    The temporary file keeps the target's suffixes so that writers that look
    at the extension (Parquet, gzip) behave the same.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix="".join(target.suffixes) + ".tmp", dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp makes the file private (0600); give it the usual permissions
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder; on success its files replace those in ``target``.

    Files are moved one by one into ``target`` (created if needed) only after
    the whole block succeeded; on failure nothing in ``target`` changes.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        target.mkdir(parents=True, exist_ok=True)
        umask = os.umask(0)
        os.umask(umask)
        for src in sorted(tmp.rglob("*")):
            if src.is_dir():
                continue
            dest = target / src.relative_to(tmp)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(src, 0o666 & ~umask)
            os.replace(src, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
