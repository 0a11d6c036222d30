"""The JSON API under /api/v1."""

from fastapi import APIRouter

from app.api import auth, results, rounds, setup, units, vote

router = APIRouter(prefix="/api/v1")
# Voting first: routes are tried in order, and casts are most of the traffic at a meeting.
router.include_router(vote.router)
router.include_router(auth.router)
router.include_router(units.router)
router.include_router(rounds.router)
router.include_router(setup.router)
router.include_router(results.router)
