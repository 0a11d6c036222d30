"""The audit log page: filter by action and round, verify the chain, check a written head."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.csrf import CsrfProtected
from app.deps import CurrentReader, SessionDep
from app.errors import message_for
from app.i18n import N_, gettext
from ballots import audit, rounds
from ballots.errors import InvalidInput

router = APIRouter(include_in_schema=False, dependencies=[CsrfProtected])
PAGE = 100

# What each recorded action means, for the staff who read the log. The code itself stays on
# the page beside its label: the minutes, the JSON export and the filter all use the code.
ACTION_LABELS: dict[str, str] = {
    "round.created": N_("Round created"),
    "round.units_set": N_("Units taking part set"),
    "round.opened": N_("Round opened for voting"),
    "round.closed": N_("Round closed"),
    "round.published": N_("Results published"),
    "round.scrubbed": N_("Deleted data scrubbed from the files"),
    "round.scrub_failed": N_("Scrub of the files not finished"),
    "units.imported": N_("Units imported"),
    "subjects.imported": N_("Heads imported"),
    "questionnaire.replaced": N_("Questionnaire changed"),
    "lottery.drawn": N_("School lottery drawn"),
    "lottery.redrawn": N_("School lottery drawn again"),
    "tokens.issued": N_("Slips issued"),
    "tokens.voided": N_("Slip batch voided"),
    "leaders.created": N_("Heads' accounts created"),
    "leader.bound": N_("Head's account linked to a head"),
    "results.viewed": N_("Results viewed"),
    "report.viewed": N_("Report viewed"),
    "user.created": N_("Account created"),
    "user.disabled": N_("Account disabled"),
    "user.enabled": N_("Account enabled"),
    "user.password_reset": N_("Password reset"),
    "user.password_set": N_("Password set"),
}


def action_label(action: str) -> str:
    """The action in the viewer's language; an unknown code is shown as recorded."""
    label = ACTION_LABELS.get(action)
    return gettext(label) if label else action


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
            "action_label": action_label,
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
