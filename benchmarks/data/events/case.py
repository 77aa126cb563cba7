"""One case of the event-log benchmark, run in its own process by ``run.py`` (which reads its peak memory).

    python benchmarks/data/events/case.py ENGINE TARGET EVENTS STREETS [--freq D] [--cell-size 500]

ENGINE: ``duckdb`` (:func:`riskmodel.data.eventlog.count_events`) or ``pandas``
(the path before: ``read_table`` + ``map_events`` + ``events_to_counts``, or
``read_table`` + ``GridCells.map`` + ``events_to_counts``). TARGET: ``street`` (street x category
x period counts), ``grid`` (counts per 500 m grid cell cut by the streets,
as ``riskmodel grid`` counts them) or ``grid-panel`` (``cells_from_files``:
the counts and then the zero-filled panel of every cell, category and day
that ``riskmodel grid`` writes). Prints one JSON line: seconds, count
rows, events counted and not, and a digest of the counts (equal digests: equal
counts).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("engine", choices=["duckdb", "pandas"])
    ap.add_argument("target", choices=["street", "grid", "grid-panel"])
    ap.add_argument("events")
    ap.add_argument("streets")
    ap.add_argument("--freq", default="D")
    ap.add_argument("--cell-size", type=float, default=500.0)
    a = ap.parse_args()
    t0 = time.perf_counter()
    from riskmodel.data.eventlog import count_events
    from riskmodel.data.events import AreaPolygons, events_to_counts, map_events
    from riskmodel.data.grid import GridCells, cells_from_files
    from riskmodel.data.readers import read_table

    if a.target == "street":
        polys = AreaPolygons.read(a.streets, id_field="street")
        if a.engine == "duckdb":
            res = count_events(a.events, freq=a.freq, polygons=polys)
            counts, n_unmatched = res.counts, res.n_unmatched
        else:
            ev, _ = read_table(a.events, what="events")
            m = map_events(ev, source=a.events, x_col="x", y_col="y", polygons=polys)
            counts, n_unmatched = events_to_counts(m, a.freq), m.n_unmatched
    elif a.target == "grid":
        polys = AreaPolygons.read(a.streets, id_field="street")
        cells = GridCells.build(polys, a.cell_size)
        if a.engine == "duckdb":
            res = count_events(a.events, freq=a.freq, polygons=polys, cells=cells)
            counts, n_unmatched = res.counts, res.n_unmatched
        else:
            ev, _ = read_table(a.events, what="events")
            m = cells.map(ev, x_col="x", y_col="y", source=a.events)
            counts, n_unmatched = events_to_counts(m, a.freq), m.n_unmatched
    else:  # the whole of `riskmodel grid` but writing: counts, then the zero-filled panel of every cell
        _, m, panel, _ = cells_from_files(a.events, a.streets, "street", a.cell_size, a.freq, engine=a.engine)
        counts, n_unmatched = panel.counts[panel.counts["count"] > 0].reset_index(drop=True), m.n_unmatched
    secs = time.perf_counter() - t0
    import pandas as pd

    cells = counts.assign(area_id=counts["area_id"].astype(str), category=counts["category"].astype(str),
                          period=counts["period"].astype("datetime64[s]"))
    digest = hashlib.sha256(pd.util.hash_pandas_object(cells, index=True).to_numpy().tobytes()).hexdigest()[:16]
    print(json.dumps({"seconds": round(secs, 2), "rows": len(counts), "counted": int(counts["count"].sum()),
                      "unmatched": int(n_unmatched), "digest": digest}))


if __name__ == "__main__":
    main()
