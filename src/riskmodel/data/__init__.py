"""Incident data: validation, the IncidentPanel, areas, calendar, events, the sample city."""

from riskmodel.data.areas import AreaHierarchy
from riskmodel.data.panel import IncidentPanel, load_panel_dir, period_range, period_start
from riskmodel.data.readers import read_table, write_table_atomic
from riskmodel.data.schemas import validate_areas, validate_counts

__all__ = [
    "AreaHierarchy",
    "IncidentPanel",
    "load_panel_dir",
    "period_range",
    "period_start",
    "read_table",
    "validate_areas",
    "validate_counts",
    "write_table_atomic",
]
