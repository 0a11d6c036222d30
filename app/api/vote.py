"""The voting API: preview a slip's form, cast once. The token only ever rides in a body."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from app import voting
from app.api.schemas import CastIn, FormOut, ReceiptOut, TokenIn
from app.deps import SessionDep

router = APIRouter(prefix="/vote", tags=["voting"])


@router.post("/preview", response_model=FormOut)
def preview(body: TokenIn, request: Request, db: SessionDep) -> FormOut:
    """The form for a slip, without spending it."""
    return FormOut.model_validate(voting.preview(request, db, body.token))


@router.post("/cast", response_model=ReceiptOut, status_code=status.HTTP_201_CREATED)
def cast(body: CastIn, request: Request, response: Response, db: SessionDep) -> ReceiptOut:
    """Spend the slip and store the ballot; a retry of a cast that landed gets its receipt."""
    result = voting.cast(request, db, body.token, body.answers)
    if result.repeated:
        response.status_code = status.HTTP_200_OK
    return ReceiptOut.model_validate(result)
