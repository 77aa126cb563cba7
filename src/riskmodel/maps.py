"""Maps of areas: colours for values, static choropleths (PNG/PDF) and inline SVG maps.

The foundation of every map riskmodel draws (the appendix's map pages, the
notebooks, the web workbench). It knows areas only as geometries keyed by
``area_id`` and values as a :class:`pandas.Series` on the same ids; what the
values mean (an index, a forecast, warnings) is the caller's business.

Choices made on purpose:

* **matplotlib + shapely, no geopandas.** The maps need polygons drawn and a
  representative point per area, nothing more; shapely is already the
  geometry library of the data model, and geopandas would add a large
  dependency (pyogrio/fiona, GDAL) for no gain here.
* **No map tiles, ever.** Nothing is downloaded: the map is the areas'
  polygons alone, on white. Officials' PDFs and an offline workbench must draw
  the same map with no network.
* **Projected coordinates in metres.** The geometries are expected in a
  projected CRS whose unit is the metre (UTM, a national grid): the scale bar
  is measured in that unit and the north arrow shows the grid's north (within
  a degree or two of true north for a city-sized map in UTM).
* **Colour-blind-safe palettes.** ColorBrewer's YlGnBu (sequential: scores,
  counts), RdBu (diverging, centred at 0: changes) and Okabe & Ito's
  categorical palette (grades, roles). Areas without a value are grey and
  hatched, labelled "no data / 无数据".
* **Classed colours.** Values are put in a few classes with round break
  points (a legend people can read), not a continuous colour ramp.
* **Same inputs, same bytes.** :func:`map_bytes` writes PNG, SVG and PDF
  without the software version or creation date in the file's metadata, and
  :func:`svg_map` is plain text built in a fixed order.

The palettes' hex values are ColorBrewer's (Brewer, Harrower & Penn State,
colorbrewer2.org; Apache 2.0 licence) and Okabe & Ito's (2008, "Color
Universal Design"), copied rather than sampled from matplotlib's colour maps
so that the colours of a class do not depend on matplotlib or on the number
of classes interpolated.
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.plotting import use_cjk_font

# ColorBrewer YlGnBu, by number of classes (light to dark)
YLGNBU = {
    3: ("#edf8b1", "#7fcdbb", "#2c7fb8"),
    4: ("#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"),
    5: ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"),
    6: ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494"),
    7: ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"),
}
# ColorBrewer RdBu, 7 classes: three negative (red), neutral, three positive (blue)
RDBU7 = ("#b2182b", "#ef8a62", "#fddbc7", "#f7f7f7", "#d1e5f0", "#67a9cf", "#2166ac")
# Okabe & Ito, without black (kept for outlines and text)
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
NO_DATA_COLOUR = "#d4d4d4"
"""Fill of an area without a value (drawn hatched in static maps); used by no palette."""
NO_DATA_LABEL = {"zh": "无数据", "en": "no data"}
SIMULATED_LABEL = {"zh": "模拟边界", "en": "simulated boundaries"}
SOURCE_WORD = {"zh": "来源", "en": "Source"}
MAX_CLASSES = 7
KINDS = ("sequential", "diverging", "categorical")

Formatter = Callable[[float], str]


def _formatter(fmt: str | Formatter | None) -> Formatter:
    if fmt is None:
        # U+2212: a minus sign, not a hyphen, so that "−5 – −2.5" reads as two numbers
        return lambda x: f"{x:,.6g}".replace("-", "\u2212")
    if isinstance(fmt, str):
        return lambda x: fmt.format(x)
    return fmt


def nice_step(x: float) -> float:
    """The smallest round number (1, 2, 2.5 or 5 times a power of ten) at least ``x`` (> 0)."""
    if not np.isfinite(x) or x <= 0:
        return 1.0
    p = 10.0 ** math.floor(math.log10(x))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * p >= x * (1 - 1e-12):
            return m * p
    return 10.0 * p  # pragma: no cover - the loop ends at 10


def scale_bar_length(width_m: float, fraction: float = 0.25) -> float:
    """A scale bar's length in metres: the largest of 1, 2 or 5 times a power of ten
    not longer than ``fraction`` of the map's width ``width_m`` (metres)."""
    target = max(float(width_m) * fraction, 1e-9)
    p = 10.0 ** math.floor(math.log10(target))
    return max(m * p for m in (1.0, 2.0, 5.0) if m * p <= target * (1 + 1e-12))


def scale_bar_label(length_m: float) -> str:
    """``"500 m"`` below a kilometre, else ``"2 km"`` / ``"2.5 km"``."""
    if length_m < 1000:
        return f"{length_m:g} m"
    return f"{length_m / 1000:g} km"


def _edges_sequential(v: np.ndarray, n: int, integer: bool = False) -> np.ndarray:
    """Class edges of equal, round width covering ``v``: the round width (1, 2, 2.5 or 5 times a
    power of ten; whole numbers 1, 2 or 5 times one for ``integer`` values) whose number of classes
    is nearest ``n`` (at most :data:`MAX_CLASSES`)."""
    lo, hi = float(v.min()), float(v.max())
    if hi == lo:
        step = nice_step(abs(lo) / 10 if lo else 1.0)
        start = math.floor(lo / step) * step
        return np.array([start, start + step])
    best = None
    p0 = math.floor(math.log10((hi - lo) / n))
    for k in (p0 - 1, p0, p0 + 1):
        for m in ((1.0, 2.0, 5.0) if integer else (1.0, 2.0, 2.5, 5.0)):
            step = m * 10.0 ** k
            if integer and step < 1:
                continue
            start = math.floor(lo / step + 1e-9) * step
            count = max(1, math.ceil((hi - start) / step - 1e-9))
            if count > MAX_CLASSES:
                continue
            key = (abs(count - n), -count)
            if best is None or key < best[0]:
                best = (key, start, step, count)
    _, start, step, count = best  # type: ignore[misc] # p0 + 1 always gives at most n + 1 classes
    return start + step * np.arange(count + 1)


def _classify(v: np.ndarray, edges: np.ndarray) -> np.ndarray:
    # class i covers (e_i, e_i+1], the first one [e_0, e_1]; values outside go to the end classes
    return np.clip(np.searchsorted(edges[1:-1], v, side="left"), 0, len(edges) - 2)


def map_colours(
    values: pd.Series,
    *,
    kind: str = "sequential",
    n_classes: int = 5,
    breaks: Iterable[float] | None = None,
    fmt: str | Formatter | None = None,
    categories: Iterable[Any] | None = None,
    colours: Mapping[Any, str] | None = None,
    reverse: bool = False,
    lang: str = "en",
    no_data_label: str | None = None,
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Colours of areas' values, and the legend's entries.

    Parameters
    ----------
    values : Series
        One value per area, indexed by ``area_id``; NaN (or None) for no data.
    kind : {'sequential', 'diverging', 'categorical'}
        * ``sequential`` (scores, counts): YlGnBu, light = low. Integer values
          spanning at most 7 numbers get one class each (``0``, ``1``, ...);
          otherwise ``n_classes`` (about; 3 to 7) classes of equal width with
          round break points, or the given ``breaks`` (class edges, ascending;
          class *i* holds values in ``(b_i, b_i+1]``, the first ``[b_0, b_1]``,
          values beyond the ends go to the end classes).
        * ``diverging`` (changes): RdBu centred at 0 in 7 classes: three below
          0 (red), exactly 0 (neutral) and three above (blue); class width is a
          round number covering the largest absolute value (integers up to 3:
          one class per value). ``reverse=True`` puts red above 0 (for an
          increase that is bad news, like more incidents).
        * ``categorical`` (grades, roles): one colour per category in
          ``categories`` order (default: sorted values), from ``colours`` or
          Okabe & Ito's palette.
    fmt : str or callable, optional
        Formats the break points in legend labels (``"{:+.0%}"``, ``"{:.0f}"``).
    lang : {'zh', 'en'}
        Language of the no-data label (``no_data_label`` overrides it).

    Returns
    -------
    colours : dict
        ``area_id -> "#rrggbb"`` for every area of ``values`` (NaN: :data:`NO_DATA_COLOUR`).
    legend : list of (label, colour)
        Every class in order (low to high; categories in order), then
        ``(no data, NO_DATA_COLOUR)`` when a value is missing.

    Raises
    ------
    ValueError
        An unknown ``kind``, or ``breaks`` that are not ascending.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown map colour kind {kind!r}; valid: {', '.join(KINDS)}")
    ids = [str(a) for a in values.index]
    missing = values.isna().to_numpy()
    nd_label = no_data_label or NO_DATA_LABEL.get(lang, NO_DATA_LABEL["en"])
    out: dict[str, str] = {}
    legend: list[tuple[str, str]] = []
    f = _formatter(fmt)
    if kind == "categorical":
        present = [x for x in values[~missing].tolist()]
        cats = list(categories) if categories is not None else sorted(set(present), key=str)
        extra = [c for c in dict.fromkeys(present) if c not in cats]
        if extra:
            raise ValueError(f"values not among the categories given: {', '.join(map(str, extra[:5]))}")
        given = dict(colours or {})
        pal = {c: given.get(c, OKABE_ITO[i % len(OKABE_ITO)]) for i, c in enumerate(cats)}
        for a, x, m in zip(ids, values.tolist(), missing, strict=True):
            out[a] = NO_DATA_COLOUR if m else pal[x]
        legend = [(str(c), pal[c]) for c in cats]
    else:
        v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        missing = ~np.isfinite(v)
        fin = v[~missing]
        if not len(fin):  # nothing to class: every area is no data, the legend says only that
            out = dict.fromkeys(ids, NO_DATA_COLOUR)
            return out, [(nd_label, NO_DATA_COLOUR)] if len(ids) else []
        if kind == "sequential":
            whole = bool(np.allclose(fin, np.round(fin)))
            integer = whole and fin.max() - fin.min() <= MAX_CLASSES - 1
            if breaks is not None:
                edges = np.asarray(list(breaks), dtype=float)
                if len(edges) < 2 or np.any(np.diff(edges) <= 0):
                    raise ValueError(f"map breaks must be at least two ascending numbers; got {edges.tolist()}")
                if len(edges) - 1 > MAX_CLASSES:
                    raise ValueError(f"at most {MAX_CLASSES} classes; got {len(edges) - 1}")
                labels = [f"{f(edges[i])}–{f(edges[i + 1])}" for i in range(len(edges) - 1)]
                cls = _classify(fin, edges)
            elif integer and fmt is None:
                lo = int(round(fin.min()))
                levels = list(range(lo, int(round(fin.max())) + 1))
                labels = [f"{x:d}" for x in levels]
                cls = np.round(fin).astype(int) - lo
            else:
                edges = _edges_sequential(fin, max(3, min(MAX_CLASSES, n_classes)), integer=whole)
                if whole and fmt is None:  # counts: whole-number ranges, 0–2, 3–4, 5–6
                    lows = [edges[0]] + [e + 1 for e in edges[1:-1]]
                    labels = [f(lo) if lo == hi else f"{f(lo)}–{f(hi)}" for lo, hi in zip(lows, edges[1:], strict=True)]
                else:
                    labels = [f"{f(edges[i])}–{f(edges[i + 1])}" for i in range(len(edges) - 1)]
                cls = _classify(fin, edges)
            n = len(labels)
            # fewer than 3 classes: the 3-class palette's middle (one) or ends (two)
            pal = {1: [YLGNBU[3][1]], 2: [YLGNBU[3][0], YLGNBU[3][2]]}.get(n) or list(YLGNBU[n])
            if reverse:
                pal = pal[::-1]
        else:
            m = float(np.abs(fin).max())
            if np.allclose(fin, np.round(fin)) and m <= 3:
                centres = [-3, -2, -1, 0, 1, 2, 3]
                labels = [f(x) if fmt is not None else f"{x:+d}".replace("-", "\u2212") if x else "0" for x in centres]
                cls = np.round(fin).astype(int) + 3
            else:
                integer = bool(np.allclose(fin, np.round(fin))) and fmt is None
                # integers (rank changes): classes of s whole numbers, 1..s, s+1..2s, 2s+1..3s
                s = float(math.ceil(m / 3)) if integer else nice_step(m / 3) if m > 0 else 1.0
                e = [-3 * s, -2 * s, -s, 0.0, s, 2 * s, 3 * s]
                if integer:
                    def rng(lo: float, hi: float) -> str:
                        a_, b_ = (f"{int(x):+d}".replace("-", "\u2212") for x in (lo, hi))
                        return a_ if a_ == b_ else f"{a_} – {b_}"
                    labels = [rng(e[0], e[1] - 1), rng(e[1], e[2] - 1), rng(e[2], -1), "0",
                              rng(1, e[4]), rng(e[4] + 1, e[5]), rng(e[5] + 1, e[6])]
                else:
                    labels = [f"{f(a)} – {f(b)}" for a, b in zip(e[:3], e[1:4], strict=True)] + [f(0.0)] + \
                             [f"{f(a)} – {f(b)}" for a, b in zip(e[3:6], e[4:], strict=True)]
                tol = s * 1e-9
                neg = np.clip(np.ceil(-fin / s - 1e-12), 1, 3)   # -s <= v < 0 -> 1 ...
                pos = np.clip(np.ceil(fin / s - 1e-12), 1, 3)
                cls = np.where(np.abs(fin) <= tol, 3, np.where(fin < 0, 3 - neg, 3 + pos)).astype(int)
            pal = list(RDBU7[::-1] if reverse else RDBU7)
        cols = [pal[c] for c in cls]
        it = iter(cols)
        for a, mm in zip(ids, missing, strict=True):
            out[a] = NO_DATA_COLOUR if mm else next(it)
        legend = list(zip(labels, pal, strict=True))
    if missing.any():
        legend.append((nd_label, NO_DATA_COLOUR))
    return out, legend


def _rings(geom: Any) -> list[np.ndarray]:  # noqa: ANN401 - a shapely geometry
    """Exterior and interior rings of a (multi)polygon, exteriors counter-clockwise, holes clockwise."""
    from shapely.geometry import MultiPolygon, Polygon
    from shapely.geometry.polygon import orient

    if isinstance(geom, Polygon):
        polys = [geom]
    elif isinstance(geom, MultiPolygon):
        polys = list(geom.geoms)
    elif hasattr(geom, "geoms"):
        polys = [g for g in geom.geoms if isinstance(g, Polygon | MultiPolygon)]
        return [r for g in polys for r in _rings(g)]
    else:
        raise ValueError(f"an area's geometry must be a Polygon or MultiPolygon, not {geom.geom_type}")
    out = []
    for p in polys:
        if p.is_empty:
            continue
        p = orient(p, 1.0)
        out.append(np.asarray(p.exterior.coords))
        out.extend(np.asarray(r.coords) for r in p.interiors)
    return out


def _polygonal_union(parts: list[Any]) -> Any:  # noqa: ANN401 - shapely geometries
    """The union of polygons, keeping only its polygonal parts (shared edges dissolve)."""
    import shapely
    from shapely.geometry import MultiPolygon, Polygon

    u = shapely.union_all(parts) if len(parts) > 1 else parts[0]
    if isinstance(u, Polygon | MultiPolygon):
        return u
    return MultiPolygon([p for g in getattr(u, "geoms", []) for p in getattr(g, "geoms", [g]) if isinstance(p, Polygon)])


def _mpl_path(geom: Any) -> Any:  # noqa: ANN401 - shapely in, matplotlib Path out
    from matplotlib.path import Path as MPath

    verts, codes = [], []
    for ring in _rings(geom):
        verts.append(ring[:, :2])
        c = np.full(len(ring), MPath.LINETO, dtype=np.uint8)
        c[0] = MPath.MOVETO
        c[-1] = MPath.CLOSEPOLY
        codes.append(c)
    if not verts:
        return None
    return MPath(np.concatenate(verts), np.concatenate(codes))


def _bounds(geometries: Mapping[str, Any]) -> tuple[float, float, float, float]:
    b = np.array([g.bounds for g in geometries.values() if not g.is_empty])
    if not len(b):
        raise ValueError("no area has a geometry to map")
    return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())


HIGHLIGHT_STYLES = (
    {"edgecolor": "#000000", "linewidth": 2.4, "linestyle": "-"},
    {"edgecolor": "#000000", "linewidth": 1.6, "linestyle": (0, (4, 2))},
    {"edgecolor": "#7a0177", "linewidth": 1.6, "linestyle": (0, (1, 1.5))},
)
"""Outlines of highlighted groups, in the order the groups first appear (then repeated)."""


def choropleth(
    geometries: Mapping[str, Any],
    values: pd.Series,
    *,
    kind: str = "sequential",
    labels: Mapping[str, str] | None = None,
    title: str = "",
    legend_title: str = "",
    source: str = "",
    highlight: Mapping[str, str] | None = None,
    ax: Any = None,  # noqa: ANN401 - a matplotlib Axes
    simulated: bool = False,
    lang: str = "en",
    breaks: Iterable[float] | None = None,
    fmt: str | Formatter | None = None,
    categories: Iterable[Any] | None = None,
    colours: Mapping[Any, str] | None = None,
    reverse: bool = False,
    n_classes: int = 5,
    figsize: tuple[float, float] = (7.6, 6.0),
    label_size: float = 6.5,
    no_data_label: str | None = None,
) -> Any:  # noqa: ANN401 - a matplotlib Figure
    """A static choropleth: areas filled by class of value, with the map's furniture.

    Drawn with matplotlib from shapely geometries (no geopandas) on a white
    ground: **no map tiles** or any other downloaded layer. Every map has a
    north arrow (grid north of the projected CRS), a scale bar of a round
    length in m or km, a legend (classes, "no data" hatched grey, highlighted
    groups), a source line (with "simulated boundaries" when ``simulated``),
    and the areas' names in the CJK font of :mod:`riskmodel.plotting`.

    Parameters
    ----------
    geometries : mapping
        ``area_id -> shapely Polygon or MultiPolygon`` in a projected CRS in
        **metres**. Every area is drawn; those without a value in ``values``
        are "no data".
    values : Series
        Values indexed by ``area_id`` (:func:`map_colours`: ``kind``, ``breaks``,
        ``fmt``, ``categories``, ``colours``, ``reverse``, ``n_classes``).
        Values of areas that have no geometry are not drawn.
    labels : mapping, optional
        ``area_id -> name`` written at each area's representative point
        (inside the polygon); none when not given.
    title, legend_title, source : str
        Title above the map, the legend's heading, and the data's source
        (written as "Source: ..." / "来源：...").
    highlight : mapping, optional
        ``area_id -> group label`` of areas to outline (a claim's treated
        area, its comparison areas, a selected street): each group one outline
        around the union of its areas, in a style of its own
        (:data:`HIGHLIGHT_STYLES`), shown in the legend.
    ax : matplotlib Axes, optional
        Draw into this axes (its figure is returned); default a new figure of
        ``figsize`` inches.
    simulated : bool
        The boundaries are simulated: the source line says so.
    lang : {'zh', 'en'}
        Language of the furniture's words (no data, source, simulated).
    no_data_label : str, optional
        The legend's words for areas without a value (default "no data" / "无数据"), e.g.
        "not monitored" when that is why.

    Returns
    -------
    matplotlib Figure
        Close it when done (``plt.close(fig)``); :func:`map_bytes` renders it.
    """
    import matplotlib.pyplot as plt
    from matplotlib import patheffects
    from matplotlib.patches import Patch, PathPatch, Rectangle

    use_cjk_font(required=False)
    lang = "zh" if lang == "zh" else "en"
    geoms = {str(k): g for k, g in geometries.items() if g is not None and not g.is_empty}
    if not geoms:
        raise ValueError("no area has a geometry to map")
    ids = sorted(geoms)
    vals = pd.Series(values.to_numpy(), index=values.index.astype(str))
    if vals.index.has_duplicates:
        raise ValueError("values has repeated area_id: " + ", ".join(sorted(set(vals.index[vals.index.duplicated()]))[:5]))
    vals = vals.reindex(ids)
    fills, legend = map_colours(vals, kind=kind, breaks=breaks, fmt=fmt, categories=categories, colours=colours,
                                reverse=reverse, lang=lang, n_classes=n_classes, no_data_label=no_data_label)
    if ax is None:
        fig = plt.figure(figsize=figsize)
        ax = fig.add_axes((0.02, 0.06, 0.70, 0.86))
    else:
        fig = ax.figure
    for a in ids:
        path = _mpl_path(geoms[a])
        if path is None:
            continue
        nd = fills[a] == NO_DATA_COLOUR and pd.isna(vals[a])
        ax.add_patch(PathPatch(path, facecolor=fills[a], edgecolor="#555555", linewidth=0.5,
                               hatch="////" if nd else None, gid=f"area-{a}"))
    groups: dict[str, dict] = {}
    members: dict[str, list[str]] = {}
    for a, g in (highlight or {}).items():
        if str(a) in geoms:
            groups.setdefault(g, HIGHLIGHT_STYLES[len(groups) % len(HIGHLIGHT_STYLES)])
            members.setdefault(g, []).append(str(a))
    for g, style in groups.items():
        # one outline around the group (the union of its areas: a district's streets show as the district)
        path = _mpl_path(_polygonal_union([geoms[a] for a in sorted(members[g])]))
        if path is not None:
            ax.add_patch(PathPatch(path, facecolor="none", zorder=3, gid=f"highlight:{g}", **style))
    x0, y0, x1, y1 = _bounds(geoms)
    w, h = x1 - x0, y1 - y0
    pad = 0.04 * max(w, h)
    ax.set_xlim(x0 - pad, x1 + pad)
    # room below the areas for the scale bar
    ax.set_ylim(y0 - pad - 0.08 * h, y1 + pad)
    ax.set_aspect("equal")
    ax.set_axis_off()
    key = _place_labels(ax, geoms, labels, label_size, patheffects) if labels else []
    _north_arrow(ax)
    _scale_bar(ax, Rectangle)
    handles = []
    for lab, col in legend:
        nd = col == NO_DATA_COLOUR and lab in (NO_DATA_LABEL[lang], NO_DATA_LABEL["en"], NO_DATA_LABEL["zh"],
                                               no_data_label)
        # a highlighted group named like a class (a claim's treated area): the class's patch gets its outline
        style = groups.get(lab, {"edgecolor": "#555555", "linewidth": 0.5})
        handles.append(Patch(facecolor=col, hatch="////" if nd else None, label=lab, **style))
    for g, style in groups.items():
        if g not in {lab for lab, _ in legend}:
            handles.append(Patch(facecolor="none", label=g, **style))
    below = 0.8  # axes fraction under the north arrow
    if handles:
        leg = ax.legend(handles=handles, title=legend_title or None, loc="upper left", bbox_to_anchor=(1.02, below),
                        frameon=False, fontsize=8, title_fontsize=8.5, handlelength=1.6, handleheight=1.1)
        leg.set_gid("legend")
        leg._legend_box.align = "left"  # noqa: SLF001 - matplotlib's documented trick for a left-aligned title
        bb = leg.get_window_extent(fig.canvas.get_renderer()).transformed(ax.transAxes.inverted())
        below = bb.y0 - 0.03
    bottom = -0.01  # axes fraction of the source line's top: under the map, and under the key if it is longer
    if key:
        kt = ax.text(1.035, below, "\n".join(f"{n}  {name}" for n, name in key), transform=ax.transAxes, fontsize=7,
                     va="top", ha="left", color="#111111", linespacing=1.35, gid="label-key")
        kb = kt.get_window_extent(fig.canvas.get_renderer()).transformed(ax.transAxes.inverted())
        bottom = min(bottom, kb.y0 - 0.015)
    if title:
        ax.set_title(_wrap(title, 96), fontsize=11, loc="left")
    line = []
    if source:
        line.append(f"{SOURCE_WORD[lang]}：{source}" if lang == "zh" else f"{SOURCE_WORD[lang]}: {source}")
    if simulated:
        line.append(SIMULATED_LABEL[lang])
    if line:
        ax.text(0.0, bottom, _wrap(("；" if lang == "zh" else "; ").join(line), 130), transform=ax.transAxes,
                fontsize=7.5, color="#444444", ha="left", va="top", gid="source")
    return fig


def _wrap(text: str, width: int) -> str:
    """Break ``text`` into lines of at most ``width`` columns (a CJK character is two), at spaces or
    after CJK punctuation where it can (textwrap counts characters, not columns)."""
    import unicodedata

    lines, cur, cols, last_break = [], "", 0, -1
    for ch in text:
        cur += ch
        cols += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if ch in " ；，、" or unicodedata.east_asian_width(ch) in ("W", "F"):
            last_break = len(cur)
        if cols > width:
            cut = last_break if last_break > 0 else len(cur) - 1
            lines.append(cur[:cut].rstrip())
            cur = cur[cut:].lstrip()
            cols = sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in cur)
            last_break = -1
    lines.append(cur)
    return "\n".join(x for x in lines if x)


def _place_labels(ax: Any, geoms: Mapping[str, Any], labels: Mapping[str, str], size: float,  # noqa: ANN401
                  patheffects: Any) -> list[tuple[int, str]]:  # noqa: ANN401 - matplotlib's patheffects module
    """Write each area's name at its representative point, the largest areas first. A name that
    would overlap a name already written, or cover its neighbours (more than a fifth of the name's
    box lies on other areas), becomes a number (1, 2, ...) listed in a key beside the map; a name
    that a number would then overlap becomes one too.

    Returns the key: ``(number, name)`` in number order (empty when every name fits).
    """
    from shapely import STRtree
    from shapely.geometry import box

    halo = [patheffects.withStroke(linewidth=2.0, foreground="white")]
    ax.apply_aspect()
    renderer = ax.figure.canvas.get_renderer()
    inv = ax.transData.inverted()
    ids = [a for a in geoms if labels.get(a)]
    tree_ids = list(geoms)
    tree = STRtree([geoms[a] for a in tree_ids])

    def covers_others(a: str, bb: Any) -> bool:  # noqa: ANN401 - a matplotlib Bbox (display units)
        (x0, y0), (x1, y1) = inv.transform([(bb.x0, bb.y0), (bb.x1, bb.y1)])
        r = box(x0, y0, x1, y1)
        other = sum(geoms[tree_ids[i]].intersection(r).area for i in tree.query(r) if tree_ids[i] != a)
        return other > 0.2 * r.area

    texts: dict[str, tuple[Any, Any]] = {}
    crowded: list[str] = []
    for a in sorted(ids, key=lambda a: (-geoms[a].area, a)):
        pt = geoms[a].representative_point()
        t = ax.text(pt.x, pt.y, str(labels[a]), fontsize=size, ha="center", va="center", color="#111111",
                    path_effects=halo, zorder=4)
        bb = t.get_window_extent(renderer).expanded(1.08, 1.15)
        if any(bb.overlaps(o) for _, o in texts.values()) or covers_others(a, bb):
            t.remove()
            crowded.append(a)
        else:
            texts[a] = (t, bb)
    numbers: list[Any] = []
    key: list[tuple[int, str]] = []
    n = 0
    while crowded:
        # numbered north to south (in rows of 100 m), then west to east: neighbours get near numbers
        pts = {a: geoms[a].representative_point() for a in crowded}
        for a in sorted(crowded, key=lambda a: (round(-pts[a].y, -2), pts[a].x, a)):
            n += 1
            t = ax.text(pts[a].x, pts[a].y, str(n), fontsize=size, ha="center", va="center", color="#111111",
                        fontweight="bold", fontfamily="DejaVu Sans", path_effects=halo, zorder=4,
                        gid=f"label-number-{a}")
            numbers.append(t.get_window_extent(renderer).expanded(1.3, 1.3))
            key.append((n, str(labels[a])))
        crowded = [a for a, (t, bb) in texts.items() if any(bb.overlaps(o) for o in numbers)]
        for a in crowded:
            texts.pop(a)[0].remove()
    return key


def _north_arrow(ax: Any) -> None:  # noqa: ANN401 - a matplotlib Axes
    """An arrow pointing up (grid north) with an N, right of the map's top-right corner (clear of the areas)."""
    ax.annotate("", xy=(1.06, 1.0), xytext=(1.06, 0.9), xycoords="axes fraction", annotation_clip=False,
                arrowprops={"arrowstyle": "-|>,head_width=0.35,head_length=0.7", "color": "#111111", "lw": 1.6},
                gid="north-arrow")
    ax.text(1.06, 0.885, "N", transform=ax.transAxes, ha="center", va="top", fontsize=10, fontweight="bold",
            fontfamily="DejaVu Sans", color="#111111", clip_on=False)


def _scale_bar(ax: Any, rectangle: Any) -> None:  # noqa: ANN401 - matplotlib Axes and the Rectangle class
    """A black-and-white bar of a round length (:func:`scale_bar_length`) in the bottom-left corner."""
    xl, yl = ax.get_xlim(), ax.get_ylim()
    width = xl[1] - xl[0]
    length = scale_bar_length(width)
    x = xl[0] + 0.04 * width
    y = yl[0] + 0.035 * (yl[1] - yl[0])
    hbar = 0.012 * (yl[1] - yl[0])
    half = length / 2
    ax.add_patch(rectangle((x, y), half, hbar, facecolor="#111111", edgecolor="#111111", lw=0.6, zorder=5,
                           gid="scale-bar-a"))
    ax.add_patch(rectangle((x + half, y), half, hbar, facecolor="white", edgecolor="#111111", lw=0.6, zorder=5,
                           gid="scale-bar-b"))
    ax.text(x, y + 1.8 * hbar, "0", ha="center", va="bottom", fontsize=7)
    ax.text(x + length, y + 1.8 * hbar, scale_bar_label(length), ha="center", va="bottom", fontsize=7,
            gid="scale-bar-label")


def map_bytes(fig: Any, fmt: str = "png", dpi: int = 150) -> bytes:  # noqa: ANN401 - a matplotlib Figure
    """A figure as PNG, SVG or PDF bytes that depend only on what is drawn: no software
    version or creation date in the metadata, a fixed SVG id salt. Does not close the figure."""
    import matplotlib

    meta: dict[str, Any] = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None},
                            "pdf": {"CreationDate": None, "Creator": None, "Producer": None}}[fmt]
    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "riskmodel", "svg.fonttype": "path"}):
        fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches="tight", metadata=meta)
    return buf.getvalue()


def _fmt_num(x: float) -> str:
    s = f"{x:.1f}"
    return "0.0" if s == "-0.0" else s


def svg_map(
    geometries: Mapping[str, Any],
    fills: Mapping[str, str],
    *,
    labels: Mapping[str, str] | None = None,
    width: int = 640,
    height: int = 480,
    selected: str | None = None,
    values: Mapping[str, str] | None = None,
    padding: int = 8,
) -> str:
    """An inline SVG map for a web page: one ``<path>`` per area, nothing to download, no script.

    Each area is ``<path data-area-id="ID" fill="#rrggbb" ...><title>NAME: VALUE</title></path>``
    (the tooltip; ``NAME`` from ``labels``, else the id; ``: VALUE`` when ``values`` has one), in
    ``area_id`` order with the ``selected`` area last, outlined thick and with ``class="selected"``.
    The map is fitted into ``width`` x ``height`` pixels keeping its aspect (centred, ``padding``
    pixels of margin), with y flipped (north up). Holes are drawn with ``fill-rule="evenodd"``.
    Every text is escaped. A page adds behaviour (a click on a ``data-area-id``) with its own script.

    Parameters
    ----------
    geometries : mapping
        ``area_id -> shapely Polygon or MultiPolygon`` (projected CRS).
    fills : mapping
        ``area_id -> colour`` (:func:`map_colours`); an area without one is :data:`NO_DATA_COLOUR`.
    """
    geoms = {str(k): g for k, g in geometries.items() if g is not None and not g.is_empty}
    x0, y0, x1, y1 = _bounds(geoms)
    w = max(x1 - x0, 1e-9)
    h = max(y1 - y0, 1e-9)
    s = min((width - 2 * padding) / w, (height - 2 * padding) / h)
    ox = (width - s * w) / 2
    oy = (height - s * h) / 2
    sel = str(selected) if selected is not None else None
    order = sorted(a for a in geoms if a != sel) + ([sel] if sel in geoms else [])
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="riskmodel-map" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img">']
    for a in order:
        parts = []
        for ring in _rings(geoms[a]):
            xs = ox + (ring[:, 0] - x0) * s
            ys = height - (oy + (ring[:, 1] - y0) * s)
            pts = [f"{_fmt_num(x)} {_fmt_num(y)}" for x, y in zip(xs[:-1], ys[:-1], strict=True)]
            parts.append("M" + " L".join(pts) + " Z")
        name = (labels or {}).get(a) or a
        tip = f"{name}: {values[a]}" if values is not None and a in values and values[a] is not None else str(name)
        fill = fills.get(a, NO_DATA_COLOUR)
        stroke = ' stroke="#000000" stroke-width="3" class="selected"' if a == sel else \
            ' stroke="#555555" stroke-width="0.7"'
        out.append(f'<path data-area-id="{html.escape(a, quote=True)}" fill="{html.escape(str(fill), quote=True)}"'
                   f'{stroke} fill-rule="evenodd" d="{" ".join(parts)}"><title>{html.escape(tip)}</title></path>')
    out.append("</svg>")
    return "\n".join(out)


__all__ = [
    "HIGHLIGHT_STYLES", "KINDS", "NO_DATA_COLOUR", "NO_DATA_LABEL", "OKABE_ITO", "RDBU7", "SIMULATED_LABEL", "YLGNBU",
    "choropleth", "map_bytes", "map_colours", "nice_step", "scale_bar_label", "scale_bar_length", "svg_map",
]
