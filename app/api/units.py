"""Units: list and import from CSV."""

from __future__ import annotations

from fastapi import APIRouter, UploadFile, status

from app.api.schemas import ImportOut, UnitOut
from app.deps import CurrentAdmin, CurrentReader, SessionDep
from app.uploads import read_upload
from ballots import units

router = APIRouter(tags=["units"])


@router.get("/units", response_model=list[UnitOut])
def list_units(db: SessionDep, _: CurrentReader) -> list[units.Unit]:
    """All units known to the district."""
    return units.list_units(db)


@router.post("/units/import", response_model=ImportOut, status_code=status.HTTP_200_OK)
def import_units(file: UploadFile, db: SessionDep, admin: CurrentAdmin) -> units.ImportSummary:
    """Create or update units from a CSV file (code,kind,level,name,ward[,electorate])."""
    return units.import_units(db, read_upload(file), actor=admin.username)
