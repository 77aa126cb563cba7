"""Denomination, imputation and screening of index data.

Each function returns new objects (inputs are never modified) and a record
of what it did, so a build can be rebuilt with one setting changed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.errors import InputError, Problem
from riskmodel.index.inputs import IndexData
from riskmodel.index.spec import IndexSpec

IMPUTE_METHODS = ("none", "mean", "median", "group_mean", "group_median", "carry_forward")


def denominate(data: IndexData, spec: IndexSpec) -> tuple[IndexData, dict[str, object]]:
    """Divide each indicator by its spec ``denominator`` (x / denominator).

    A zero or missing denominator gives a missing value (counted in the record).
    """
    vals = data.values.copy()
    den = spec.table.set_index("code")["denominator"]
    done, undefined = [], 0
    for c in vals.columns:
        dn = den.get(c, "")
        if dn:
            d = data.denominators[dn].to_numpy(float)
            bad = ~(np.abs(d) > 0)
            undefined += int(np.sum(bad & vals[c].notna().to_numpy()))
            with np.errstate(divide="ignore", invalid="ignore"):
                vals[c] = np.where(bad, np.nan, vals[c].to_numpy(float) / d)
            done.append(c)
    rec = {"denominated": len(done), "denominated_codes": done, "undefined_by_zero_denominator": undefined}
    return IndexData(data.units, vals, data.denominators, data.source), rec


def impute(data: IndexData, method: str = "group_mean", group: str | None = None) -> tuple[IndexData, dict[str, object]]:
    """Fill missing indicator values.

    Parameters
    ----------
    method : str
        ``mean`` / ``median`` of the indicator in the same period;
        ``group_mean`` / ``group_median`` within the unit's ``group`` in the same
        period; ``carry_forward``: the unit's last earlier value (panels);
        ``none``. Values that a method cannot fill (an empty group, no earlier
        value) stay missing and are counted.
    """
    if method not in IMPUTE_METHODS:
        raise InputError(Problem(f"unknown value {method!r} for steps.impute.method; valid: {', '.join(IMPUTE_METHODS)}"))
    vals = data.values.copy()
    before = int(vals.isna().sum().sum())
    if method == "none" or before == 0:
        return data, {"impute_method": method, "missing_before": before, "imputed": 0, "missing_after": before}
    per = data.units["period"].astype(object).where(data.units["period"].notna(), "all")
    if method.startswith("group"):
        if not group:
            raise InputError(Problem(f"steps.impute.method = {method!r} needs a 'group' (a grouping column)"))
        if group not in data.units.columns:
            have = [c for c in data.units.columns if c not in ("area_id", "period", "name")]
            raise InputError(Problem(f"unknown group {group!r} for steps.impute.group; valid: {', '.join(have) or 'none available'}"))
        keys = [per, data.units[group]]
    else:
        keys = [per]
    stat = "mean" if method.endswith("mean") else "median"
    if method == "carry_forward":
        order = np.lexsort((pd.to_datetime(data.units["period"], errors="coerce").to_numpy(), data.units["area_id"].to_numpy()))
        v = vals.iloc[order]
        filled = v.groupby(data.units["area_id"].iloc[order].to_numpy()).ffill()
        vals = filled.reindex(vals.index)
    else:
        fill = vals.groupby(keys).transform(stat)
        vals = vals.fillna(fill)
    after = int(vals.isna().sum().sum())
    rec = {"impute_method": method, "missing_before": before, "imputed": before - after, "missing_after": after}
    return IndexData(data.units, vals, data.denominators, data.source), rec


def screen(
    data: IndexData,
    min_availability: float = 0.0,
    basis: IndexData | None = None,
    indicator_min_availability: float = 0.0,
) -> tuple[IndexData, dict[str, object]]:
    """Remove units (and optionally indicators) with too little data.

    Availability is the share of non-missing indicator values, computed on
    ``basis`` (default: ``data`` itself, i.e. after any earlier step, as COINr).
    """
    b = basis if basis is not None else data
    avail = b.values.notna().mean(axis=1).to_numpy()
    keep = avail >= min_availability
    iavail = b.values.notna().mean(axis=0)
    drop_ind = iavail.index[iavail < indicator_min_availability].tolist()
    rec = {
        "screen_min_availability": min_availability,
        "units_removed": int((~keep).sum()),
        "units_removed_ids": data.units.loc[~keep, "area_id"].tolist(),
        "indicators_removed": drop_ind,
    }
    out = data.subset(np.flatnonzero(keep))
    if drop_ind:
        out = IndexData(out.units, out.values.drop(columns=drop_ind), out.denominators, out.source)
    return out, rec
