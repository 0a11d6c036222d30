"""Reports: SQL tally, the threshold k for everybody, leaders see only their own (inv. 5, 6)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ballots import accounts, audit, casting, leaders, lifecycle, reports, tally
from ballots.db import utcnow
from ballots.errors import AuthenticationFailed, InvalidState, NotFound
from ballots.subjects import Subject
from ballots.vocabulary import Role, UserRole
from tests.ballot_helpers import answers_for, open_round_with_slips

# Phường Bồ Đề: 7 ballots (k = 5 met, comments met); Phường Cự Khối: 4 ballots (below k);
# Trường Mầm non Bồ Đề: 5 ballots.
VOTES = {"PHUONG-BODE": [4, 4, 3, 3, 2, 0, 4], "PHUONG-CUKHOI": [1, 2, 3, 4], "MN-BODE": [3] * 5}


@pytest.fixture
def closed_round(db: Session, sample_data: Path) -> int:
    """A closed round with the votes above, each ballot with a comment on the first head."""
    round_id, slips = open_round_with_slips(db, sample_data, {u: len(v) for u, v in VOTES.items()})
    for unit, values in VOTES.items():
        for i, (token, value) in enumerate(zip(slips[unit], values, strict=True)):
            form = casting.preview(db, token)
            casting.cast(db, token, answers_for(form, value=value, strengths=f"{unit} ý kiến {i}"))
    lifecycle.close_round(db, round_id, actor="test")
    return round_id


def _user(db: Session, role: UserRole, name: str = "xem") -> accounts.User:
    return accounts.create_user(
        db, username=name, full_name=name, role=role, password="mật khẩu đủ dài", actor="test"
    )


def _subject(db: Session, round_id: int, unit: str, role: Role) -> Subject:
    for s in reports.subjects_taking_part(db, round_id):
        if s.unit.code == unit and s.role is role:
            return s
    raise AssertionError(unit)


class TestTally:
    """The SQL tally."""

    def test_counts_per_value_and_no_opinion(self, db: Session, closed_round: int) -> None:
        """Bồ Đề's secretary: 3x4, 2x3, 1x2 and one 'no opinion' on every criterion."""
        subject = _subject(db, closed_round, "PHUONG-BODE", Role.WARD_PARTY_SECRETARY)
        counts = tally.criterion_counts(db, closed_round)[subject.id]
        (first, *_) = tally.criteria_of(counts, 7)
        assert first.counts == {4: 3, 3: 2, 2: 1}
        assert first.no_opinion == 1
        assert first.mean == pytest.approx(20 / 6)
        assert tally.ballots_per_unit(db, closed_round)[subject.unit_id] == 7

    def test_one_unit_equals_the_whole_round_for_its_subjects(
        self, db: Session, closed_round: int
    ) -> None:
        """The per-unit query used by reports gives the same counts as the full tally."""
        subject = _subject(db, closed_round, "PHUONG-BODE", Role.WARD_CHAIRPERSON)
        whole = tally.criterion_counts(db, closed_round)[subject.id]
        one = tally.criterion_counts(db, closed_round, unit_id=subject.unit_id)[subject.id]
        assert whole == one


class TestThreshold:
    """Invariant 6: below k no numbers, for everybody."""

    def test_invariant_6_below_k_no_numbers_even_for_admins(
        self, db: Session, closed_round: int
    ) -> None:
        """Four ballots under k = 5: the admin's report holds no count, mean or comment."""
        admin = _user(db, UserRole.ADMIN)
        subject = _subject(db, closed_round, "PHUONG-CUKHOI", Role.WARD_CHAIRPERSON)
        report = reports.subject_report(db, subject.id, viewer=admin)
        assert not report.enough
        assert report.ballots is None
        assert report.criteria is None
        assert report.overall_mean is None
        assert report.comments is None
        row = next(
            r
            for r in reports.round_results(db, closed_round, viewer=admin)
            if r.subject_id == subject.id
        )
        assert (row.ballots, row.overall_mean, row.criterion_means) == (None, None, None)

    def test_invariant_6_at_k_numbers_and_comments_in_random_order(
        self, db: Session, closed_round: int
    ) -> None:
        """Seven ballots: counts, means, the district mean, and all seven comments."""
        admin = _user(db, UserRole.ADMIN)
        subject = _subject(db, closed_round, "PHUONG-BODE", Role.WARD_PARTY_SECRETARY)
        report = reports.subject_report(db, subject.id, viewer=admin)
        assert report.enough
        assert report.ballots == 7
        assert report.criteria is not None
        assert report.criteria[0].counts == {4: 3, 3: 2, 2: 1}
        # Cự Khối's secretary is below k and left out of the district mean.
        assert report.criteria[0].district_mean == pytest.approx(20 / 6)
        assert report.comments is not None
        assert sorted(t for _, t in report.comments) == [
            f"PHUONG-BODE ý kiến {i}" for i in range(7)
        ]
        orders = {
            tuple(t for _, t in reports.subject_report(db, subject.id, viewer=admin).comments or [])
            for _ in range(8)
        }
        assert len(orders) > 1  # shuffled anew on each view

    def test_invariant_6_comments_need_five_even_when_k_is_lower(
        self, db: Session, sample_data: Path
    ) -> None:
        """With k = 3 and four ballots, numbers show but comments stay hidden."""
        round_id, slips = open_round_with_slips(db, sample_data, {"PHUONG-BODE": 4}, threshold=3)
        for token in slips["PHUONG-BODE"]:
            casting.cast(db, token, answers_for(casting.preview(db, token), strengths="x"))
        lifecycle.close_round(db, round_id, actor="test")
        subject = _subject(db, round_id, "PHUONG-BODE", Role.WARD_CHAIRPERSON)
        report = reports.subject_report(db, subject.id, viewer=_user(db, UserRole.ADMIN))
        assert (report.enough, report.ballots, report.comments) == (True, 4, None)


class TestSealedUntilClose:
    """Invariant 5: results stay sealed while voting runs."""

    def test_invariant_5_no_report_or_results_while_open(
        self, db: Session, sample_data: Path
    ) -> None:
        """An admin asking during voting gets a refusal naming the state; turnout still shows."""
        round_id, slips = open_round_with_slips(db, sample_data, {"PHUONG-BODE": 5})
        for token in slips["PHUONG-BODE"]:
            casting.cast(db, token, answers_for(casting.preview(db, token)))
        admin = _user(db, UserRole.ADMIN)
        subject = _subject(db, round_id, "PHUONG-BODE", Role.WARD_CHAIRPERSON)
        with pytest.raises(InvalidState, match="open"):
            reports.subject_report(db, subject.id, viewer=admin)
        with pytest.raises(InvalidState, match="open"):
            reports.round_results(db, round_id, viewer=admin)
        (bode,) = tally.turnout(db, round_id)
        assert bode.ballots == 5


class TestLeaders:
    """Leaders read only their own reports, once published."""

    def test_leader_sees_own_report_and_404_for_every_other_subject(
        self, db: Session, closed_round: int
    ) -> None:
        """After publishing, the secretary of Bồ Đề reads that report and nothing else."""
        lifecycle.publish_round(db, closed_round, actor="test")
        invites = leaders.create_leader_accounts(db, closed_round, actor="test", now=utcnow())
        mine = _subject(db, closed_round, "PHUONG-BODE", Role.WARD_PARTY_SECRETARY)
        invite = next(i for i in invites if i.subject_id == mine.id)
        assert invite.setup_code is not None
        leader = leaders.complete_setup(
            db, invite.username, invite.setup_code.lower(), "mật khẩu của tôi", utcnow()
        )
        assert reports.subject_report(db, mine.id, viewer=leader).full_name == "Bùi Xuân Sơn"
        every_id = set(db.scalars(select(Subject.id)))
        for other in [*sorted(every_id - {mine.id}), max(every_id) + 1, 0, -1]:
            with pytest.raises(NotFound):
                reports.subject_report(db, other, viewer=leader)
        with pytest.raises(NotFound):
            reports.round_results(db, closed_round, viewer=leader)

    def test_leader_sees_nothing_before_publishing(self, db: Session, closed_round: int) -> None:
        """Closed is not published: the head's own report is still not found."""
        lifecycle.publish_round(db, closed_round, actor="test")
        invites = leaders.create_leader_accounts(db, closed_round, actor="test", now=utcnow())
        user = accounts.find_user(db, invites[0].username)
        assert user is not None
        from ballots.rounds import get_round
        from ballots.vocabulary import RoundStatus

        get_round(db, closed_round).status = RoundStatus.CLOSED
        with pytest.raises(NotFound):
            reports.subject_report(db, invites[0].subject_id, viewer=user)

    def test_setup_code_works_once_and_expires(self, db: Session, closed_round: int) -> None:
        """A used or expired code is refused with one message."""
        lifecycle.publish_round(db, closed_round, actor="test")
        (first, second, *_) = [
            i
            for i in leaders.create_leader_accounts(db, closed_round, actor="test", now=utcnow())
            if i.setup_code
        ]
        assert first.setup_code is not None
        assert second.setup_code is not None
        leaders.complete_setup(db, first.username, first.setup_code, "mật khẩu thứ nhất", utcnow())
        with pytest.raises(AuthenticationFailed):
            leaders.complete_setup(db, first.username, first.setup_code, "mật khẩu khác", utcnow())
        late = utcnow() + leaders.SETUP_VALID_FOR + timedelta(seconds=1)
        with pytest.raises(AuthenticationFailed):
            leaders.complete_setup(db, second.username, second.setup_code, "mật khẩu dài", late)

    def test_every_view_is_in_the_audit_log(self, db: Session, closed_round: int) -> None:
        """Who viewed which report is appended to the hash chain."""
        admin = _user(db, UserRole.ADMIN, "bantochuc")
        subject = _subject(db, closed_round, "MN-BODE", Role.SCHOOL_PRINCIPAL)
        reports.subject_report(db, subject.id, viewer=admin)
        entry = audit.entries(db)[-1]
        assert (entry.actor, entry.action) == ("bantochuc", "report.viewed")
        assert entry.payload == {"round_id": closed_round, "subject_id": subject.id}
        assert audit.verify(db).ok

    def test_same_person_keeps_one_account_and_a_trend(
        self, db: Session, sample_data: Path, closed_round: int
    ) -> None:
        """Next year's round links the head's existing account and shows last year's mean."""
        lifecycle.publish_round(db, closed_round, actor="test")
        leaders.create_leader_accounts(db, closed_round, actor="test", now=utcnow())
        next_id, slips = open_round_with_slips(db, sample_data, {"PHUONG-BODE": 5})
        for token in slips["PHUONG-BODE"]:
            casting.cast(db, token, answers_for(casting.preview(db, token), value=4))
        lifecycle.close_round(db, next_id, actor="test")
        lifecycle.publish_round(db, next_id, actor="test")
        invites = leaders.create_leader_accounts(db, next_id, actor="test", now=utcnow())
        bode = [i for i in invites if i.unit_name == "Phường Bồ Đề"]
        assert bode
        assert all(i.setup_code is None for i in bode)  # linked, not new
        subject = _subject(db, next_id, "PHUONG-BODE", Role.WARD_PARTY_SECRETARY)
        mine = next(i for i in bode if i.subject_id == subject.id)
        leader = accounts.find_user(db, mine.username)
        assert leader is not None
        report = reports.subject_report(db, subject.id, viewer=leader)
        assert [p.round_id for p in report.trend] == [closed_round]
        assert report.trend[0].mean == pytest.approx(20 / 6)

    def test_trend_never_shows_a_round_not_yet_published_to_the_head(
        self, db: Session, sample_data: Path, closed_round: int
    ) -> None:
        """A later round that is only closed stays out of the head's trend; admins see it."""
        lifecycle.publish_round(db, closed_round, actor="test")
        leaders.create_leader_accounts(db, closed_round, actor="test", now=utcnow())
        later, slips = open_round_with_slips(db, sample_data, {"PHUONG-BODE": 5})
        for token in slips["PHUONG-BODE"]:
            casting.cast(db, token, answers_for(casting.preview(db, token), value=1))
        lifecycle.close_round(db, later, actor="test")  # closed, not published
        earlier = _subject(db, closed_round, "PHUONG-BODE", Role.WARD_PARTY_SECRETARY)
        leader = leaders.account_of(db, earlier.id)
        assert leader is not None
        assert reports.subject_report(db, earlier.id, viewer=leader).trend == []
        current = _subject(db, later, "PHUONG-BODE", Role.WARD_PARTY_SECRETARY)
        admin_view = reports.subject_report(db, current.id, viewer=_user(db, UserRole.ADMIN))
        assert [p.round_id for p in admin_view.trend] == [closed_round]
