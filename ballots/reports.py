"""Reports (kết quả tổng hợp) on subjects, with the anonymity threshold (invariants 5, 6).

The threshold is applied here, where the report is built, so no caller can hand out what a
page would hide: below k ballots a report carries no number at all, for everybody; comments
need max(k, 5). Only the whole closed set of a round is tallied. Every view is audit-logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ballots import audit, tally
from ballots.accounts import User, leader_subject_ids
from ballots.errors import InvalidState, NotFound
from ballots.participants import RoundUnit
from ballots.questionnaire import Questionnaire, parse_questionnaire
from ballots.rounds import Round, get_round
from ballots.subjects import Subject
from ballots.thresholds import comment_threshold
from ballots.vocabulary import Role, RoundStatus, UserRole

RESULTS_VISIBLE = (RoundStatus.CLOSED, RoundStatus.PUBLISHED)


@dataclass(frozen=True)
class CriterionResult:
    """One criterion of a report that met the threshold."""

    key: str
    label_vi: str
    label_en: str
    counts: dict[int, int]
    no_opinion: int
    mean: float | None
    district_mean: float | None


@dataclass(frozen=True)
class TrendPoint:
    """The same person's overall mean in a round (None when that round was below k)."""

    round_id: int
    year: int
    round_title: str
    role: Role
    mean: float | None


@dataclass(frozen=True)
class SubjectReport:
    """What may be shown about one subject; ``criteria`` is None below the threshold."""

    subject_id: int
    round_id: int
    round_title: str
    year: int
    unit_name: str
    role: Role
    full_name: str
    threshold: int
    comment_threshold: int
    enough: bool
    ballots: int | None = None
    overall_mean: float | None = None
    district_overall_mean: float | None = None
    criteria: list[CriterionResult] | None = None
    scale: dict[int, str] = field(default_factory=dict)
    comments: list[tuple[str, str]] | None = None
    trend: list[TrendPoint] = field(default_factory=list)


@dataclass(frozen=True)
class SubjectSummary:
    """A row of the admin and observer results table."""

    subject_id: int
    unit_code: str
    unit_name: str
    role: Role
    full_name: str
    enough: bool
    ballots: int | None
    overall_mean: float | None
    criterion_means: list[float | None] | None


def _mean(criteria: list[tally.CriterionTally]) -> float | None:
    rated = sum(c.rated for c in criteria)
    total = sum(v * n for c in criteria for v, n in c.counts.items())
    return total / rated if rated else None


def subjects_taking_part(session: Session, round_id: int) -> list[Subject]:
    """Subjects of the units taking part in the round, unit and person loaded."""
    # Subjects of units taking part: principals of schools not drawn are not evaluated.
    return list(
        session.scalars(
            select(Subject)
            .join(
                RoundUnit,
                (RoundUnit.round_id == Subject.round_id) & (RoundUnit.unit_id == Subject.unit_id),
            )
            .where(Subject.round_id == round_id)
            .options(joinedload(Subject.unit), joinedload(Subject.person))
        )
    )


DistrictMeans = dict[Role, tuple[list[float | None], float | None]]
# A closed round's ballots never change, so its district means are computed once per
# process; the key carries the hash of the round's close entry in the audit log, which no
# other close (of this or another database) shares.
_district_cache: dict[tuple[int, str], DistrictMeans] = {}
_DISTRICT_CACHE_SIZE = 64


def _district_means(session: Session, round_: Round, questionnaire: Questionnaire) -> DistrictMeans:
    """Per role, each criterion's mean over every rated answer about every head of that role.

    Only subjects that met the threshold count, so the district figure never carries a
    small unit's answers that its own report withholds.
    """
    closes = [
        e.hash
        for e in audit.entries_for(session, ("round.closed",))
        if e.payload.get("round_id") == round_.id
    ]
    key = (round_.id, closes[-1]) if closes else None
    if key is not None and key in _district_cache:
        return _district_cache[key]
    means = _compute_district_means(session, round_, questionnaire)
    if key is not None:
        if len(_district_cache) >= _DISTRICT_CACHE_SIZE:
            _district_cache.pop(next(iter(_district_cache)))
        _district_cache[key] = means
    return means


def _compute_district_means(
    session: Session, round_: Round, questionnaire: Questionnaire
) -> DistrictMeans:
    counts = tally.criterion_counts(session, round_.id)
    ballots = tally.ballots_per_unit(session, round_.id)
    positions = len(questionnaire.criteria)
    pooled: dict[Role, list[dict[int, int]]] = {}
    for subject in subjects_taking_part(session, round_.id):
        if ballots.get(subject.unit_id, 0) < round_.anonymity_threshold:
            continue
        per_role = pooled.setdefault(subject.role, [{} for _ in range(positions)])
        for c in tally.criteria_of(counts.get(subject.id, {}), positions):
            for value, n in c.counts.items():
                per_role[c.position][value] = per_role[c.position].get(value, 0) + n
    out: dict[Role, tuple[list[float | None], float | None]] = {}
    for role, per_criterion in pooled.items():
        criteria = [tally.CriterionTally(i, cnt, 0) for i, cnt in enumerate(per_criterion)]
        out[role] = ([c.mean for c in criteria], _mean(criteria))
    return out


def _check_access(session: Session, subject: Subject, round_: Round, viewer: User) -> None:
    if viewer.role is UserRole.LEADER:
        # A head sees only their own subjects, only once published; anything else is
        # "not found", so that a probe learns nothing about which ids exist.
        if subject.id not in leader_subject_ids(session, viewer):
            raise NotFound("No such report.")
        if round_.status is not RoundStatus.PUBLISHED:
            raise NotFound("No such report.")
        return
    if round_.status not in RESULTS_VISIBLE:
        raise InvalidState(
            "Results stay sealed until the round is closed; it is {status}.",
            params={"status": round_.status.value},
            status=round_.status.value,
        )


def _overall(session: Session, round_: Round, subject: Subject, positions: int) -> float | None:
    ballots = tally.ballots_per_unit(session, round_.id).get(subject.unit_id, 0)
    if ballots < round_.anonymity_threshold:
        return None
    counts = tally.criterion_counts(session, round_.id, unit_id=subject.unit_id)
    return _mean(tally.criteria_of(counts.get(subject.id, {}), positions))


def _trend(session: Session, subject: Subject, round_: Round, viewer: User) -> list[TrendPoint]:
    """The same person as a head in rounds before this one whose results the viewer may see.

    A head sees only published rounds: a closed round's figures must not reach them
    through the trend of another report before they are released.
    """
    visible = (RoundStatus.PUBLISHED,) if viewer.role is UserRole.LEADER else RESULTS_VISIBLE
    earlier = session.execute(
        select(Subject, Round)
        .join(Round, Round.id == Subject.round_id)
        .join(
            RoundUnit,
            (RoundUnit.round_id == Subject.round_id) & (RoundUnit.unit_id == Subject.unit_id),
        )
        .where(
            Subject.person_id == subject.person_id,
            Round.status.in_(visible),
            (Round.year < round_.year) | ((Round.year == round_.year) & (Round.id < round_.id)),
        )
        .order_by(Round.year, Round.id)
    ).all()
    points = []
    for other, other_round in earlier:
        positions = len(parse_questionnaire(other_round.questionnaire).criteria)
        points.append(
            TrendPoint(
                round_id=other_round.id,
                year=other_round.year,
                round_title=other_round.title,
                role=other.role,
                mean=_overall(session, other_round, other, positions),
            )
        )
    return points


def subject_report(session: Session, subject_id: int, *, viewer: User) -> SubjectReport:
    """Build one subject's report for ``viewer``; the view is written to the audit log."""
    subject = session.scalar(
        select(Subject)
        .where(Subject.id == subject_id)
        .options(joinedload(Subject.unit), joinedload(Subject.person))
    )
    if subject is None:
        raise NotFound("No such report.")
    round_ = get_round(session, subject.round_id)
    _check_access(session, subject, round_, viewer)
    audit.record(
        session,
        actor=viewer.username,
        action="report.viewed",
        payload={"round_id": round_.id, "subject_id": subject.id},
    )
    questionnaire = parse_questionnaire(round_.questionnaire)
    k = round_.anonymity_threshold
    withheld = SubjectReport(
        subject_id=subject.id,
        round_id=round_.id,
        round_title=round_.title,
        year=round_.year,
        unit_name=subject.unit.name,
        role=subject.role,
        full_name=subject.person.full_name,
        threshold=k,
        comment_threshold=comment_threshold(k),
        enough=False,
        scale={o.value: o.vi for o in questionnaire.scale.options},
        trend=_trend(session, subject, round_, viewer),
    )
    ballots = tally.ballots_per_unit(session, round_.id).get(subject.unit_id, 0)
    if ballots < k:
        return withheld
    counts = tally.criterion_counts(session, round_.id, unit_id=subject.unit_id)
    criteria = tally.criteria_of(counts.get(subject.id, {}), len(questionnaire.criteria))
    district, district_overall = _district_means(session, round_, questionnaire).get(
        subject.role, ([None] * len(criteria), None)
    )
    results = [
        CriterionResult(
            key=q.key,
            label_vi=q.vi,
            label_en=q.en,
            counts=dict(sorted(c.counts.items(), reverse=True)),
            no_opinion=c.no_opinion,
            mean=c.mean,
            district_mean=district[c.position],
        )
        for q, c in zip(questionnaire.criteria, criteria, strict=True)
    ]
    shown_comments = (
        tally.comments(session, round_.id, subject.id) if ballots >= comment_threshold(k) else None
    )
    return replace(
        withheld,
        enough=True,
        ballots=ballots,
        overall_mean=_mean(criteria),
        district_overall_mean=district_overall,
        criteria=results,
        comments=shown_comments,
    )


def round_results(session: Session, round_id: int, *, viewer: User) -> list[SubjectSummary]:
    """Every subject of a closed round for admins and observers; the view is logged."""
    round_ = get_round(session, round_id)
    if viewer.role is UserRole.LEADER:
        raise NotFound("No such results.")
    if round_.status not in RESULTS_VISIBLE:
        raise InvalidState(
            "Results stay sealed until the round is closed; it is {status}.",
            params={"status": round_.status.value},
            status=round_.status.value,
        )
    audit.record(
        session, actor=viewer.username, action="results.viewed", payload={"round_id": round_id}
    )
    questionnaire = parse_questionnaire(round_.questionnaire)
    positions = len(questionnaire.criteria)
    counts = tally.criterion_counts(session, round_id)
    ballots = tally.ballots_per_unit(session, round_id)
    rows = []
    # One order on every backend (a query without ORDER BY has none): unit, then role.
    taking_part = sorted(
        subjects_taking_part(session, round_id), key=lambda s: (s.unit.code, s.role.rank)
    )
    for subject in taking_part:
        n = ballots.get(subject.unit_id, 0)
        enough = n >= round_.anonymity_threshold
        criteria = tally.criteria_of(counts.get(subject.id, {}), positions) if enough else None
        rows.append(
            SubjectSummary(
                subject_id=subject.id,
                unit_code=subject.unit.code,
                unit_name=subject.unit.name,
                role=subject.role,
                full_name=subject.person.full_name,
                enough=enough,
                ballots=n if enough else None,
                overall_mean=_mean(criteria) if criteria else None,
                criterion_means=[c.mean for c in criteria] if criteria else None,
            )
        )
    return rows
