"""Incident data: validation, the IncidentPanel, areas, calendar, events, the sample city.

* :class:`IncidentPanel` -- the long count series that flow through riskmodel;
* :class:`WidePanel` -- the same as arrays (the one wide converter);
* :class:`Frequency` -- daily, weekly, monthly, annual: one value object, one inference rule;
* :class:`AddedZeros` -- the zeros riskmodel adds to counts (``IncidentPanel.added_zeros``), always reported;
* :class:`Limits` -- plausibility limits on dates and counts (refused, naming the rows; overridable);
* :func:`load_panel` -- the one loader every command and the pipeline use;
* :class:`AreaHierarchy`, the readers (UTF-8 / GBK), the Chinese calendar,
  events -> areas (:mod:`~riskmodel.data.events`) and grid cells
  (:mod:`~riskmodel.data.grid`), the sample city (:mod:`~riskmodel.data.sample_city`);
* :class:`AreaBoundaries` / :func:`read_boundaries` -- the areas' polygons for maps (GeoJSON or shapefile, any CRS);
* :func:`load_portland` -- the Portland reference data (real calls for service) per police district.
"""

from riskmodel.data.areas import AreaHierarchy
from riskmodel.data.boundaries import AreaBoundaries, read_boundaries
from riskmodel.data.frequency import DAILY, FREQUENCIES, MONTHLY, WEEKLY, YEARLY, Frequency
from riskmodel.data.limits import Limits
from riskmodel.data.loading import DataSource, load_panel, load_panel_dir, load_source
from riskmodel.data.panel import AddedZeros, IncidentPanel, period_range, period_start
from riskmodel.data.portland import load_portland, portland_boundaries
from riskmodel.data.readers import read_table, write_table_atomic
from riskmodel.data.schemas import validate_areas, validate_counts
from riskmodel.data.wide import WidePanel

__all__ = [
    "AreaBoundaries",
    "DAILY",
    "FREQUENCIES",
    "MONTHLY",
    "WEEKLY",
    "YEARLY",
    "AddedZeros",
    "AreaHierarchy",
    "DataSource",
    "Frequency",
    "IncidentPanel",
    "Limits",
    "WidePanel",
    "load_panel",
    "load_panel_dir",
    "load_portland",
    "portland_boundaries",
    "load_source",
    "period_range",
    "period_start",
    "read_boundaries",
    "read_table",
    "validate_areas",
    "validate_counts",
    "write_table_atomic",
]
