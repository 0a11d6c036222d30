"""Leader accounts for the heads of a published round, set up with one-time codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ballots import accounts, audit, setup_codes
from ballots.accounts import LeaderSubject, User
from ballots.errors import InvalidState
from ballots.reports import subjects_taking_part
from ballots.rounds import Round, get_round
from ballots.subjects import Subject
from ballots.vocabulary import RoundStatus, UserRole

# Kept under these names for callers that know leaders only.
SETUP_CODE_LENGTH = setup_codes.SETUP_CODE_LENGTH
SETUP_VALID_FOR = setup_codes.SETUP_VALID_FOR
complete_setup = setup_codes.complete_setup


@dataclass(frozen=True)
class LeaderInvite:
    """A head's login: a new account with its setup code (shown once), or one linked."""

    subject_id: int
    unit_name: str
    role: str
    full_name: str
    username: str
    setup_code: str | None  # None: an existing account was linked, its password stands


def _existing_account(session: Session, person_id: int) -> User | None:
    # The same person heading a unit in an earlier round keeps one account, so their
    # trend across rounds sits behind one login.
    return session.scalar(
        select(User)
        .join(LeaderSubject, LeaderSubject.user_id == User.id)
        .join(Subject, Subject.id == LeaderSubject.subject_id)
        .where(Subject.person_id == person_id, User.role == UserRole.LEADER)
        .limit(1)
    )


def create_leader_accounts(
    session: Session, round_id: int, *, actor: str, now: datetime
) -> list[LeaderInvite]:
    """Give every head of a published round a login; codes are returned once, never again."""
    round_ = get_round(session, round_id)
    if round_.status is not RoundStatus.PUBLISHED:
        raise InvalidState(
            "Leader accounts are made once results are published; the round is {status}.",
            params={"status": round_.status.value},
            status=round_.status.value,
        )
    invites = []
    for subject in subjects_taking_part(session, round_id):
        if session.scalar(select(LeaderSubject).where(LeaderSubject.subject_id == subject.id)):
            continue
        user = _existing_account(session, subject.person_id)
        code: str | None = None
        if user is None:
            user = accounts.create_user(
                session,
                username=f"lanhdao{subject.person_id}",
                full_name=subject.person.full_name,
                role=UserRole.LEADER,
                password=None,
                actor=actor,
            )
            code = setup_codes.issue(user, now)
        accounts.bind_leader(session, user, subject.id, actor=actor)
        invites.append(
            LeaderInvite(
                subject_id=subject.id,
                unit_name=subject.unit.name,
                role=subject.role.value,
                full_name=subject.person.full_name,
                username=user.username,
                setup_code=code,
            )
        )
    audit.record(
        session,
        actor=actor,
        action="leaders.created",
        payload={
            "round_id": round_id,
            "accounts": sorted({i.username for i in invites if i.setup_code}),
            "linked": sorted({i.username for i in invites if not i.setup_code}),
        },
    )
    session.flush()
    return invites


def my_subjects(session: Session, user: User) -> list[Subject]:
    """A leader's subjects in published rounds, newest first."""
    return list(
        session.scalars(
            select(Subject)
            .join(LeaderSubject, LeaderSubject.subject_id == Subject.id)
            .join(Round, Round.id == Subject.round_id)
            .where(LeaderSubject.user_id == user.id, Round.status == RoundStatus.PUBLISHED)
            .options(joinedload(Subject.unit), joinedload(Subject.person))
            .order_by(Round.year.desc(), Subject.id)
        )
    )


def account_of(session: Session, subject_id: int) -> User | None:
    """The leader account bound to a subject, if one was made."""
    return session.scalar(
        select(User)
        .join(LeaderSubject, LeaderSubject.user_id == User.id)
        .where(LeaderSubject.subject_id == subject_id)
    )
