"""The voting API: preview a slip's form, cast once. The token only ever rides in a body."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from app import voting
from app.api.schemas import CastIn, FormOut, ReceiptOut, TokenIn

router = APIRouter(prefix="/vote", tags=["voting"])


# Both routes are async and run their transaction in one worker thread (app/voting.py).
@router.post("/preview", response_model=FormOut)
async def preview(body: TokenIn, request: Request) -> FormOut:
    """The form for a slip, without spending it."""
    return FormOut.model_validate(await voting.preview_once(request, body.token))


@router.post("/cast", response_model=ReceiptOut, status_code=status.HTTP_201_CREATED)
async def cast(body: CastIn, request: Request, response: Response) -> ReceiptOut:
    """Spend the slip and store the ballot; a retry of a cast that landed gets its receipt."""
    result = await voting.cast_once(request, body.token, body.answers)
    if result.repeated:
        response.status_code = status.HTTP_200_OK
    return ReceiptOut.model_validate(result)
