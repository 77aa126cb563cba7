"""Seeded event logs for the event-log benchmark: a synthetic city of 25 streets, 5 years of events.

Writes into OUT (default /tmp/riskmodel-events-bench; never into the repository):

* ``streets.geojson``: 25 street polygons (a seeded Voronoi tessellation of a
  15 x 15 km square, local plane in metres, each border cut into 20 m segments:
  about 300 vertices a street);
* ``events_{n}m.csv`` and ``events_{n}m.parquet`` for n in SIZES (millions):
  ``event_id, timestamp, category, x, y``; the smaller logs are the first rows
  of the largest (one seeded stream, written in chunks of a million rows).

The events: 2020-01-01 to 2024-12-31 (5 years, to the second), 8 categories
(two of them Chinese), 70% of the points around 60 hotspots (Gaussian, 150 to
600 m), 30% uniform over the square widened by 3% (some fall outside every
street: unmatched); 0.1% have no coordinates and 0.01% an impossible date
(2021-02-30). Coordinates rounded to 0.1 m, as a geocoder's output would be.

    python benchmarks/data/events/generate.py [OUT] [--sizes 1 5 20] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

CATEGORIES = ["alerts", "disputes", "traffic_accidents", "fires", "theft", "fraud", "盗窃", "纠纷"]
SIDE = 15_000.0
CHUNK = 1_000_000
START = np.datetime64("2020-01-01T00:00:00", "s")
SECONDS = int((np.datetime64("2025-01-01T00:00:00", "s") - START).astype(np.int64))


def streets(seed: int) -> list[tuple[str, object]]:
    """25 street polygons tiling the square (Voronoi cells of seeded points), ids S01..S25."""
    rng = np.random.default_rng(seed)
    pts = shapely.multipoints(rng.uniform(0, SIDE, (25, 2)))
    square = shapely.box(0, 0, SIDE, SIDE)
    cells = shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=square))
    cells = [shapely.segmentize(shapely.intersection(c, square), 20.0) for c in cells]
    cells.sort(key=lambda g: (round(g.centroid.y, 3), round(g.centroid.x, 3)))
    return [(f"S{i + 1:02d}", g) for i, g in enumerate(cells)]


def chunk(rng: np.random.Generator, start: int, n: int, hot: np.ndarray) -> tuple[pa.Table, pa.Table]:
    """``n`` events numbered from ``start``: (the CSV's table, all text but the coordinates; the Parquet's, typed)."""
    import pyarrow.compute as pc

    k = rng.random(n) < 0.7
    which = rng.integers(0, len(hot), n)
    x = np.where(k, hot[which, 0] + rng.normal(0, 1, n) * hot[which, 2],
                 rng.uniform(-0.03 * SIDE, 1.03 * SIDE, n))
    y = np.where(k, hot[which, 1] + rng.normal(0, 1, n) * hot[which, 2],
                 rng.uniform(-0.03 * SIDE, 1.03 * SIDE, n))
    x, y = np.round(x, 1), np.round(y, 1)
    ts = START + np.sort(rng.integers(0, SECONDS, n)).astype("timedelta64[s]")
    bad_t = rng.random(n) < 1e-4
    no_xy = rng.random(n) < 1e-3
    cat = rng.choice(len(CATEGORIES), n, p=[.3, .2, .15, .05, .12, .08, .06, .04])
    ids = pc.binary_join_element_wise("E", pc.utf8_lpad(pc.cast(pa.array(np.arange(start, start + n)), pa.string()),
                                                         9, "0"), "")
    typed_ts = pa.array(ts, mask=bad_t)
    text_ts = pc.if_else(pa.array(bad_t), "2021-02-30 12:00:00", pc.strftime(pa.array(ts), "%Y-%m-%d %H:%M:%S"))
    cats = pc.take(pa.array(CATEGORIES), pa.array(cat))
    xs, ys = pa.array(x, mask=no_xy), pa.array(y, mask=no_xy)
    names = ["event_id", "timestamp", "category", "x", "y"]
    return (pa.table([ids, text_ts, cats, xs, ys], names=names), pa.table([ids, typed_ts, cats, xs, ys], names=names))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", nargs="?", default="/tmp/riskmodel-events-bench")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 5, 20], help="log sizes in millions of events")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    feats = [{"type": "Feature", "properties": {"street": sid},
              "geometry": json.loads(shapely.to_geojson(g))} for sid, g in streets(a.seed)]
    (out / "streets.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats}),
                                         encoding="utf-8")
    rng = np.random.default_rng(a.seed + 1)
    hot = np.c_[rng.uniform(0, SIDE, (60, 2)), rng.uniform(150, 600, 60)]
    sizes = sorted(set(a.sizes))
    import pyarrow.csv as pacsv

    csvs: dict[int, pacsv.CSVWriter] = {}
    pqs: dict[int, pq.ParquetWriter] = {}
    t0 = time.perf_counter()
    try:
        for i in range(max(sizes)):
            text, typed = chunk(rng, i * CHUNK, CHUNK, hot)
            for m in sizes:
                if i < m:
                    if m not in csvs:
                        csvs[m] = pacsv.CSVWriter(out / f"events_{m}m.csv", text.schema,
                                                  write_options=pacsv.WriteOptions(quoting_style="needed"))
                        pqs[m] = pq.ParquetWriter(out / f"events_{m}m.parquet", typed.schema)
                    csvs[m].write_table(text)
                    pqs[m].write_table(typed)
            print(f"{(i + 1):>3} million events written ({time.perf_counter() - t0:.0f} s)", flush=True)
    finally:
        for w in [*csvs.values(), *pqs.values()]:
            w.close()
    print(f"written to {out}")


if __name__ == "__main__":
    main()
