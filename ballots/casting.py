"""Casting a ballot with a one-time token: preview the form, then cast exactly once.

Nothing here learns or keeps who the voter is (invariant 1): the only input is the token
and the answers. The token is spent, the ballot put in the box and the receipt recorded in
one transaction. A cast is two round trips to the database: ``tokens.redeem``, one
conditional UPDATE that checks the slip, its batch and its round and decides races, then
``ballot_box.put``. The form the answers are checked against comes from a per-process cache
(``ballot_form``), as it is frozen from the moment the round opens.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ballots import ballot_box, tokens
from ballots.ballot_form import BallotForm, BallotSubject, frozen_form
from ballots.db import utcnow
from ballots.errors import (
    BatchVoided,
    CodeAlreadyUsed,
    InvalidBallot,
    MistypedCode,
    UnknownCode,
    VotingNotOpen,
)
from ballots.lifecycle import check_accepting_votes
from ballots.questionnaire import HEAD_TEXT_CHARS, text_units
from crypto.receipts import SealBroken, open_receipt, seal_receipt
from crypto.tokens import InvalidToken, new_receipt, normalize_token

__all__ = [
    "BallotForm",
    "BallotSubject",
    "CastResult",
    "cast",
    "clean_text",
    "preview",
    "validate_answers",
]

NO_OPINION = 0
# Control characters are removed, except line breaks, which people use in comments.
_CONTROL = re.compile(
    r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]"
)


@dataclass(frozen=True)
class CastResult:
    """The receipt, and whether this reply repeats one already given for the same slip."""

    receipt: str
    repeated: bool


def _canonical(text: str) -> str:
    try:
        return normalize_token(text)
    except InvalidToken:
        raise MistypedCode("This code has a typo: check it against the slip.") from None


def _usable(state: tokens.SlipState | None) -> tokens.SlipState:
    """The slip exists and its round takes votes now; else the error the voter should see."""
    if state is None:
        raise UnknownCode("No slip has this code.")
    check_accepting_votes(state.round_status, state.opens_at, state.closes_at, utcnow())
    return state


def _refuse(state: tokens.SlipState | None, token: str) -> CastResult:
    """Why a slip that was not spent cannot vote; or, for a retry, its receipt again."""
    state = _usable(state)
    if state.used:
        # The same slip again: the holder retrying after a lost reply sees the receipt again.
        if state.receipt_sealed:
            try:
                return CastResult(open_receipt(token, state.receipt_sealed), repeated=True)
            except SealBroken:
                pass
        raise CodeAlreadyUsed("This slip has already been used to vote.")
    if state.batch_voided:
        raise BatchVoided("This slip was withdrawn (its batch was voided). Ask for a new one.")
    # Open, unused and live now, yet the redeem found nothing: the round opened between the
    # two statements. Rare enough to ask the phone to try again rather than guess.
    raise VotingNotOpen("Voting has just opened: try again.")


def preview(session: Session, token_text: str) -> BallotForm:
    """The form for a slip; checks everything that casting would, spends nothing."""
    state = _usable(tokens.slip_state(session, _canonical(token_text)))
    if state.used:
        raise CodeAlreadyUsed("This slip has already been used to vote.")
    if state.batch_voided:
        raise BatchVoided("This slip was withdrawn (its batch was voided). Ask for a new one.")
    return frozen_form(session, state.round_id, state.unit_id, state.round_created_at)


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
        raise InvalidBallot("Unknown subject {key}.", params={"key": key}, field=f"ratings.{key}")
    for key in set(texts_in) - subject_ids:
        raise InvalidBallot("Unknown subject {key}.", params={"key": key}, field=f"texts.{key}")
    ratings: dict[str, list[int]] = {}
    texts: list[tuple[int, str, str]] = []
    questions = {t.key: t for t in q.free_text}
    for subject in form.subjects:
        sid = str(subject.id)
        given = ratings_in.get(sid)
        if not isinstance(given, dict):
            raise InvalidBallot("Every head must be rated.", field=f"ratings.{sid}")
        for key in set(given) - {c.key for c in q.criteria}:
            raise InvalidBallot(
                "Unknown criterion {key}.", params={"key": key}, field=f"ratings.{sid}.{key}"
            )
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
        written_units = 0
        for key, value in written.items():
            question = questions.get(key)
            if question is None:
                raise InvalidBallot(
                    "Unknown question {key}.", params={"key": key}, field=f"texts.{sid}.{key}"
                )
            if not isinstance(value, str):
                raise InvalidBallot("A text answer is text.", field=f"texts.{sid}.{key}")
            text = clean_text(value)
            if len(text) > question.max_chars:
                raise InvalidBallot(
                    "At most {n} characters.",
                    params={"n": question.max_chars},
                    field=f"texts.{sid}.{key}",
                )
            if text:
                texts.append((subject.id, key, text))
            written_units += text_units(text)
        if written_units > HEAD_TEXT_CHARS:
            raise InvalidBallot(
                "At most {n} characters in all about one head.",
                params={"n": HEAD_TEXT_CHARS},
                field=f"texts.{sid}",
            )
    return ratings, texts


def cast(session: Session, token_text: str, answers: Any) -> CastResult:
    """Spend the slip and put the ballot in the box, in the caller's one transaction."""
    token = _canonical(token_text)
    # Drawn before the slip is spent so that spending it is one statement.
    receipt = new_receipt()
    redeemed = tokens.redeem(session, token, seal_receipt(token, receipt), utcnow())
    if redeemed is None:
        return _refuse(tokens.slip_state(session, token), token)
    form = frozen_form(session, redeemed.round_id, redeemed.unit_id, redeemed.round_created_at)
    try:
        ratings, texts = validate_answers(form, answers)
    except InvalidBallot:
        # Invalid answers spend nothing, whatever the caller does with its transaction.
        tokens.give_back(session, token)
        raise
    ballot_box.put(
        session,
        round_id=redeemed.round_id,
        unit_id=redeemed.unit_id,
        ratings=ratings,
        texts=texts,
        receipt=receipt,
        sealed_to=form.sealed_to,
    )
    return CastResult(receipt=receipt, repeated=False)
