"""What the JSON API and the HTML page share on the voting path.

Per-client limits count only lookups of codes that pass the check character but match no
slip: a typo is caught by the check character and costs nothing, so only guessing counts.
A ward's meeting puts 150 phones behind one address; the default allows 60 such misses a
minute from it. The address is a key in memory for about a minute, never written anywhere.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from app.auth import client_key
from ballots import casting
from ballots.errors import TooManyGuesses, UnknownCode

VOTING_PATHS = ("/v", "/V", "/api/v1/vote")
MAX_BODY_BYTES = 64 * 1024


def _guard(request: Request) -> None:
    wait = request.app.state.vote_guess_limiter.blocked(client_key(request))
    if wait:
        raise TooManyGuesses(
            "Too many wrong codes from this device. Try again in {seconds} seconds.",
            retry_after=wait,
        )


def _note_failure(request: Request) -> None:
    request.app.state.vote_guess_limiter.hit(client_key(request))


def preview(request: Request, db: Session, token: str) -> casting.BallotForm:
    """The ballot form for a slip, under the per-client guessing limit."""
    _guard(request)
    try:
        return casting.preview(db, token)
    except UnknownCode:
        _note_failure(request)
        raise


def cast(request: Request, db: Session, token: str, answers: Any) -> casting.CastResult:
    """Cast a ballot, under the per-client guessing limit."""
    _guard(request)
    try:
        return casting.cast(db, token, answers)
    except UnknownCode:
        _note_failure(request)
        raise
