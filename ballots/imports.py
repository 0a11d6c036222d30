"""Previews of CSV imports: what a file would change, computed by the import itself.

A preview runs the real import inside a savepoint and rolls it back, so it applies exactly
the rules of the import (and the API): the same line-numbered problems, the same counts.
Nothing of it stays, not even its audit entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ballots import units
from ballots._csv import read_rows
from ballots.subjects import SUBJECT_COLUMNS, import_subjects

PREVIEW_ROWS = 500  # a page shows this many rows of the file; the counts cover all of it


@dataclass(frozen=True)
class Preview:
    """What a file would do: its rows as read, and how many records it creates or updates."""

    columns: tuple[str, ...]
    rows: list[tuple[int, dict[str, str]]]  # (line number, row), the header being line 1
    total_rows: int
    created: int
    updated: int


def _rolled_back(session: Session, work: Callable[[], tuple[int, int]]) -> tuple[int, int]:
    savepoint = session.begin_nested()
    try:
        return work()
    finally:
        savepoint.rollback()


def _rows(
    data: bytes, columns: tuple[str, ...], optional: tuple[str, ...], what: str
) -> tuple[list[tuple[int, dict[str, str]]], int]:
    rows = list(read_rows(data, required=columns, optional=optional, what=what))
    return rows[:PREVIEW_ROWS], len(rows)


def preview_units(session: Session, data: bytes) -> Preview:
    """What importing this units file would do; raises the import's own errors."""

    def work() -> tuple[int, int]:
        summary = units.import_units(session, data, actor="preview")
        return summary.created, summary.updated

    created, updated = _rolled_back(session, work)
    columns = (*units.UNIT_COLUMNS, "electorate")
    rows, total = _rows(data, units.UNIT_COLUMNS, ("electorate",), "Units file")
    return Preview(columns, rows, total, created, updated)


def preview_subjects(session: Session, round_id: int, data: bytes) -> Preview:
    """What importing this heads file into the round would do; raises the import's errors."""
    created, updated = _rolled_back(
        session, lambda: import_subjects(session, round_id, data, actor="preview")
    )
    columns = (*SUBJECT_COLUMNS, "person_ref")
    rows, total = _rows(data, SUBJECT_COLUMNS, ("person_ref",), "Subjects file")
    return Preview(columns, rows, total, created, updated)
