"""What every console page shares: rendering, who may write, and errors shown in the page."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from app.errors import message_for, status_for
from app.i18n import N_, gettext
from ballots.accounts import User
from ballots.errors import DomainError
from ballots.vocabulary import UserRole

# Pages that show setup data, codes or counts are never kept by a browser or a proxy.
NO_STORE = {"Cache-Control": "no-store"}

# A form field's name as the page labels it, for validation messages.
FIELD_LABELS = {
    "title": N_("Title"),
    "year": N_("Year"),
    "plan_reference": N_("Plan reference"),
    "opens_at": N_("Opens"),
    "closes_at": N_("Closes"),
    "anonymity_threshold": N_("Anonymity threshold k"),
    "count": N_("Number of slips"),
    "reason": N_("Reason"),
    "phrase": N_("Public phrase"),
}


def can_write(user: User) -> bool:
    """Admins change things; observers read the same pages without the controls."""
    return user.role is UserRole.ADMIN


def render(
    request: Request,
    name: str,
    user: User,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """A console page; ``writer`` tells the template whether to show write controls."""
    response: Response = request.app.state.templates.TemplateResponse(
        request,
        name,
        {"user": user, "writer": can_write(user), **context},
        status_code=status_code,
        headers=NO_STORE,
    )
    return response


def error_status(exc: DomainError) -> int:
    """The status a page answers with for a refused action (same as the API)."""
    return status_for(exc)


def error_text(exc: DomainError) -> str:
    """The refusal in the viewer's language."""
    return message_for(exc)


def validation_text(exc: ValidationError) -> str:
    """A form that fails the API's schema: which fields to check, in the viewer's language."""
    names = []
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else ""
        label = gettext(FIELD_LABELS[field]) if field in FIELD_LABELS else field
        if label and label not in names:
            names.append(label)
    return gettext(N_("Please check: {fields}.")).format(fields=", ".join(names))


def back_to(path: str, done: str | None = None) -> Response:
    """Post/redirect/get: back to a page, saying what was done (a key of DONE_MESSAGES)."""
    return RedirectResponse(f"{path}?done={done}" if done else path, status_code=303)


DONE_MESSAGES = {
    "created": N_("The round was created."),
    "units": N_("The units were imported."),
    "heads": N_("The heads were imported."),
    "wards": N_("The wards were added to the round."),
    "electorate": N_("The electorates were saved."),
    "lottery": N_("The schools were drawn."),
    "questionnaire": N_("The questionnaire was saved."),
    "void": N_("The batch was voided: its unused slips no longer work."),
    "open": N_("Voting is open."),
    "close": N_("Voting is closed."),
    "publish": N_("The results are published to the heads."),
}


def done_message(request: Request) -> str | None:
    """The confirmation of the last action, if the address names one."""
    key = request.query_params.get("done")
    return gettext(DONE_MESSAGES[key]) if key in DONE_MESSAGES else None


# Where each checklist step is done: the path under /rounds/{id}, and whether only writers
# get the link (a confirmation page is a write control). A new step adds its line here.
STEP_PAGES: dict[str, tuple[str, bool]] = {
    "units": ("/units", False),
    "electorate": ("/units#electorate", False),
    "lottery": ("/lottery", False),
    "heads": ("/heads", False),
    "questionnaire": ("/questionnaire", False),
    "slips": ("/slips", False),
    "open": ("/open", True),
    "turnout": ("/turnout", False),
    "close": ("/close", True),
    "results": ("/results", False),
    "publish": ("/publish", True),
    "leaders": ("/leaders", False),
}
# Confirmation pages only make sense while the step is still to do.
_ONLY_WHEN_MISSING = {"open", "close", "publish"}


def step_link(round_: Any, step: Any, writer: bool) -> str | None:
    """The page of a checklist step for this viewer, or None."""
    page = STEP_PAGES.get(step.key)
    if page is None:
        return None
    path, write_only = page
    if write_only and not writer:
        return None
    if step.key in _ONLY_WHEN_MISSING and step.state.value != "missing":
        return None
    if step.key == "results" and step.state.value != "done":
        return None
    return f"/rounds/{round_.id}{path}"
