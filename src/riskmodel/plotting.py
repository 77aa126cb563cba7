"""Plotting helpers every library shares: Chinese text in figures, saving figures.

Chinese text: find a font with CJK glyphs and use it.

matplotlib's default font (DejaVu Sans) has no Chinese glyphs and draws
boxes. :func:`use_cjk_font` looks for an installed CJK font (WenQuanYi Micro
Hei from Debian's ``fonts-wqy-microhei``, which the README's set-up commands
install when missing; Noto Sans CJK; Source Han Sans; SimHei on Windows) and
puts it first in ``font.sans-serif``, keeping DejaVu Sans for Latin glyphs
it lacks.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from riskmodel.io_safety import atomic_path

CJK_FAMILIES = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Droid Sans Fallback",
    "AR PL UMing CN",
)


class MissingCJKFont(RuntimeError):
    """No installed font can draw Chinese characters."""


@lru_cache(maxsize=1)
def find_cjk_font() -> str | None:
    """The family name of an installed CJK font, or None."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    for fam in CJK_FAMILIES:
        if fam in names:
            return fam
    # a font registered after matplotlib built its cache: rebuild once
    font_manager._load_fontmanager(try_read_cache=False)  # noqa: SLF001 - documented way to rescan
    names = {f.name for f in font_manager.fontManager.ttflist}
    for fam in CJK_FAMILIES:
        if fam in names:
            return fam
    return None


def use_cjk_font(required: bool = True) -> str | None:
    """Make matplotlib draw Chinese; return the family used.

    Raises :class:`MissingCJKFont` (when ``required``) naming the package to
    install, rather than drawing boxes.
    """
    import matplotlib

    fam = find_cjk_font()
    if fam is None:
        if required:
            raise MissingCJKFont(
                "no font with Chinese glyphs is installed; install one "
                "(Debian/Ubuntu: apt-get install fonts-wqy-microhei; the README's "
                "'make demo' and 'make test' do it for you)"
            )
        return None
    matplotlib.rcParams["font.sans-serif"] = [fam, "DejaVu Sans"]
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["axes.unicode_minus"] = False
    return fam


def save(fig: Any, path: str, dpi: int = 150) -> None:  # noqa: ANN401 - a matplotlib Figure
    """Save a figure whole or not at all, and close it."""
    from matplotlib import pyplot

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=str(path).rsplit(".", 1)[-1])
    pyplot.close(fig)


__all__ = ["CJK_FAMILIES", "MissingCJKFont", "find_cjk_font", "save", "use_cjk_font"]
