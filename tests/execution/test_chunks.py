"""The chunk plan: a partition of the series that depends only on the data and chunk_size."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskmodel.errors import InputError
from riskmodel.execution import DEFAULT_CHUNK_SIZE, plan_chunks
from riskmodel.forecast.chunked import ChunkedForecaster


def _series(sizes: list[int]) -> list[tuple[str, str]]:
    """Series sorted like a WidePanel's columns (area, then category)."""
    s = [(f"A{a:04d}", f"c{k}") for k, n in enumerate(sizes) for a in range(n)]
    return sorted(s)


@settings(max_examples=150, deadline=None)
@given(sizes=st.lists(st.integers(1, 40), min_size=1, max_size=6), size=st.integers(1, 60))
def test_plan_is_a_partition_that_keeps_categories_whole_when_they_fit(sizes, size):
    series = _series(sizes)
    chunks = plan_chunks(series, size)
    allpos = np.concatenate(chunks)
    assert sorted(allpos.tolist()) == list(range(len(series)))  # every series exactly once
    cats = np.array([c for _, c in series])
    for ch in chunks:
        assert 1 <= len(ch) <= size
        assert np.all(np.diff(ch) > 0)  # the panel's own order inside a chunk
    for k, n in enumerate(sizes):
        holding = [i for i, ch in enumerate(chunks) if (cats[ch] == f"c{k}").any()]
        if n <= size:
            assert len(holding) == 1  # a category that fits is never split
        else:
            parts = [int((cats[chunks[i]] == f"c{k}").sum()) for i in holding]
            assert len(parts) == -(-n // size)  # as few parts as possible ...
            assert max(parts) - min(parts) <= 1  # ... of near-equal size
            assert all(len(chunks[i]) == p for i, p in zip(holding, parts, strict=True))  # alone in its chunks
    # the plan is a function of the data and chunk_size only
    assert all(np.array_equal(a, b) for a, b in zip(chunks, plan_chunks(list(series), size), strict=True))


def test_small_panels_are_one_chunk_and_big_categories_split_evenly():
    assert len(plan_chunks(_series([25] * 9), DEFAULT_CHUNK_SIZE)) == 1  # the sample city's 225 series
    chunks = plan_chunks(_series([5001]), 5000)
    assert [len(c) for c in chunks] == [2501, 2500]
    chunks = plan_chunks(_series([3, 4, 3]), 7)  # c0+c1 fit together, c2 starts a new chunk
    cats = [sorted({c for _, c in np.array(_series([3, 4, 3]), dtype=object)[ch]}) for ch in chunks]
    assert cats == [["c0", "c1"], ["c2"]]
    assert plan_chunks([], 10) == []


@pytest.mark.parametrize("bad", [0, -3, 2.5, "many"])
def test_bad_chunk_size_is_an_input_error(bad):
    with pytest.raises(InputError, match="chunk_size must be a whole number"):
        plan_chunks(_series([3]), bad)


@pytest.mark.parametrize("model", ["snaive", "hmean"])
def test_series_by_series_models_do_not_depend_on_the_chunking(sim, model):
    """Seasonal naive and the historical mean look at one series at a time:
    fitted in chunks of 7 they give the very bits they give unchunked."""
    wp, _ = sim(n=30, T=48, cats=3)
    whole = ChunkedForecaster(model, chunk_size=1000).fit_predict(wp, 4)
    cf = ChunkedForecaster(model, chunk_size=7)
    parts = cf.fit_predict(wp, 4)
    assert len(cf.chunks_) >= 3
    assert np.array_equal(whole.mean, parts.mean) and np.array_equal(whole.quantiles, parts.quantiles)
    assert parts.series == wp.series and list(parts.model) == list(whole.model)


def test_chunked_forecaster_predict_on_the_driver_repeats_the_workers_forecast(sim):
    wp, _ = sim(n=12, T=48, cats=2)
    cf = ChunkedForecaster("nbglm", chunk_size=6)
    fc = cf.fit_predict(wp, 3, levels=(80, 95))
    again = cf.predict(3, levels=(80, 95))
    assert len(cf.models_) == 2
    assert np.array_equal(fc.mean, again.mean) and np.array_equal(fc.quantiles, again.quantiles)
    assert cf.fitted_.shape == wp.y.shape
