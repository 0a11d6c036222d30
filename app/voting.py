"""What the JSON API and the HTML page share on the voting path.

Per-client limits count only lookups of codes that pass the check character but match no
slip: a typo is caught by the check character and costs nothing, so only guessing counts.
A ward's meeting puts 150 phones behind one address; the default allows 60 such misses a
minute from it. The address is a key for about a minute, in memory or (hashed) in Redis,
never written to the database or a log.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import Request
from sqlalchemy.orm import Session

from app.auth import client_key
from app.deps import DB_SESSIONS
from ballots import casting
from ballots.db import transaction
from ballots.errors import TooManyGuesses, UnknownCode

T = TypeVar("T")

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


# The JSON voting API runs each request's whole transaction in one worker thread: open, the
# limit check, the statements, commit. A route on the session dependency hops between the
# event loop and the thread pool three or four times a request; under a meeting's load on
# two cores those hops (and the GIL handed back and forth with them) cost more than the
# database work (docs/PERFORMANCE.md). The commit still comes before the reply, and at most
# DB_SESSIONS such requests hold a session at once per worker, as with the dependency.
def _limiter(request: Request) -> CapacityLimiter:
    # Made on first use, inside the running event loop, once per app.
    limiter: CapacityLimiter | None = getattr(request.app.state, "voting_sessions", None)
    if limiter is None:
        limiter = request.app.state.voting_sessions = CapacityLimiter(DB_SESSIONS)
    return limiter


async def in_one_transaction(request: Request, work: Callable[[Request, Session], T]) -> T:
    """``work(request, session)`` in a transaction of its own, in one worker thread."""

    def run() -> T:
        with transaction(request.app.state.session_factory) as session:
            return work(request, session)

    return await anyio.to_thread.run_sync(run, limiter=_limiter(request))


async def preview_once(request: Request, token: str) -> casting.BallotForm:
    """``preview`` in its own transaction, one thread hop."""
    return await in_one_transaction(request, partial(_preview_swapped, token))


async def cast_once(request: Request, token: str, answers: Any) -> casting.CastResult:
    """``cast`` in its own transaction, one thread hop."""
    return await in_one_transaction(request, partial(_cast_swapped, token, answers))


def _preview_swapped(token: str, request: Request, db: Session) -> casting.BallotForm:
    return preview(request, db, token)


def _cast_swapped(token: str, answers: Any, request: Request, db: Session) -> casting.CastResult:
    return cast(request, db, token, answers)
