"""The study's ledger: what people decide about a study, kept in a database.

Beside the results that ``riskmodel run`` computes, a study accumulates
decisions: the experts' pairwise judgements (AHP), named and versioned weight
sets, the follow-up of each warning (acknowledged, assigned to a unit,
rectified) and the supervision list (挂牌督办: a street, an indicator, a target
and a review date). :class:`~riskmodel.ledger.store.Ledger` keeps them in a
SQLite file (default) or a PostgreSQL database through SQLAlchemy Core: every
write records who and when, nothing is ever overwritten (a change is a new
version or a new event), and the tables come back as DataFrames for the
workbench, the appendix and the Excel output.

The ledger knows nothing of the analyses: it validates what it can on its own
(Saaty's scale, statuses, numbers, non-empty names), and the codes and areas
against the vocabulary it is given (:class:`~riskmodel.ledger.store.Vocabulary`).
"""

from riskmodel.ledger.store import (
    DIRECTIONS,
    FOLLOW_UP_STATUSES,
    WEIGHT_METHODS,
    Ledger,
    Vocabulary,
    WeightSet,
    default_url,
    warning_key,
)

__all__ = [
    "DIRECTIONS",
    "FOLLOW_UP_STATUSES",
    "WEIGHT_METHODS",
    "Ledger",
    "Vocabulary",
    "WeightSet",
    "default_url",
    "warning_key",
]
