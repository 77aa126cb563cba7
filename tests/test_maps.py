"""The map primitives (riskmodel.maps): class colours, no data, legends, the furniture, SVG, same bytes."""

from __future__ import annotations

import re
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, Polygon, box

from riskmodel.maps import (
    NO_DATA_COLOUR,
    OKABE_ITO,
    RDBU7,
    YLGNBU,
    choropleth,
    map_bytes,
    map_colours,
    nice_step,
    scale_bar_label,
    scale_bar_length,
    svg_map,
)

X0, Y0 = 700_000.0, 2_450_000.0  # metres, UTM 49N around Zhuhai


def city() -> dict:
    """3 x 2 streets of 4 km x 3 km (12 km x 6 km); S11 has a hole, S20 an island (a MultiPolygon)."""
    g = {}
    for i in range(3):
        for j in range(2):
            g[f"S{i}{j}"] = box(X0 + i * 4000, Y0 + j * 3000, X0 + (i + 1) * 4000, Y0 + (j + 1) * 3000)
    g["S11"] = Polygon(g["S11"].exterior.coords, [box(X0 + 5500, Y0 + 3800, X0 + 6500, Y0 + 5000).exterior.coords])
    g["S20"] = MultiPolygon([g["S20"], box(X0 + 9000, Y0 - 1500, X0 + 10000, Y0 - 500)])
    return g


NAMES = {"S00": "拱北街道", "S01": "吉大街道", "S10": "香湾街道", "S11": "梅华街道", "S20": "南屏镇", "S21": "湾仔街道"}


def test_nice_numbers():
    assert [nice_step(x) for x in (0.07, 1, 1.2, 2.1, 3, 7, 10.4)] == [0.1, 1, 2, 2.5, 5, 10, 20]
    # the largest 1, 2 or 5 x 10^k within a quarter of the width
    assert [scale_bar_length(w) for w in (400, 12_960, 30_000, 79_000)] == [100, 2000, 5000, 10_000]
    assert [scale_bar_label(x) for x in (100, 2000, 2500)] == ["100 m", "2 km", "2.5 km"]


def test_sequential_classes_of_known_values():
    v = pd.Series([41.0, 50.0, 50.1, 93.0], index=list("abcd"))
    cols, legend = map_colours(v)
    # 41..93 in about 5 classes of a round width: 10 -> 40-50, ..., 90-100 (6 classes)
    assert [lab for lab, _ in legend] == ["40–50", "50–60", "60–70", "70–80", "80–90", "90–100"]
    assert [c for _, c in legend] == list(YLGNBU[6])
    assert cols == {"a": YLGNBU[6][0], "b": YLGNBU[6][0], "c": YLGNBU[6][1], "d": YLGNBU[6][5]}  # (40, 50] holds 50
    cols, legend = map_colours(v, breaks=[0, 50, 80, 100], fmt="{:.0f}")
    assert legend == list(zip(["0–50", "50–80", "80–100"], YLGNBU[3], strict=True))
    assert [cols[k] for k in "abcd"] == [YLGNBU[3][0], YLGNBU[3][0], YLGNBU[3][1], YLGNBU[3][2]]
    with pytest.raises(ValueError, match="ascending"):
        map_colours(v, breaks=[0, 50, 40])


def test_counts_get_a_class_per_value_and_whole_number_ranges():
    cols, legend = map_colours(pd.Series([0, 1, 3, 0], index=list("abcd")))
    assert [lab for lab, _ in legend] == ["0", "1", "2", "3"]
    assert cols["a"] == YLGNBU[4][0] and cols["c"] == YLGNBU[4][3]
    _, legend = map_colours(pd.Series(range(13)))
    assert [lab for lab, _ in legend] == ["0–2", "3–4", "5–6", "7–8", "9–10", "11–12"]
    cols, legend = map_colours(pd.Series([0, 1], index=["a", "b"]))  # two classes: light and dark ends
    assert [c for _, c in legend] == [YLGNBU[3][0], YLGNBU[3][2]]


def test_diverging_is_centred_at_zero():
    cols, legend = map_colours(pd.Series([-3, 0, 2], index=list("abc")), kind="diverging")
    assert [lab for lab, _ in legend] == ["\u22123", "\u22122", "\u22121", "0", "+1", "+2", "+3"]
    assert (cols["a"], cols["b"], cols["c"]) == (RDBU7[0], RDBU7[3], RDBU7[5])
    rev, _ = map_colours(pd.Series([-3, 0, 2], index=list("abc")), kind="diverging", reverse=True)
    assert (rev["a"], rev["b"], rev["c"]) == (RDBU7[6], RDBU7[3], RDBU7[1])  # an increase is red
    # shares: class width nice(0.3 / 3) = 0.1; -0.3 in the lowest class, 0.05 in (0, 0.1], 0.12 in (0.1, 0.2]
    cols, legend = map_colours(pd.Series([-0.3, 0.05, 0.12, -0.1], index=list("abcd")), kind="diverging")
    assert [cols[k] for k in "abcd"] == [RDBU7[0], RDBU7[4], RDBU7[5], RDBU7[2]]
    assert legend[0][0] == "\u22120.3 – \u22120.2" and legend[3] == ("0", RDBU7[3]) and len(legend) == 7
    # whole numbers beyond 3: classes of ceil(max / 3) places
    cols, legend = map_colours(pd.Series([-7, 4, 1], index=list("abc")), kind="diverging")
    assert [lab for lab, _ in legend][4:] == ["+1 – +3", "+4 – +6", "+7 – +9"]
    assert (cols["a"], cols["b"], cols["c"]) == (RDBU7[0], RDBU7[5], RDBU7[4])


def test_categorical_order_colours_and_unknown_values():
    v = pd.Series(["B", "A", "C"], index=list("abc"))
    cols, legend = map_colours(v, kind="categorical", categories=["A", "B", "C", "D"], colours={"A": "#0072B2"})
    assert legend == [("A", "#0072B2"), ("B", OKABE_ITO[1]), ("C", OKABE_ITO[2]), ("D", OKABE_ITO[3])]
    assert cols == {"a": OKABE_ITO[1], "b": "#0072B2", "c": OKABE_ITO[2]}
    with pytest.raises(ValueError, match="not among the categories"):
        map_colours(v, kind="categorical", categories=["A", "B"])
    with pytest.raises(ValueError, match="unknown map colour kind"):
        map_colours(v, kind="rainbow")


@pytest.mark.parametrize("kind,values", [("sequential", [1.0, np.nan, 3.0]), ("diverging", [-1.0, None, 2.0]),
                                         ("categorical", ["x", None, "y"])])
def test_missing_values_are_no_data(kind, values):
    v = pd.Series(values, index=list("abc"), dtype=object if kind == "categorical" else float)
    cols, legend = map_colours(v, kind=kind, lang="zh")
    assert cols["b"] == NO_DATA_COLOUR and cols["a"] != NO_DATA_COLOUR
    assert legend[-1] == ("无数据", NO_DATA_COLOUR) and NO_DATA_COLOUR not in [c for _, c in legend[:-1]]
    _, legend = map_colours(v.dropna(), kind=kind)
    assert "no data" not in [lab for lab, _ in legend]
    cols, legend = map_colours(v.where(v.isna()), kind=kind)  # no value at all: only "no data"
    assert set(cols.values()) == {NO_DATA_COLOUR} and legend == [("no data", NO_DATA_COLOUR)]


def _draw(**kw):
    v = pd.Series({"S00": 41.0, "S01": 55.0, "S10": 62.0, "S11": 93.0, "S20": 70.0})  # S21 has no value
    return choropleth(city(), v, labels=NAMES, title="平安指数得分", legend_title="得分", source="测试", lang="zh", **kw)


def test_choropleth_legend_furniture_and_no_data():
    fig = _draw(highlight={"S11": "项目地区"}, simulated=True)
    try:
        ax = fig.axes[0]
        leg = ax.get_legend()
        texts = [t.get_text() for t in leg.get_texts()]
        _, expected = map_colours(pd.Series({"S00": 41.0, "S01": 55.0, "S10": 62.0, "S11": 93.0, "S20": 70.0,
                                             "S21": np.nan}), lang="zh")
        assert texts == [lab for lab, _ in expected] + ["项目地区"]
        assert leg.get_title().get_text() == "得分"
        handles = leg.legend_handles
        assert handles[-2].get_hatch() == "////" and handles[-2].get_facecolor()[:3] == pytest.approx(
            tuple(int(NO_DATA_COLOUR[i:i + 2], 16) / 255 for i in (1, 3, 5)))
        patches = {p.get_gid(): p for p in ax.patches}
        assert patches["area-S21"].get_hatch() == "////" and patches["area-S00"].get_hatch() is None
        assert "highlight:项目地区" in patches
        texts = {t.get_gid(): t.get_text() for t in ax.texts if t.get_gid()}
        assert texts["source"] == "来源：测试；模拟边界"
        assert any(c.get_gid() == "north-arrow" for c in ax.get_children())
        assert {t.get_text() for t in ax.texts} >= set(NAMES.values()) | {"N"}  # every name fits: no key
        assert not any(t.get_gid() == "label-key" for t in ax.texts)
        assert ax.get_title(loc="left") == "平安指数得分"
    finally:
        plt.close(fig)


def test_scale_bar_is_round_and_true_to_the_axis():
    fig = _draw()
    try:
        ax = fig.axes[0]
        a, b = (next(p for p in ax.patches if p.get_gid() == g) for g in ("scale-bar-a", "scale-bar-b"))
        length = a.get_width() + b.get_width()
        width = ax.get_xlim()[1] - ax.get_xlim()[0]
        # the areas are 12 km wide (+4% padding each side: 12.96 km); a quarter is 3.24 km -> a 2 km bar
        assert width == pytest.approx(12_960)
        assert length == 2000 and b.get_x() == pytest.approx(a.get_x() + 1000)
        mant = length / 10 ** np.floor(np.log10(length))
        assert mant in (1, 2, 5) and 0.1 <= length / width <= 0.25
        label = next(t for t in ax.texts if t.get_gid() == "scale-bar-label")
        assert label.get_text() == "2 km"
        # in display units the bar is the same fraction of the axes as in metres (equal aspect, no distortion)
        fig.canvas.draw()
        x0 = ax.transData.transform((a.get_x(), a.get_y()))[0]
        x1 = ax.transData.transform((a.get_x() + length, a.get_y()))[0]
        assert (x1 - x0) / ax.bbox.width == pytest.approx(length / width, rel=1e-6)
    finally:
        plt.close(fig)


def test_chinese_labels_render_without_missing_glyphs():
    fig = _draw()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = map_bytes(fig)
    plt.close(fig)
    assert png.startswith(b"\x89PNG")
    assert not [w for w in caught if "missing from font" in str(w.message)]


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_same_inputs_same_bytes(fmt):
    out = []
    for _ in range(2):
        fig = _draw(highlight={"S11": "项目地区"})
        out.append(map_bytes(fig, fmt))
        plt.close(fig)
    assert out[0] == out[1]
    if fmt == "svg":
        assert b"<dc:date>" not in out[0] and b"Matplotlib v" not in out[0]
    else:
        assert b"Software" not in out[0]


def _svg_paths(svg: str) -> list[re.Match]:
    return list(re.finditer(r'<path data-area-id="([^"]*)" fill="([^"]*)"([^>]*) d="([^"]*)"><title>([^<]*)</title>'
                            r"</path>", svg))


def test_svg_map_has_one_path_per_area_with_id_fill_and_tooltip():
    g = city()
    v = pd.Series({"S00": 41.0, "S01": 55.0, "S10": 62.0, "S11": 93.0, "S20": 70.0})
    fills, _ = map_colours(v.reindex(sorted(g)))
    values = {k: f"{x:.1f}" for k, x in v.items()}
    svg = svg_map(g, fills, labels=NAMES, values=values, selected="S10")
    assert svg == svg_map(g, fills, labels=NAMES, values=values, selected="S10")  # same bytes
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and svg.rstrip().endswith("</svg>")
    assert "<script" not in svg.lower() and " on" not in svg.lower()  # no script, no event handlers
    paths = _svg_paths(svg)
    assert svg.count("<path") == len(paths) == len(g)
    assert {m.group(1): m.group(2) for m in paths} == fills
    assert paths[-1].group(1) == "S10" and 'class="selected"' in paths[-1].group(3)  # selected: drawn last
    tips = {m.group(1): m.group(5) for m in paths}
    assert tips["S00"] == "拱北街道: 41.0" and tips["S21"] == "湾仔街道"
    d = {m.group(1): m.group(4) for m in paths}
    assert d["S11"].count("M") == 2 and d["S20"].count("M") == 2  # a hole; an island
    assert 'fill-rule="evenodd"' in paths[0].group(3)


def test_svg_map_fits_keeping_aspect_with_north_up():
    g = city()  # 12 km x 7.5 km with S20's island (y from -1.5 km)
    svg = svg_map(g, {}, width=640, height=480, padding=8)
    pts = {m.group(1): np.array([[float(x), float(y)] for x, y in re.findall(r"([\d.]+) ([\d.]+)", m.group(4))])
           for m in _svg_paths(svg)}
    allp = np.vstack(list(pts.values()))
    # width-bound: 624 px for 12 km; height 7.5 km -> 390 px, centred vertically
    assert allp[:, 0].min() == pytest.approx(8, abs=0.06) and allp[:, 0].max() == pytest.approx(632, abs=0.06)
    assert allp[:, 1].max() - allp[:, 1].min() == pytest.approx(624 * 7.5 / 12, abs=0.1)
    assert allp[:, 1].min() == pytest.approx((480 - 390) / 2, abs=0.1)
    # north up: the northern row (S01, j=1) has smaller y on screen than the southern (S00)
    assert pts["S01"][:, 1].max() <= pts["S00"][:, 1].min() + 1e-6
    assert all(f == NO_DATA_COLOUR for f in re.findall(r'fill="(#[0-9a-f]+)"', svg))  # no fills given: no data


def test_svg_map_escapes_ids_and_names():
    g = {'a"<b>': box(0, 0, 10, 10)}
    svg = svg_map(g, {'a"<b>': "#ffffff"}, labels={'a"<b>': "<script>x</script>"})
    assert "<script>" not in svg and 'data-area-id="a&quot;&lt;b&gt;"' in svg and "&lt;script&gt;" in svg


def test_crowded_names_become_numbers_with_a_key():
    """Six 300 m blocks beside a 20 km town: their names would overlap, so they are numbered."""
    g = {"T": box(X0 - 20_000, Y0, X0, Y0 + 20_000)}
    names = {"T": "大镇"}
    for k in range(6):
        g[f"B{k}"] = box(X0 + (k % 3) * 300, Y0 + (k // 3) * 300, X0 + (k % 3 + 1) * 300, Y0 + (k // 3 + 1) * 300)
        names[f"B{k}"] = f"街道{k}号街道"
    names |= {f"B{k}": f"街道{k}号街道" for k in range(6, 30)}
    for k in range(6, 30):  # a long key: taller than the map
        g[f"B{k}"] = box(X0 + 1000 + k * 300, Y0, X0 + 1000 + k * 300 + 300, Y0 + 300)
    fig = choropleth(g, pd.Series(1.0, index=list(g)), labels=names, source="x")
    try:
        ax = fig.axes[0]
        texts = {t.get_gid(): t.get_text() for t in ax.texts if t.get_gid()}
        key = texts["label-key"].split("\n")
        numbered = sorted(k for k in texts if k.startswith("label-number-"))
        assert len(numbered) >= 5 and len(key) == len(numbered)
        # each number on the map is the one of its name in the key
        for gid in numbered:
            n = texts[gid]
            assert f"{n}  {names[gid.removeprefix('label-number-')]}" in key
        assert "大镇" in {t.get_text() for t in ax.texts}  # the big town keeps its name
        # the source line is below the key (the key may be taller than the map)
        r = fig.canvas.get_renderer()
        kb, sb = (next(t for t in ax.texts if t.get_gid() == g).get_window_extent(r) for g in ("label-key", "source"))
        assert sb.y1 < kb.y0
    finally:
        plt.close(fig)
