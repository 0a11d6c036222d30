"""Results pages: a head's own reports (HTML, PDF), leader setup, the round's results table."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from app import auth
from app.deps import CurrentReader, CurrentUser, OptionalUser, SessionDep
from app.errors import message_for, refusal_page, status_for
from app.i18n import N_, _
from app.templating import pick
from app.web import charts
from app.web.report_pdf import (
    comments_withheld_sentence,
    not_enough_sentence,
    render_report_pdf,
    round_line,
)
from ballots import leaders, reports, rounds, tally
from ballots.accounts import MIN_PASSWORD_LENGTH, User
from ballots.errors import (
    AuthenticationFailed,
    InvalidInput,
    InvalidState,
    NotFound,
    TooManyAttempts,
)
from ballots.questionnaire import Questionnaire, parse_questionnaire
from ballots.vocabulary import UserRole

router = APIRouter(include_in_schema=False)

HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
# Results pages word two refusals more closely; the status is still the table's.
NOT_FOUND = N_("These results were not found.")
SEALED = N_("Results can be seen only after the round has closed.")
SORTS = ("unit", "role", "mean", "ballots")


def _render(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, context, status_code=status_code, headers=HEADERS
    )
    return response


def _refusal(request: Request, user: User | None, exc: NotFound | InvalidState) -> Response:
    """A not-found or still-sealed page in Vietnamese; the same for every id a leader probes."""
    message = _(NOT_FOUND if isinstance(exc, NotFound) else SEALED)
    return refusal_page(request, exc, message=message, user=user, headers=HEADERS)


def _questionnaire(db: Session, round_id: int) -> Questionnaire:
    return parse_questionnaire(rounds.get_round(db, round_id).questionnaire)


def _comment_groups(
    q: Questionnaire, comments: list[tuple[str, str]] | None
) -> list[tuple[str, list[str]]]:
    """Comments under their question's label, questions in questionnaire order."""
    labels = {f.key: f.vi for f in q.free_text}
    groups: dict[str, list[str]] = {key: [] for key in labels}
    for key, text in comments or []:
        groups.setdefault(key, []).append(text)  # order kept as the server shuffled it
    return [(labels.get(key, key), texts) for key, texts in groups.items() if texts]


def _trend(report: reports.SubjectReport) -> list[tuple[int, str, float | None]]:
    """(year, round title, mean) oldest first, this round included even if the service omits it."""
    points = {p.round_id: (p.year, p.round_title, p.mean) for p in report.trend}
    points.setdefault(report.round_id, (report.year, report.round_title, report.overall_mean))
    return [points[k] for k in sorted(points, key=lambda k: (points[k][0], k))]


def _report_context(db: Session, report: reports.SubjectReport) -> dict[str, Any]:
    """What report.html needs: labels, sentences, one SVG per criterion, the trend."""
    q = _questionnaire(db, report.round_id)
    trend = _trend(report)
    means = [m for _, _, m in trend if m is not None]
    return {
        "r": report,
        "role_label": pick(q.roles[report.role]),
        "round_line": round_line(report.round_title, report.year),
        "not_enough": not_enough_sentence(report.threshold),
        "comments_withheld": comments_withheld_sentence(report.comment_threshold),
        "no_opinion_label": q.scale.no_opinion.vi,
        "fmt": charts.fmt_mean,
        "criteria": [
            (
                c,
                charts.criterion_chart(
                    c.label_vi,
                    c.counts,
                    c.no_opinion,
                    report.scale,
                    q.scale.no_opinion.vi,
                    c.mean,
                    c.district_mean,
                ),
            )
            for c in report.criteria or []
        ],
        "comment_groups": _comment_groups(q, report.comments),
        "trend": trend,
        "trend_svg": charts.trend_chart([(f"{y}", m) for y, _, m in trend])
        if len(means) >= 2
        else None,
    }


@router.get("/reports")
def my_reports(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    """A head's own reports in published rounds; staff go back to the home page."""
    if user.role is not UserRole.LEADER:
        return RedirectResponse("/", status_code=303)
    items = []
    for subject in leaders.my_subjects(db, user):
        round_ = rounds.get_round(db, subject.round_id)
        q = parse_questionnaire(round_.questionnaire)
        items.append(
            {
                "id": subject.id,
                "round": round_,
                "role_label": pick(q.roles[subject.role]),
                "unit_name": subject.unit.name,
            }
        )
    return _render(request, "reports_list.html", user=user, items=items)


@router.get("/reports/{subject_id:int}.pdf")
def report_pdf(request: Request, subject_id: int, db: SessionDep, user: CurrentUser) -> Response:
    """The same report as an A4 PDF download."""
    try:
        report = reports.subject_report(db, subject_id, viewer=user)
    except (NotFound, InvalidState) as exc:
        return _refusal(request, user, exc)
    q = _questionnaire(db, report.round_id)
    pdf = render_report_pdf(
        report,
        role_label=q.roles[report.role].vi,
        no_opinion_label=q.scale.no_opinion.vi,
        comment_groups=_comment_groups(q, report.comments),
        trend=_trend(report),
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            **HEADERS,
            "Content-Disposition": f'attachment; filename="ket-qua-{subject_id}.pdf"',
        },
    )


@router.get("/reports/{subject_id:int}")
def report_page(request: Request, subject_id: int, db: SessionDep, user: CurrentUser) -> Response:
    """One subject's report: a head's own once published, any for admins and observers."""
    try:
        report = reports.subject_report(db, subject_id, viewer=user)
    except (NotFound, InvalidState) as exc:
        return _refusal(request, user, exc)
    return _render(request, "report.html", user=user, **_report_context(db, report))


@router.get("/setup")
def setup_form(request: Request, user: OptionalUser) -> Response:
    """A head chooses a password with the one-time setup code."""
    return _render(request, "setup.html", user=user, error=None, username="")


@router.post("/setup")
def setup_submit(
    request: Request,
    db: SessionDep,
    username: Annotated[str, Form(max_length=64)],
    code: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    password_again: Annotated[str, Form(max_length=1024)],
) -> Response:
    """Check the code, set the password, then go to the login page."""

    def again(message: str, status_code: int) -> Response:
        return _render(
            request, "setup.html", status_code, user=None, error=message, username=username
        )

    too_short = _("The password needs at least {n} characters.").format(n=MIN_PASSWORD_LENGTH)
    if password != password_again:
        return again(_("The two passwords differ."), 422)
    if len(password) < MIN_PASSWORD_LENGTH:
        return again(too_short, 422)
    try:
        auth.complete_setup(request, db, username, code, password)
    except (TooManyAttempts, AuthenticationFailed, InvalidInput) as exc:
        return again(
            too_short if isinstance(exc, InvalidInput) else message_for(exc), status_for(exc)
        )
    return RedirectResponse("/login?setup=done", status_code=303)


def _collate(name: str) -> tuple[str, str]:
    """Vietnamese alphabetical order, near enough: letters first without their marks."""
    bare = unicodedata.normalize("NFD", name.replace("Đ", "D").replace("đ", "d"))
    return "".join(ch for ch in bare if not unicodedata.combining(ch)).casefold(), name


def _sort_key(sort: str) -> Callable[[reports.SubjectSummary], Any]:
    """The key of a sortable column; ties fall back to unit, then role."""
    keys: dict[str, Callable[[reports.SubjectSummary], Any]] = {
        "unit": lambda r: (_collate(r.unit_name), r.role.rank),
        "role": lambda r: (r.role.rank, _collate(r.unit_name)),
        "mean": lambda r: (r.overall_mean or 0.0, _collate(r.unit_name), r.role.rank),
        "ballots": lambda r: (r.ballots or 0, _collate(r.unit_name), r.role.rank),
    }
    return keys[sort]


def sort_rows(
    rows: list[reports.SubjectSummary], sort: str, descending: bool
) -> list[reports.SubjectSummary]:
    """Sort by a column; subjects below k stay last whichever the direction."""
    key = _sort_key(sort)
    shown = sorted(
        (r for r in rows if r.enough and r.overall_mean is not None), key=key, reverse=descending
    )
    unrated = sorted((r for r in rows if r.enough and r.overall_mean is None), key=key)
    hidden = sorted((r for r in rows if not r.enough), key=_sort_key("unit"))
    return shown + unrated + hidden


@router.get("/rounds/{round_id:int}/results")
def round_results_page(
    request: Request,
    round_id: int,
    db: SessionDep,
    user: CurrentReader,
    sort: str = "unit",
    direction: Annotated[str, Query(alias="dir")] = "asc",
) -> Response:
    """Every subject of a closed round, sortable, with turnout per unit."""
    sort = sort if sort in SORTS else "unit"
    descending = direction == "desc"
    try:
        rows = reports.round_results(db, round_id, viewer=user)
    except (NotFound, InvalidState) as exc:
        return _refusal(request, user, exc)
    round_ = rounds.get_round(db, round_id)
    q = parse_questionnaire(round_.questionnaire)
    turnout = [
        (t, round(100 * t.ballots / t.electorate) if t.electorate else 0)
        for t in tally.turnout(db, round_id)
    ]
    return _render(
        request,
        "round_results.html",
        user=user,
        round=round_,
        q=q,
        rows=sort_rows(rows, sort, descending),
        sort=sort,
        descending=descending,
        turnout=turnout,
        fmt=charts.fmt_mean,
    )
