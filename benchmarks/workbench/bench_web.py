"""Benchmark: a weight change to updated ranks in the browser (the workbench's web layer on top).

The same two cases as ``bench_weights.py`` (the sample city's index, 25 streets x 11 indicators;
a simulated index of 1,000 areas x 40 indicators), each opened with
:func:`riskmodel.workbench.open_study`, served by :func:`riskmodel.workbench.app.create_app` on a
free port (werkzeug, in a thread) and driven with Debian's Chromium through Playwright:

* page: the time to load the calibration page (its ranks table, bump chart and map included);
* server: ``POST /api/ranks`` (ranks beside the old ones, the table, the bump chart and the
  map rendered as HTML/SVG) through Flask's test client, median of 20 weight changes;
* browser: from typing a weight (``page.fill`` on a dimension's weight) to the new ranks table in
  the page, measured in Python (includes the page's 150 ms debounce and Playwright's polling),
  and in the page (``data-ranks-ms``: the request and the re-render, no debounce); median of 10.

Writes benchmarks/workbench/web_results.md. Run:
``nice .venv/bin/python benchmarks/workbench/bench_web.py`` (needs /usr/bin/chromium or
``$RISKMODEL_CHROMIUM``).
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SAMPLE = ROOT / "data" / "sample"
CHROMIUM = os.environ.get("RISKMODEL_CHROMIUM", "/usr/bin/chromium")
SERVER_REPEATS = 20
BROWSER_REPEATS = 10


def run_case(label: str, study_dir: Path, db: str) -> dict:
    import numpy as np
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from riskmodel.workbench import open_study
    from riskmodel.workbench.app import create_app

    s = open_study(study_dir, db=db)
    app = create_app(s, s.ledger)
    dims = s.spec.codes_at(2)
    rng = np.random.default_rng(0)
    client = app.test_client()
    client.get("/calibration")
    token = _token(client)
    times = []
    for _ in range(SERVER_REPEATS):
        w = {c: float(rng.uniform(0.05, 1.0)) for c in dims}
        t = time.perf_counter()
        r = client.post("/api/ranks", json={"weights": w}, headers={"X-CSRF-Token": token})
        times.append(time.perf_counter() - t)
        assert r.status_code == 200, r.get_data(as_text=True)[:300]
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_port}"
    wall, inpage = [], []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        t = time.perf_counter()
        page.goto(base + "/calibration")
        load_s = time.perf_counter() - t
        for k in range(BROWSER_REPEATS):
            code = dims[k % len(dims)]
            t = time.perf_counter()
            page.fill(f"#w-{code}", f"{rng.uniform(0.05, 1.0):.3f}")
            page.locator(f'body[data-ranks-seq="{k + 1}"]').wait_for(timeout=60_000)
            wall.append(time.perf_counter() - t)
            inpage.append(float(page.locator("body").get_attribute("data-ranks-ms")))
        rows = page.locator("#ranks-table tbody tr").count()
        b.close()
    srv.shutdown()
    s.close()
    return {"case": label, "areas": rows, "indicators": len(s.spec.indicators), "load_s": load_s,
            "server_ms": statistics.median(times) * 1000, "server_max_ms": max(times) * 1000,
            "wall_ms": statistics.median(wall) * 1000, "wall_max_ms": max(wall) * 1000,
            "inpage_ms": statistics.median(inpage)}


def _token(client) -> str:  # noqa: ANN001 - a Flask test client
    import re

    page = client.get("/publish").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def main() -> None:
    sys.path.insert(0, str(HERE))
    from bench_weights import _study, _synthetic  # the same two studies as the service's benchmark

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        sample = _study(d / "sample", SAMPLE / "indicators_monthly.csv", ROOT / "experiments" / "pingan_sample.toml",
                        SAMPLE / "areas.csv", 200)
        rows.append(run_case("sample city (25 streets x 11 indicators)", sample, f"sqlite:///{d / 'sample.sqlite'}"))
        (d / "syn").mkdir()
        long, cfg = _synthetic(d / "syn")
        syn = _study(d / "synthetic", long, cfg, None, 200)
        rows.append(run_case("simulated 1,000 areas x 40 indicators", syn, f"sqlite:///{d / 'syn.sqlite'}"))
    lines = [
        "# Workbench in the browser: from a weight change to updated ranks",
        "",
        f"`nice .venv/bin/python benchmarks/workbench/bench_web.py` on {platform.machine()}, 2 cores shared with "
        f"other jobs (load average {os.getloadavg()[0]:.1f} at the end), Python {platform.python_version()}, "
        f"Chromium at {CHROMIUM}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        f"'server': `POST /api/ranks` through Flask's test client (new ranks and grades beside the old ones, the "
        f"ranks table, the bump chart and the map as HTML/SVG), median and max of {SERVER_REPEATS}. 'browser': "
        f"from typing a dimension's weight to the new ranks table shown, median and max of {BROWSER_REPEATS}, "
        "measured in Python (it includes the page's 150 ms debounce and Playwright's polling) and in the page "
        "(request and re-render only). No boundaries in these studies: the map is the schematic tile map.",
        "",
        "| case | areas | indicators | calibration page load (s) | server median (ms) | server max (ms) "
        "| browser median (ms) | browser max (ms) | in page median (ms) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['case']} | {r['areas']:,} | {r['indicators']} | {r['load_s']:.2f} | {r['server_ms']:.0f} | "
                     f"{r['server_max_ms']:.0f} | {r['wall_ms']:.0f} | {r['wall_max_ms']:.0f} | {r['inpage_ms']:.0f} |")
    (HERE / "web_results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
