"""Round setup: slips, the school lottery, the lifecycle, and the audit log."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, Response, UploadFile, status

from app.api.schemas import (
    AuditEntryOut,
    BatchOut,
    CloseIn,
    LotteryIn,
    LotteryProofOut,
    LotteryVerificationOut,
    OpenIn,
    OpenOut,
    ScrubOut,
    ShareOut,
    SlipsIn,
    TransitionOut,
    UnitTokensOut,
    VerdictOut,
    VoidIn,
)
from app.deps import CurrentAdmin, CurrentReader, SessionDep, SettingsDep
from app.uploads import read_upload
from ballots import audit, key_ceremony, lifecycle, lottery, scrub, tally, tokens
from ballots.errors import InvalidInput
from ballots.share_sheets import render_share_sheet

router = APIRouter(tags=["round setup"])


@router.post(
    "/rounds/{round_id}/slips",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def issue_slips(
    round_id: int, body: SlipsIn, db: SessionDep, settings: SettingsDep, admin: CurrentAdmin
) -> Response:
    """Make a batch of one-time tokens; the reply is the print-ready PDF, given once."""
    issued = tokens.issue_slips(
        db,
        round_id,
        body.unit_code,
        body.count,
        base_url=settings.public_base_url,
        actor=admin.username,
        override_electorate=body.override_electorate,
    )
    name = f"phieu-{issued.unit.code}-lo-{issued.batch.id}.pdf"
    return Response(
        issued.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Batch-Id": str(issued.batch.id),
        },
    )


@router.get("/rounds/{round_id}/slips", response_model=list[BatchOut])
def list_batches(round_id: int, db: SessionDep, _: CurrentReader) -> list[BatchOut]:
    """Batches of slips issued for the round."""
    return [
        BatchOut(
            id=b.id,
            unit_code=code,
            size=b.size,
            over_electorate=b.over_electorate,
            voided=b.voided_at is not None,
        )
        for b, code in tokens.list_batches(db, round_id)
    ]


@router.post("/batches/{batch_id}/void", response_model=BatchOut)
def void_batch(batch_id: int, body: VoidIn, db: SessionDep, admin: CurrentAdmin) -> BatchOut:
    """Void a batch: its unused slips stop working; used ones stay counted."""
    voided = tokens.void_batch(db, batch_id, actor=admin.username, reason=body.reason)
    batch = voided.batch
    return BatchOut(
        id=batch.id,
        unit_code=voided.unit_code,
        size=batch.size,
        over_electorate=batch.over_electorate,
        voided=True,
    )


@router.get("/rounds/{round_id}/turnout", response_model=list[UnitTokensOut])
def turnout(round_id: int, db: SessionDep, _: CurrentReader) -> list[UnitTokensOut]:
    """Per unit: electorate, live slips, slips used, ballots. Counts only, never results."""
    return [
        UnitTokensOut(
            unit_code=t.unit_code,
            unit_name=t.unit_name,
            electorate=t.electorate,
            live_tokens=t.live_tokens,
            used_tokens=t.ballots,
            ballots=t.ballots,
        )
        for t in tally.turnout(db, round_id)
    ]


@router.post(
    "/rounds/{round_id}/lottery",
    response_model=LotteryProofOut,
    status_code=status.HTTP_201_CREATED,
)
def draw_lottery(
    round_id: int, body: LotteryIn, db: SessionDep, admin: CurrentAdmin
) -> LotteryProofOut:
    """Draw the schools; a redraw needs a reason and is refused once slips exist."""
    draw = lottery.draw_schools(
        db,
        round_id,
        phrase=body.phrase,
        counts=body.counts,
        excluded=body.excluded,
        reason=body.reason,
        actor=admin.username,
    )
    return LotteryProofOut.model_validate(lottery.proof(draw))


@router.get("/rounds/{round_id}/lottery", response_model=LotteryProofOut)
def lottery_proof(round_id: int, db: SessionDep, _: CurrentReader) -> LotteryProofOut:
    """The lottery proof: inputs, algorithm version, seed and chosen schools."""
    return LotteryProofOut.model_validate(lottery.proof(lottery.get_draw(db, round_id)))


@router.get("/rounds/{round_id}/lottery/verify", response_model=LotteryVerificationOut)
def verify_lottery(round_id: int, db: SessionDep, _: CurrentReader) -> LotteryVerificationOut:
    """Re-run the draw from the stored inputs and say whether it matches."""
    return LotteryVerificationOut.model_validate(lottery.verify_draw(db, round_id))


def _transition(
    t: lifecycle.Transition, scrubbed: scrub.ScrubResult | None = None
) -> TransitionOut:
    return TransitionOut(
        round_id=t.round.id,
        status=t.round.status.value,
        audit_head=f"{t.head_seq}:{t.head_hash}",
        scrub=None if scrubbed is None else ScrubOut(done=scrubbed.done, detail=scrubbed.detail),
    )


@router.post("/rounds/{round_id}/open", response_model=OpenOut)
def open_round(
    round_id: int, db: SessionDep, admin: CurrentAdmin, body: OpenIn | None = None
) -> OpenOut:
    """Open voting with the key ceremony (needs slips); the setup is frozen from here.

    The ballot box is sealed: each key holder gets a share, returned here once and never
    kept; k of them are needed to close the round.
    """
    if body is None:
        raise InvalidInput(
            "A round opens with its key ceremony: name the key holders (key_holders, "
            "at least 2; shares_needed, default 3).",
            field="key_holders",
        )
    done = lifecycle.open_round(
        db,
        round_id,
        actor=admin.username,
        key_holders=body.key_holders,
        shares_needed=body.shares_needed,
    )
    shares = [
        ShareOut(
            number=s.number,
            holder=s.holder,
            share=s.text,
            file_name=s.file_name,
            sheet_pdf_base64=base64.b64encode(
                render_share_sheet(s.share, holder=s.holder, round_title=done.round.title)
            ).decode(),
        )
        for s in done.shares
    ]
    first = done.shares[0].share
    return OpenOut(
        **_transition(done).model_dump(),
        shares_needed=first.needed,
        key_holders=first.holders,
        shares=shares,
    )


def _close(
    round_id: int, shares: list[str], request: Request, db: Any, actor: str
) -> TransitionOut:
    done = lifecycle.close_round(db, round_id, actor=actor, shares=shares)
    # The scrub runs outside any transaction and must see the close: commit it first.
    db.commit()
    scrubbed: scrub.ScrubResult = request.app.state.scrub_box()
    # The head answered stays the close's (the minutes carry it); the scrub's entry follows.
    scrub.record(db, round_id, scrubbed, actor=actor)
    return _transition(done, scrubbed)


@router.post("/rounds/{round_id}/close", response_model=TransitionOut)
def close_round(
    round_id: int,
    request: Request,
    db: SessionDep,
    admin: CurrentAdmin,
    body: CloseIn | None = None,
) -> TransitionOut:
    """Close voting for good with k key shares (sealed rounds); the box is opened, rewritten
    in random order, then the files scrubbed. Too few or a bad share: nothing changes.

    The answer comes once the scrub is done and verified, or says that it could not be.
    """
    return _close(round_id, body.shares if body else [], request, db, admin.username)


@router.post("/rounds/{round_id}/close/upload", response_model=TransitionOut)
def close_round_upload(
    round_id: int,
    request: Request,
    db: SessionDep,
    admin: CurrentAdmin,
    share: Annotated[list[UploadFile], File(description="The holders' share files.")],
) -> TransitionOut:
    """The same close, with the holders' share files uploaded (multipart, field ``share``)."""
    if len(share) > key_ceremony.MAX_KEY_HOLDERS:
        raise InvalidInput(
            "At most {max} share files.",
            params={"max": key_ceremony.MAX_KEY_HOLDERS},
            field="share",
        )
    texts = []
    for f in share:
        try:
            texts.append(read_upload(f).decode("utf-8"))
        except UnicodeDecodeError:
            raise InvalidInput("A share file is text (UTF-8).", field="share") from None
    return _close(round_id, texts, request, db, admin.username)


@router.post("/rounds/{round_id}/publish", response_model=TransitionOut)
def publish_round(round_id: int, db: SessionDep, admin: CurrentAdmin) -> TransitionOut:
    """Release the reports to the heads."""
    return _transition(lifecycle.publish_round(db, round_id, actor=admin.username))


@router.get("/audit", response_model=list[AuditEntryOut])
def audit_entries(
    db: SessionDep,
    _: CurrentReader,
    after: int = Query(default=0, ge=0),
    limit: int = Query(default=500, ge=1, le=5000),
) -> list[audit.AuditEntry]:
    """Audit entries after a sequence number, oldest first."""
    return audit.entries(db, after=after, limit=limit)


@router.get("/audit/verify", response_model=VerdictOut)
def audit_verify(
    db: SessionDep,
    _: CurrentReader,
    head: str | None = Query(default=None, description="SEQ:HASH written down earlier"),
) -> VerdictOut:
    """Verify the whole chain, optionally against a head from the minutes."""
    verdict = audit.verify(db, audit.parse_head(head) if head else None)
    return VerdictOut(
        ok=verdict.ok,
        entries_checked=verdict.entries_checked,
        head=f"{verdict.head[0]}:{verdict.head[1]}" if verdict.head else None,
        first_broken_seq=verdict.first_broken_seq,
        reason=verdict.reason,
    )
