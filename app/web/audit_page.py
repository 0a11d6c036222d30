"""The audit log page: filter by action and round, verify the chain, check a written head."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.csrf import CsrfProtected
from app.deps import CurrentReader, SessionDep
from app.errors import message_for
from ballots import audit, rounds
from ballots.errors import InvalidInput

router = APIRouter(include_in_schema=False, dependencies=[CsrfProtected])
PAGE = 100


def _payload(entry: audit.AuditEntry) -> str:
    return json.dumps(entry.payload, ensure_ascii=False, sort_keys=True)


@router.get("/audit")
def audit_page(
    request: Request,
    db: SessionDep,
    user: CurrentReader,
    action: Annotated[str, Query(max_length=64)] = "",
    round_id: Annotated[int | None, Query(alias="round", ge=1)] = None,
    before: Annotated[int | None, Query(ge=1)] = None,
    verify: Annotated[str, Query(max_length=8)] = "",
    head: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """Newest entries first, a hundred a page; verification runs only when asked."""
    entries = audit.search(db, action=action or None, round_id=round_id, before=before, limit=PAGE)
    verdict, head_error = None, None
    if verify:
        try:
            expected = audit.parse_head(head) if head.strip() else None
            verdict = audit.verify(db, expected)
        except InvalidInput as exc:
            head_error = message_for(exc)
    response: Response = request.app.state.templates.TemplateResponse(
        request,
        "audit.html",
        {
            "user": user,
            "entries": entries,
            "payload": _payload,
            "actions": audit.actions(db),
            "rounds": rounds.list_rounds(db),
            "action": action,
            "round_id": round_id,
            "head": head,
            "verdict": verdict,
            "head_error": head_error,
            "older": entries[-1].seq if len(entries) == PAGE else None,
            "current_head": audit.head(db),
        },
        status_code=422 if head_error else 200,
    )
    return response
