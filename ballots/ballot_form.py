"""The ballot form of a unit in a round, cached once the round is open.

A round's questionnaire, threshold k, units and subjects are frozen when it opens
(``lifecycle.open_round``), so the form a slip opens never changes afterwards. Loading it
takes three queries and ORM work; a meeting puts 150 phones on the same form within a minute,
and a city-wide round a million. The cache keeps one form per database, round and unit, in
this process's memory. Its key holds the round's creation time too: on SQLite a rolled-back
round's id is reused by the next round, which must not inherit the old form.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, joinedload

from ballots import key_ceremony
from ballots.questionnaire import Questionnaire, parse_questionnaire
from ballots.rounds import Round
from ballots.subjects import Subject
from ballots.thresholds import comment_threshold
from ballots.units import Unit
from ballots.vocabulary import Role

# ~3,100 units take part in a city-wide round; the bound only stops unbounded growth.
MAX_FORMS = 20_000


@dataclass(frozen=True)
class BallotSubject:
    """A head shown on the form."""

    id: int
    role: Role
    full_name: str


@dataclass(frozen=True)
class BallotForm:
    """What the voting page shows for a slip, and what its answers are checked against."""

    round_title: str
    unit_name: str
    subjects: list[BallotSubject]
    questionnaire: Questionnaire
    anonymity_threshold: int
    comment_threshold: int
    # A sealed round's public key and box size (frozen at the ceremony, like the rest of the
    # form), so a cast seals without reading them; None for a round opened without one.
    sealed_to: tuple[bytes, int] | None = None


_Key = tuple[URL, int, datetime, int]
_forms: dict[_Key, BallotForm] = {}
_lock = threading.Lock()


def load_form(session: Session, round_id: int, unit_id: int) -> BallotForm:
    """The form read from the database, uncached."""
    round_ = session.get(Round, round_id)
    unit = session.get(Unit, unit_id)
    assert round_ is not None
    assert unit is not None
    rows = session.scalars(
        select(Subject)
        .where(Subject.round_id == round_id, Subject.unit_id == unit_id)
        .options(joinedload(Subject.person))
    )
    subjects = sorted(
        (BallotSubject(id=s.id, role=s.role, full_name=s.person.full_name) for s in rows),
        key=lambda s: s.role.rank,
    )
    k = round_.anonymity_threshold
    box_key = key_ceremony.box_key(session, round_id)
    return BallotForm(
        round_title=round_.title,
        unit_name=unit.name,
        subjects=subjects,
        questionnaire=parse_questionnaire(round_.questionnaire),
        anonymity_threshold=k,
        comment_threshold=comment_threshold(k),
        sealed_to=None if box_key is None else (bytes(box_key.public_key), box_key.box_bytes),
    )


def frozen_form(
    session: Session, round_id: int, unit_id: int, round_created_at: datetime
) -> BallotForm:
    """The form of a round that is open or past it (never a draft's: that can still change)."""
    key = (session.get_bind().engine.url, round_id, round_created_at, unit_id)
    form = _forms.get(key)
    if form is None:
        form = load_form(session, round_id, unit_id)
        with _lock:
            if len(_forms) >= MAX_FORMS:
                _forms.clear()
            _forms[key] = form
    return form
