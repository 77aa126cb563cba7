"""A toy city for the hotspot tests: two streets in one district, events with coordinates.

Street A is the rectangle [0, 10] x [0, 10], street B is [10, 17] x [0, 10]
(units: metres, say). With 4 m cells from the origin (0, 0), the squares of
column 2 ([8, 12]) straddle the A|B border and are split into an A part and a
B part; the squares of the top row ([8, 12] in y) and of column 4 ([16, 20])
are clipped at the edge of the city.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from riskmodel.data.events import AreaPolygons

STREETS = {"A": shapely.box(0, 0, 10, 10), "B": shapely.box(10, 0, 17, 10)}
AREAS = pd.DataFrame({
    "area_id": ["CITY", "D1", "A", "B"],
    "parent_id": [None, "CITY", "D1", "D1"],
    "level": ["city", "district", "street", "street"],
})


def toy_streets() -> AreaPolygons:
    ids = list(STREETS)
    return AreaPolygons(ids=ids, geoms=[STREETS[i] for i in ids], attributes=pd.DataFrame({"area_id": ids}))


def toy_events(seed: int = 1, n: int = 400, start: str = "2021-01-04", weeks: int = 12) -> pd.DataFrame:
    """Uniform events over the city, plus a hotspot around (2, 2) (in street A, square G0_0)."""
    rng = np.random.default_rng(seed)
    n_hot = n // 4
    x = np.r_[rng.uniform(0, 17, n - n_hot), rng.uniform(1, 3, n_hot)]
    y = np.r_[rng.uniform(0, 10, n - n_hot), rng.uniform(1, 3, n_hot)]
    days = rng.integers(0, 7 * weeks, n)
    ts = pd.Timestamp(start) + pd.to_timedelta(days, unit="D")
    cat = np.where(rng.random(n) < 0.5, "theft", "burglary")
    return pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d"), "category": cat, "x": x, "y": y})


@pytest.fixture()
def toy_files(tmp_path: Path) -> dict[str, Path]:
    """The toy city as files: events.csv, streets.geojson, areas.csv."""
    feats = [{"type": "Feature", "properties": {"street": k}, "geometry": shapely.geometry.mapping(g)}
             for k, g in STREETS.items()]
    gj = tmp_path / "streets.geojson"
    gj.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    ev = tmp_path / "events.csv"
    toy_events().to_csv(ev, index=False)
    ar = tmp_path / "areas.csv"
    AREAS.to_csv(ar, index=False)
    return {"events": ev, "polygons": gj, "areas": ar}
