"""The voting API: preview a slip's form, cast once. The token only ever rides in a body."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from app import voting
from app.api.schemas import _In
from ballots.casting import BallotForm
from ballots.questionnaire import Questionnaire

router = APIRouter(prefix="/vote", tags=["voting"])


class TokenIn(_In):
    token: str = Field(min_length=1, max_length=200, description="The slip's code")


class CastIn(TokenIn):
    answers: dict[str, Any] = Field(
        description='{"ratings": {"<subject id>": {"<criterion>": 1-4 or 0 for no opinion}}, '
        '"texts": {"<subject id>": {"<question>": "text"}}}'
    )


class SubjectOut(BaseModel):
    id: int
    role: str
    full_name: str


class FormOut(BaseModel):
    round_title: str
    unit_name: str
    subjects: list[SubjectOut]
    questionnaire: Questionnaire
    anonymity_threshold: int
    comment_threshold: int


class ReceiptOut(BaseModel):
    receipt: str
    repeated: bool = Field(description="True when this slip had already voted: same receipt")


def _form(form: BallotForm) -> FormOut:
    return FormOut(
        round_title=form.round_title,
        unit_name=form.unit_name,
        subjects=[
            SubjectOut(id=s.id, role=s.role.value, full_name=s.full_name) for s in form.subjects
        ],
        questionnaire=form.questionnaire,
        anonymity_threshold=form.anonymity_threshold,
        comment_threshold=form.comment_threshold,
    )


# Both routes are async and run their transaction in one worker thread (app/voting.py).
@router.post("/preview", response_model=FormOut)
async def preview(body: TokenIn, request: Request) -> FormOut:
    """The form for a slip, without spending it."""
    return _form(await voting.preview_once(request, body.token))


@router.post("/cast", response_model=ReceiptOut, status_code=status.HTTP_201_CREATED)
async def cast(body: CastIn, request: Request, response: Response) -> ReceiptOut:
    """Spend the slip and store the ballot; a retry of a cast that landed gets its receipt."""
    result = await voting.cast_once(request, body.token, body.answers)
    if result.repeated:
        response.status_code = status.HTTP_200_OK
    return ReceiptOut(receipt=result.receipt, repeated=result.repeated)
