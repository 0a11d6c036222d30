"""The round's minutes (biên bản) as a PDF download, and the site's icon."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from app.deps import CurrentReader, SessionDep
from app.web.minutes_pdf import render_minutes_pdf
from ballots import minutes

router = APIRouter(include_in_schema=False)
FAVICON = Path(__file__).resolve().parent.parent / "static" / "favicon.ico"


@router.get("/rounds/{round_id:int}/minutes.pdf")
def minutes_pdf(round_id: int, db: SessionDep, _: CurrentReader) -> Response:
    """The minutes of a round in any state, for admins and observers to print and sign."""
    pdf = render_minutes_pdf(minutes.gather(db, round_id))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="bien-ban-dot-{round_id}.pdf"'},
    )


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    """Browsers ask for it on every site; a 404 there fills logs and consoles."""
    return FileResponse(FAVICON, media_type="image/x-icon")
