"""The workbench behind ``riskmodel serve``: a study's results opened once, for people to work with.

* :mod:`~riskmodel.workbench.study` -- :func:`open_study` and :class:`WorkbenchStudy`: ranks under
  any weights (re-aggregation only), rank intervals and "what would it take" per weight set, the
  committee's AHP weights, forecasts, warnings and their follow-up, the supervision list, publishing;
* :mod:`~riskmodel.workbench.outputs` -- a study's output folder read like a tracked run, with overlays;
* :mod:`~riskmodel.workbench.tomlout` -- the small TOML writer of the exported weight config.

The web application (``app.py``, ``templates/``, ``static/``) sits on top of these and is started by
``riskmodel serve`` (:mod:`riskmodel.cli.serve`). The study's ledger (judgements, weight sets,
follow-up, supervision) is :mod:`riskmodel.ledger`.
"""

from riskmodel.workbench.study import (
    AreaDetail,
    SwapAnswer,
    WorkbenchStudy,
    find_config,
    open_study,
)

__all__ = ["AreaDetail", "SwapAnswer", "WorkbenchStudy", "find_config", "open_study"]
