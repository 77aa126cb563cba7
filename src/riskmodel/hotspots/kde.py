"""Kernel-density hotspot baseline: a Gaussian KDE of past events at cell centres.

The classic hotspot map of crime analysis (Chainey, Tompson & Uhlig 2008):
smooth the locations of past events with a kernel and flag the cells where the
density is highest. The kernel density is scikit-learn's
:class:`~sklearn.neighbors.KernelDensity` (Gaussian kernel, a ball tree, a
relative tolerance of 1e-4 on each density: 6x faster than the exact sum on
Portland's 19,000 cells and 10,000 events, and the same ranking up to
near-ties).

The kernel is isotropic, with a bandwidth (its standard deviation) in the
coordinates' units, so coordinates must be planar (feet or metres, not
degrees). No edge correction is made: cells at the border of the study area
lose the mass that falls outside it, as in the usual hotspot maps.
"""

from __future__ import annotations

import numpy as np

from riskmodel.errors import InputError, Problem

BANDWIDTH_RULES = ("scott",)


class KDEHotspots:
    """Gaussian kernel density of event locations (scikit-learn estimator shape).

    Parameters
    ----------
    bandwidth : float or 'scott'
        Standard deviation of the Gaussian kernel, in coordinate units (feet
        for Portland). ``'scott'`` (default): Scott's rule of thumb in two
        dimensions, ``sigma * n ** (-1/6)`` with ``sigma`` the root mean of
        the two coordinate variances (an isotropic version of scipy's
        ``gaussian_kde`` rule; Silverman's rule is the same in two
        dimensions). The rule is made for unimodal data and smooths a whole
        city's events broadly (3,300-3,700 ft on Portland); for hotspots
        a bandwidth of the order of the cell size is usual (what
        :func:`riskmodel.hotspots.evaluate.evaluate_hotspots` uses by
        default).
    rtol : float
        Relative tolerance of each density (scikit-learn's ``rtol``).

    Attributes
    ----------
    bandwidth_ : float
        The bandwidth used (coordinate units).
    n_events_ : int
    kde_ : sklearn.neighbors.KernelDensity
    """

    def __init__(self, bandwidth: float | str = "scott", rtol: float = 1e-4):
        self.bandwidth = bandwidth
        self.rtol = rtol

    def _bandwidth(self, xy: np.ndarray) -> float:
        bw = self.bandwidth
        if isinstance(bw, str):
            if bw not in BANDWIDTH_RULES:
                raise InputError(Problem(f"unknown bandwidth rule {bw!r}; valid: a number or {', '.join(BANDWIDTH_RULES)}"))
            n = xy.shape[0]
            sigma = float(np.sqrt(xy.var(axis=0, ddof=1).mean())) if n > 1 else 0.0
            out = sigma * n ** (-1 / 6)  # Scott: n^(-1/(d+4)) with d = 2
            if not out > 0:
                raise InputError(Problem("the events have no spread: give a bandwidth in coordinate units"))
            return out
        out = float(bw)
        if not (np.isfinite(out) and out > 0):
            raise InputError(Problem(f"bandwidth must be a positive number of coordinate units, got {bw}"))
        return out

    def fit(self, x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> KDEHotspots:
        """Fit to event locations.

        Parameters
        ----------
        x, y : ndarray (n_events,)
            Planar coordinates.
        weights : ndarray (n_events,), optional
            Non-negative weight of each event (for example a time decay).
        """
        from sklearn.neighbors import KernelDensity

        xy = np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])
        if xy.shape[0] == 0:
            raise InputError(Problem("no past event to smooth: the kernel density needs at least one"))
        if not np.isfinite(xy).all():
            raise InputError(Problem("event coordinates must be finite numbers"))
        self.bandwidth_ = self._bandwidth(xy)
        self.kde_ = KernelDensity(kernel="gaussian", bandwidth=self.bandwidth_, rtol=self.rtol)
        self.kde_.fit(xy, sample_weight=None if weights is None else np.asarray(weights, dtype=float))
        self.n_events_ = int(xy.shape[0])
        return self

    def density(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Density at points, per squared coordinate unit (integrates to 1 over the plane).

        Returns
        -------
        ndarray (n_points,)
            0 where the density underflows (far from every event).
        """
        if not hasattr(self, "kde_"):
            raise InputError(Problem("KDEHotspots is not fitted: call fit() first"))
        pts = np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])
        with np.errstate(divide="ignore"):  # log(0) far from every event: density 0
            return np.exp(self.kde_.score_samples(pts))
