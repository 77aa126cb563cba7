"""Count distributions for predictive quantiles.

A model gives a predictive mean ``m`` and variance ``v`` per series and
period; the quantiles come from the negative binomial with those two moments
(``v > m``), or the Poisson when ``v <= m`` (counts are not under-dispersed
enough for that to matter in incident data). Quantiles are integers, as the
counts are.
"""

from __future__ import annotations

import numpy as np


def nb_quantiles(mean: np.ndarray, var: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Quantiles of the moment-matched negative binomial (or Poisson).

    Parameters
    ----------
    mean, var : ndarray, same shape S
        Predictive mean and variance (counts per period).
    probs : ndarray (q,)

    Returns
    -------
    ndarray, shape S + (q,)
        Integer-valued quantiles (as float), 0 where the mean is 0.
    """
    from scipy import stats  # here, not at the top: the command line's start imports this module

    m = np.maximum(np.asarray(mean, dtype=float), 0.0)[..., None]
    v = np.asarray(var, dtype=float)[..., None]
    p = np.asarray(probs, dtype=float)
    over = v > m * (1 + 1e-9)
    out = np.zeros(np.broadcast_shapes(m.shape, p.shape))
    pos = m > 1e-12
    # Poisson part
    pois = pos & ~over
    if pois.any():
        mm = np.broadcast_to(m, out.shape)[np.broadcast_to(pois, out.shape)]
        pp = np.broadcast_to(p, out.shape)[np.broadcast_to(pois, out.shape)]
        out[np.broadcast_to(pois, out.shape)] = stats.poisson.ppf(pp, mm)
    nb = pos & over
    if nb.any():
        sel = np.broadcast_to(nb, out.shape)
        mm = np.broadcast_to(m, out.shape)[sel]
        vv = np.broadcast_to(v, out.shape)[sel]
        pp = np.broadcast_to(p, out.shape)[sel]
        size = mm**2 / (vv - mm)
        out[sel] = stats.nbinom.ppf(pp, size, mm / vv)
    return np.nan_to_num(out, nan=0.0, posinf=0.0)


def empirical_quantiles(center: np.ndarray, errors: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """``center + quantile(errors)`` per series, clipped at 0.

    Parameters
    ----------
    center : ndarray (h, n)
    errors : list of length h of arrays (n_obs_k, n): in-sample errors at each horizon.
    probs : ndarray (q,)

    Returns
    -------
    ndarray (h, n, q)
    """
    h, n = center.shape
    out = np.empty((h, n, len(probs)))
    for k in range(h):
        e = errors[k]
        eq = np.nanquantile(e, probs, axis=0).T if e.shape[0] else np.zeros((n, len(probs)))
        eq = np.nan_to_num(eq, nan=0.0)
        out[k] = center[k][:, None] + eq
    return np.maximum(out, 0.0)
