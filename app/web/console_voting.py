"""Console: slips (issue, void), open / close / publish behind a confirmation, turnout."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from app.csrf import CsrfProtected
from app.deps import CurrentAdmin, CurrentReader, SessionDep, SettingsDep
from app.i18n import N_, gettext
from app.uploads import read_upload
from app.web.console_common import (
    NO_STORE,
    back_to,
    done_message,
    error_status,
    error_text,
    render,
)
from ballots import key_ceremony, lifecycle, rounds, tally, tokens
from ballots.accounts import User
from ballots.errors import DomainError, InvalidInput, NotFound
from ballots.share_sheets import render_share_sheet
from ballots.vocabulary import RoundStatus

router = APIRouter(include_in_schema=False, dependencies=[CsrfProtected])

Short = Annotated[str, Form(max_length=500)]


def _slips_page(
    request: Request,
    db: Session,
    user: User,
    round_id: int,
    *,
    form: dict[str, str] | None = None,
    error: str | None = None,
    over: bool = False,
    status_code: int = 200,
) -> Response:
    round_ = rounds.get_round(db, round_id)
    return render(
        request,
        "console/slips.html",
        user,
        status_code=status_code,
        round=round_,
        summary=tokens.token_summary(db, round_id),
        batches=tokens.list_batches(db, round_id),
        can_issue=round_.status in (RoundStatus.DRAFT, RoundStatus.OPEN),
        max_batch=tokens.MAX_BATCH,
        form=form or {},
        error=error,
        over=over,
        done=done_message(request),
    )


@router.get("/rounds/{round_id:int}/slips")
def slips_page(request: Request, round_id: int, db: SessionDep, user: CurrentReader) -> Response:
    """Slips per unit, the form to issue a batch, and the batches with their state."""
    return _slips_page(request, db, user, round_id)


@router.post("/rounds/{round_id:int}/slips")
def issue_slips(
    request: Request,
    round_id: int,
    db: SessionDep,
    settings: SettingsDep,
    admin: CurrentAdmin,
    unit_code: Short = "",
    count: Short = "",
    override: Short = "",
    reason: Short = "",
) -> Response:
    """Make a batch; the answer is the print-ready PDF, given this once and never again."""
    form = {"unit_code": unit_code, "count": count, "override": override, "reason": reason}
    try:
        if not count.strip().isdigit() or len(count.strip()) > 6:
            raise InvalidInput("A batch has 1-{n} slips.", params={"n": tokens.MAX_BATCH})
        if override and not reason.strip():
            raise InvalidInput(N_("Say why more slips than voters are needed; it is logged."))
        issued = tokens.issue_slips(
            db,
            round_id,
            unit_code,
            int(count.strip()),
            base_url=settings.public_base_url,
            actor=admin.username,
            override_electorate=bool(override),
            override_reason=reason.strip() or None,
        )
    except DomainError as exc:
        over = "electorate" in exc.details and "live" in exc.details
        return _slips_page(
            request,
            db,
            admin,
            round_id,
            form=form,
            error=error_text(exc),
            over=over or bool(override),
            status_code=error_status(exc),
        )
    name = f"phieu-{issued.unit.code}-lo-{issued.batch.id}.pdf"
    return Response(
        issued.pdf,
        media_type="application/pdf",
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'},
    )


def _batch_of_round(db: Session, round_id: int, batch_id: int) -> tuple[tokens.TokenBatch, str]:
    for batch, code in tokens.list_batches(db, round_id):
        if batch.id == batch_id:
            return batch, code
    raise NotFound("Batch {batch_id} does not exist.", params={"batch_id": batch_id})


@router.get("/rounds/{round_id:int}/batches/{batch_id:int}/void")
def void_confirm(
    request: Request, round_id: int, batch_id: int, db: SessionDep, admin: CurrentAdmin
) -> Response:
    """Ask before voiding a batch, and why."""
    batch, code = _batch_of_round(db, round_id, batch_id)
    return render(
        request,
        "console/confirm_void.html",
        admin,
        round=rounds.get_round(db, round_id),
        batch=batch,
        unit_code=code,
        error=None,
    )


@router.post("/rounds/{round_id:int}/batches/{batch_id:int}/void")
def void_batch(
    request: Request,
    round_id: int,
    batch_id: int,
    db: SessionDep,
    admin: CurrentAdmin,
    reason: Short = "",
) -> Response:
    """Void the batch: its unused slips stop working; used ones stay counted."""
    batch, code = _batch_of_round(db, round_id, batch_id)
    try:
        if not reason.strip():
            raise InvalidInput("Say why the batch is voided.")
        tokens.void_batch(db, batch_id, actor=admin.username, reason=reason.strip())
    except DomainError as exc:
        return render(
            request,
            "console/confirm_void.html",
            admin,
            status_code=error_status(exc),
            round=rounds.get_round(db, round_id),
            batch=batch,
            unit_code=code,
            error=error_text(exc),
        )
    return back_to(f"/rounds/{round_id}/slips", "void")


# ------------------------------------------------------------------ the lifecycle

# What each step does and what it makes impossible, said on its confirmation page.
TRANSITIONS = {
    "open": (
        N_("Open voting"),
        N_("Voters can vote with their slips from now on."),
        N_(
            "This cannot be undone: the units, the heads, the questionnaire and the threshold "
            "k are frozen, and the lottery can no longer be drawn again."
        ),
    ),
    "close": (
        N_("Close voting"),
        N_(
            "No ballot is accepted any more, and the ballots are shuffled so that their order "
            "tells nothing. The results can then be read."
        ),
        N_(
            "This cannot be undone: voting cannot be reopened, and unused slips stop working "
            "for good."
        ),
    ),
    "publish": (
        N_("Publish the results"),
        N_("Each head can then read their own aggregated report."),
        N_("This cannot be undone: a published report cannot be withdrawn."),
    ),
}


def _confirmation(
    request: Request,
    db: Session,
    admin: User,
    round_id: int,
    action: str,
    *,
    error: str | None = None,
    status_code: int = 200,
    form_holders: list[str] | None = None,
) -> Response:
    title, effect, irreversible = TRANSITIONS[action]
    key = key_ceremony.box_key(db, round_id)
    return render(
        request,
        "console/confirm_transition.html",
        admin,
        status_code=status_code,
        round=rounds.get_round(db, round_id),
        action=action,
        title=gettext(title),
        effect=gettext(effect),
        irreversible=gettext(irreversible),
        error=error,
        # The key ceremony at the opening; the shares asked for at the close (sealed rounds).
        holders=form_holders or [""] * DEFAULT_HOLDERS,
        shares_needed=key.shares_needed if key else key_ceremony.DEFAULT_SHARES_NEEDED,
        sealed=key is not None,
    )


MOVES: dict[str, Callable[..., lifecycle.Transition]] = {
    "open": lifecycle.open_round,
    "close": lifecycle.close_round,
    "publish": lifecycle.publish_round,
}


def _routes_for(action: str) -> None:
    """GET shows the confirmation page; POST does the step (one pair per action)."""

    def confirm(request: Request, round_id: int, db: SessionDep, admin: CurrentAdmin) -> Response:
        return _confirmation(request, db, admin, round_id, action)

    def act(
        request: Request,
        round_id: int,
        db: SessionDep,
        admin: CurrentAdmin,
        background: BackgroundTasks,
    ) -> Response:
        try:
            MOVES[action](db, round_id, actor=admin.username)
        except DomainError as exc:
            return _confirmation(
                request,
                db,
                admin,
                round_id,
                action,
                error=error_text(exc),
                status_code=error_status(exc),
            )
        if action == "close":
            # As the API does: the box was rewritten in this transaction; scrub after commit.
            background.add_task(request.app.state.scrub_box)
        return back_to(f"/rounds/{round_id}", action)

    confirm.__doc__ = f"The confirmation page of '{action}'."
    act.__doc__ = f"Do '{action}', as confirmed."
    path = f"/rounds/{{round_id:int}}/{action}"
    router.add_api_route(path, confirm, methods=["GET"], name=f"confirm_{action}")
    if action not in ("open", "close"):  # those two have their own forms, below
        router.add_api_route(path, act, methods=["POST"], name=f"do_{action}")


for _action in TRANSITIONS:
    _routes_for(_action)


# ------------------------------------------------------------- sealed box

DEFAULT_HOLDERS = 5


@router.post("/rounds/{round_id:int}/open")
def do_open(
    request: Request,
    round_id: int,
    db: SessionDep,
    admin: CurrentAdmin,
    holder: Annotated[list[str] | None, Form(max_length=200)] = None,
    shares_needed: Annotated[int | None, Form(ge=2, le=key_ceremony.MAX_KEY_HOLDERS)] = None,
) -> Response:
    """Open with the key ceremony; the answer shows each holder's share once, never again."""
    names = [h for h in (holder or []) if h.strip()]
    try:
        done = lifecycle.open_round(
            db, round_id, actor=admin.username, key_holders=names, shares_needed=shares_needed
        )
    except DomainError as exc:
        db.rollback()  # nothing of a refused ceremony may be committed with the page
        return _confirmation(
            request,
            db,
            admin,
            round_id,
            "open",
            error=error_text(exc),
            status_code=error_status(exc),
            form_holders=(holder or [])[: key_ceremony.MAX_KEY_HOLDERS],
        )
    sheets = [
        {
            "number": s.number,
            "holder": s.holder,
            "file_name": s.file_name,
            "text_b64": base64.b64encode((s.text + "\n").encode()).decode(),
            "pdf_b64": base64.b64encode(
                render_share_sheet(s.share, holder=s.holder, round_title=done.round.title)
            ).decode(),
        }
        for s in done.shares
    ]
    first = done.shares[0].share
    response = render(
        request,
        "console/key_shares.html",
        admin,
        round=done.round,
        sheets=sheets,
        needed=first.needed,
        total=first.holders,
        audit_head=f"{done.head_seq}:{done.head_hash}",
    )
    response.headers.update(NO_STORE)
    return response


@router.post("/rounds/{round_id:int}/close")
def do_close(
    request: Request,
    round_id: int,
    db: SessionDep,
    admin: CurrentAdmin,
    background: BackgroundTasks,
    share: Annotated[list[str] | None, Form(max_length=2000)] = None,
    share_file: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    """Close with k key shares, typed or uploaded; a refusal changes nothing and says why."""
    texts = [t for t in (share or []) if t.strip()]
    try:
        for f in (share_file or [])[: key_ceremony.MAX_KEY_HOLDERS]:
            if f.filename:
                try:
                    texts.append(read_upload(f).decode("utf-8"))
                except UnicodeDecodeError:
                    raise InvalidInput("A share file is text (UTF-8).", field="share") from None
        lifecycle.close_round(db, round_id, actor=admin.username, shares=texts)
    except DomainError as exc:
        # A box that failed to open may leave opened ones written: none of it is committed.
        db.rollback()
        return _confirmation(
            request,
            db,
            admin,
            round_id,
            "close",
            error=error_text(exc),
            status_code=error_status(exc),
        )
    # As the API does: the box was rewritten in this transaction; scrub after commit.
    background.add_task(request.app.state.scrub_box)
    return back_to(f"/rounds/{round_id}", "close")


# ------------------------------------------------------------------ turnout


@router.get("/rounds/{round_id:int}/turnout")
def turnout_page(request: Request, round_id: int, db: SessionDep, user: CurrentReader) -> Response:
    """Ballots per unit beside slips and electorate; refreshes itself while voting is open."""
    round_ = rounds.get_round(db, round_id)
    return render(
        request,
        "console/turnout.html",
        user,
        round=round_,
        rows=tally.turnout(db, round_id),
        live=round_.status is RoundStatus.OPEN,
    )


@router.get("/rounds/{round_id:int}/turnout.json")
def turnout_json(round_id: int, db: SessionDep, _: CurrentReader) -> Response:
    """The same counts for the page's script: counts only, never results."""
    round_ = rounds.get_round(db, round_id)
    rows = tally.turnout(db, round_id)
    return JSONResponse(
        {
            "status": round_.status.value,
            "units": [
                {
                    "code": t.unit_code,
                    "ballots": t.ballots,
                    "live": t.live_tokens,
                    "electorate": t.electorate,
                }
                for t in rows
            ],
            "ballots": sum(t.ballots for t in rows),
        },
        headers=NO_STORE,
    )
