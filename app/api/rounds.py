"""Rounds: create, read, units taking part, subjects and questionnaire."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, UploadFile, status

from app.api.schemas import ImportOut, RoundIn, RoundOut, RoundUnitIn, RoundUnitOut, SubjectOut
from app.deps import CurrentAdmin, CurrentReader, SessionDep, SettingsDep
from app.uploads import read_upload
from ballots import participants, rounds, subjects
from ballots.questionnaire import Questionnaire

router = APIRouter(prefix="/rounds", tags=["rounds"])


@router.get("", response_model=list[RoundOut])
def list_rounds(db: SessionDep, _: CurrentReader) -> list[rounds.Round]:
    """All rounds, newest first."""
    return rounds.list_rounds(db)


@router.post("", response_model=RoundOut, status_code=status.HTTP_201_CREATED)
def create_round(
    body: RoundIn, db: SessionDep, settings: SettingsDep, admin: CurrentAdmin
) -> rounds.Round:
    """Create a round in draft with the default questionnaire."""
    return rounds.create_round(
        db,
        title=body.title,
        year=body.year,
        plan_reference=body.plan_reference,
        opens_at=body.opens_at,
        closes_at=body.closes_at,
        anonymity_threshold=body.anonymity_threshold or settings.anonymity_threshold,
        actor=admin.username,
    )


@router.get("/{round_id}", response_model=RoundOut)
def read_round(round_id: int, db: SessionDep, _: CurrentReader) -> rounds.Round:
    """One round."""
    return rounds.get_round(db, round_id)


@router.get("/{round_id}/units", response_model=list[RoundUnitOut])
def list_round_units(
    round_id: int, db: SessionDep, _: CurrentReader
) -> list[participants.Participant]:
    """The units taking part, with their electorate."""
    return participants.list_round_units(db, round_id)


@router.put("/{round_id}/units", response_model=list[RoundUnitOut])
def set_round_units(
    round_id: int, body: list[RoundUnitIn], db: SessionDep, admin: CurrentAdmin
) -> list[participants.Participant]:
    """Replace the set of units taking part (draft only); electorate defaults to the unit's."""
    return participants.set_round_units(
        db, round_id, [(u.unit_code, u.electorate) for u in body], actor=admin.username
    )


@router.get("/{round_id}/subjects", response_model=list[SubjectOut])
def list_subjects(round_id: int, db: SessionDep, _: CurrentReader) -> list[SubjectOut]:
    """Who holds each head role in the round."""
    return [
        SubjectOut(
            id=s.id,
            unit_code=s.unit.code,
            unit_name=s.unit.name,
            role=s.role,
            full_name=s.person.full_name,
        )
        for s in subjects.list_subjects(db, round_id)
    ]


@router.post("/{round_id}/subjects/import", response_model=ImportOut)
def import_subjects(
    round_id: int, file: UploadFile, db: SessionDep, admin: CurrentAdmin
) -> ImportOut:
    """Record the heads of units from CSV (unit_code,role,full_name[,person_ref]); draft only."""
    created, updated = subjects.import_subjects(
        db, round_id, read_upload(file), actor=admin.username
    )
    return ImportOut(created=created, updated=updated)


@router.get("/{round_id}/questionnaire", response_model=Questionnaire)
def read_questionnaire(round_id: int, db: SessionDep, _: CurrentReader) -> Questionnaire:
    """The round's questionnaire."""
    return rounds.get_questionnaire(db, round_id)


@router.put("/{round_id}/questionnaire", response_model=Questionnaire)
def replace_questionnaire(
    round_id: int, db: SessionDep, admin: CurrentAdmin, body: dict[str, Any] = Body(...)
) -> Questionnaire:
    """Replace the questionnaire while the round is a draft."""
    return rounds.replace_questionnaire(db, round_id, body, actor=admin.username)
