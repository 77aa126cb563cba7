"""Feature builders: per (area, category, period) features from an IncidentPanel.

Temporal (lags, rolling means and ratios, year-on-year change, trend, Fourier
seasonality), calendar (Chinese statutory holidays and make-up workdays),
spatial (neighbour means) and category mix. A data-derived feature for
period t uses counts up to t-1 only (``gap=1``).
"""

from riskmodel.features.builders import (
    CategoryMix,
    FeatureBuilder,
    HolidayFeatures,
    LagFeatures,
    RateFeatures,
    RollingFeatures,
    SpatialLag,
    TrendFourier,
    YearOnYear,
    default_transformers,
)
from riskmodel.features.calendar import daily_calendar, period_calendar
from riskmodel.features.wide import fourier_terms, rolling_mean, shift

__all__ = [
    "CategoryMix",
    "FeatureBuilder",
    "HolidayFeatures",
    "LagFeatures",
    "RateFeatures",
    "RollingFeatures",
    "SpatialLag",
    "TrendFourier",
    "YearOnYear",
    "daily_calendar",
    "default_transformers",
    "fourier_terms",
    "period_calendar",
    "rolling_mean",
    "shift",
]
