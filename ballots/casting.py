"""Casting a ballot with a one-time token: preview the form, then cast exactly once.

Nothing here learns or keeps who the voter is (invariant 1): the only input is the token
and the answers. The token is spent, the ballot put in the box and the receipt recorded in
one transaction; the conditional UPDATE in ``tokens.spend`` decides races.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ballots import ballot_box, tokens
from ballots.errors import (
    BatchVoided,
    CodeAlreadyUsed,
    InvalidBallot,
    MistypedCode,
    UnknownCode,
)
from ballots.lifecycle import ensure_accepting_votes
from ballots.questionnaire import Questionnaire, parse_questionnaire
from ballots.rounds import Round, Subject
from ballots.units import Unit
from ballots.vocabulary import Role
from crypto.receipts import SealBroken, open_receipt, seal_receipt
from crypto.tokens import InvalidToken, new_receipt, normalize_token

NO_OPINION = 0
# Control characters are removed, except line breaks, which people use in comments.
_CONTROL = re.compile(
    r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]"
)
_ROLE_ORDER = {Role.WARD_PARTY_SECRETARY: 0, Role.WARD_CHAIRPERSON: 1, Role.SCHOOL_PRINCIPAL: 2}


@dataclass(frozen=True)
class BallotSubject:
    """A head shown on the form."""

    id: int
    role: Role
    full_name: str


@dataclass(frozen=True)
class BallotForm:
    """What the voting page shows for a slip, without spending it."""

    round_title: str
    unit_name: str
    subjects: list[BallotSubject]
    questionnaire: Questionnaire
    anonymity_threshold: int
    comment_threshold: int


@dataclass(frozen=True)
class CastResult:
    """The receipt, and whether this reply repeats one already given for the same slip."""

    receipt: str
    repeated: bool


@dataclass(frozen=True)
class _Slip:
    token: str
    row: tokens.Token
    round: Round
    unit: Unit


def _find_slip(session: Session, text: str, *, hold_round: bool = False) -> _Slip:
    try:
        token = normalize_token(text)
    except InvalidToken:
        raise MistypedCode("This code has a typo: check it against the slip.") from None
    row = tokens.redeemable(session, token)
    if row is None:
        raise UnknownCode("No slip has this code.")
    query = select(Round).where(Round.id == row.round_id)
    if hold_round:
        # Casting holds the round row FOR SHARE until it commits, so a close (which updates
        # that row) waits for every cast in flight and none lands after the box is rewritten.
        query = query.with_for_update(read=True)
    round_ = session.scalar(query)
    unit = session.get(Unit, row.unit_id)
    assert round_ is not None
    assert unit is not None
    return _Slip(token=token, row=row, round=round_, unit=unit)


def _batch_voided(session: Session, row: tokens.Token) -> bool:
    batch = session.get(tokens.TokenBatch, row.batch_id)
    return batch is not None and batch.voided_at is not None


def _subjects(session: Session, round_id: int, unit_id: int) -> list[BallotSubject]:
    rows = session.scalars(
        select(Subject)
        .where(Subject.round_id == round_id, Subject.unit_id == unit_id)
        .options(joinedload(Subject.person))
    )
    subjects = [BallotSubject(id=s.id, role=s.role, full_name=s.person.full_name) for s in rows]
    return sorted(subjects, key=lambda s: _ROLE_ORDER[s.role])


def _repeat_or_refuse(slip: _Slip) -> CastResult:
    # The same slip again: the holder retrying after a lost reply sees the receipt again.
    if slip.row.receipt_sealed:
        try:
            return CastResult(open_receipt(slip.token, slip.row.receipt_sealed), repeated=True)
        except SealBroken:
            pass
    raise CodeAlreadyUsed("This slip has already been used to vote.")


def preview(session: Session, token_text: str) -> BallotForm:
    """The form for a slip; checks everything that casting would, spends nothing."""
    slip = _find_slip(session, token_text)
    ensure_accepting_votes(slip.round)
    if slip.row.used:
        raise CodeAlreadyUsed("This slip has already been used to vote.")
    if _batch_voided(session, slip.row):
        raise BatchVoided("This slip was withdrawn (its batch was voided). Ask for a new one.")
    return _form(session, slip)


def _form(session: Session, slip: _Slip) -> BallotForm:
    k = slip.round.anonymity_threshold
    return BallotForm(
        round_title=slip.round.title,
        unit_name=slip.unit.name,
        subjects=_subjects(session, slip.round.id, slip.unit.id),
        questionnaire=parse_questionnaire(slip.round.questionnaire),
        anonymity_threshold=k,
        comment_threshold=max(k, 5),
    )


def clean_text(text: str) -> str:
    """NFC, control characters removed, trimmed."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", text)).strip()


def validate_answers(
    form: BallotForm, answers: Any
) -> tuple[dict[str, list[int]], list[tuple[int, str, str]]]:
    """Check answers against the form; returns (ratings by subject, free texts)."""
    if not isinstance(answers, dict) or set(answers) - {"ratings", "texts"}:
        raise InvalidBallot("Answers have ratings and texts only.", field="answers")
    ratings_in = answers.get("ratings")
    texts_in = answers.get("texts") or {}
    if not isinstance(ratings_in, dict) or not isinstance(texts_in, dict):
        raise InvalidBallot("Ratings and texts are objects keyed by subject.", field="answers")
    q = form.questionnaire
    allowed = {o.value for o in q.scale.options} | {NO_OPINION}
    subject_ids = {str(s.id) for s in form.subjects}
    for key in set(ratings_in) - subject_ids:
        raise InvalidBallot(f"Unknown subject {key}.", field=f"ratings.{key}")
    for key in set(texts_in) - subject_ids:
        raise InvalidBallot(f"Unknown subject {key}.", field=f"texts.{key}")
    ratings: dict[str, list[int]] = {}
    texts: list[tuple[int, str, str]] = []
    questions = {t.key: t for t in q.free_text}
    for subject in form.subjects:
        sid = str(subject.id)
        given = ratings_in.get(sid)
        if not isinstance(given, dict):
            raise InvalidBallot("Every head must be rated.", field=f"ratings.{sid}")
        for key in set(given) - {c.key for c in q.criteria}:
            raise InvalidBallot(f"Unknown criterion {key}.", field=f"ratings.{sid}.{key}")
        values = []
        for criterion in q.criteria:
            value = given.get(criterion.key)
            if isinstance(value, bool) or value not in allowed:
                raise InvalidBallot(
                    "Choose a rating or 'not enough information'.",
                    field=f"ratings.{sid}.{criterion.key}",
                )
            values.append(int(value))
        ratings[sid] = values
        written = texts_in.get(sid) or {}
        if not isinstance(written, dict):
            raise InvalidBallot("Texts are keyed by question.", field=f"texts.{sid}")
        for key, value in written.items():
            question = questions.get(key)
            if question is None:
                raise InvalidBallot(f"Unknown question {key}.", field=f"texts.{sid}.{key}")
            if not isinstance(value, str):
                raise InvalidBallot("A text answer is text.", field=f"texts.{sid}.{key}")
            text = clean_text(value)
            if len(text) > question.max_chars:
                raise InvalidBallot(
                    f"At most {question.max_chars} characters.", field=f"texts.{sid}.{key}"
                )
            if text:
                texts.append((subject.id, key, text))
    return ratings, texts


def cast(session: Session, token_text: str, answers: Any) -> CastResult:
    """Spend the slip and put the ballot in the box, in the caller's one transaction."""
    slip = _find_slip(session, token_text, hold_round=True)
    ensure_accepting_votes(slip.round)
    if slip.row.used:
        return _repeat_or_refuse(slip)
    if _batch_voided(session, slip.row):
        raise BatchVoided("This slip was withdrawn (its batch was voided). Ask for a new one.")
    ratings, texts = validate_answers(_form(session, slip), answers)
    receipt = new_receipt()
    if not tokens.spend(session, slip.token, seal_receipt(slip.token, receipt)):
        # Lost a race with the same slip: the winner's receipt, or "already used".
        session.expire(slip.row)
        fresh = tokens.redeemable(session, slip.token)
        assert fresh is not None
        if fresh.used:
            return _repeat_or_refuse(_Slip(slip.token, fresh, slip.round, slip.unit))
        raise BatchVoided("This slip was withdrawn (its batch was voided). Ask for a new one.")
    ballot_box.put(
        session,
        round_id=slip.round.id,
        unit_id=slip.unit.id,
        ratings=ratings,
        texts=texts,
        receipt=receipt,
    )
    return CastResult(receipt=receipt, repeated=False)
