"""Imports every model module so that ``Base.metadata`` is complete wherever it is used.

Alembic's env.py and the test fixtures import this, never a single model module, so a
table cannot go missing because nothing happened to import its module first.
"""

from __future__ import annotations

from ballots import (
    accounts,
    audit,
    ballot_box,
    key_ceremony,
    lottery,
    participants,
    rounds,
    subjects,
    tally,
    tokens,
    units,
)
from ballots.db import Base

metadata = Base.metadata

__all__ = [
    "accounts",
    "audit",
    "ballot_box",
    "key_ceremony",
    "lottery",
    "metadata",
    "participants",
    "rounds",
    "subjects",
    "tally",
    "tokens",
    "units",
]
