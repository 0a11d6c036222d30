"""Every route of the app, called as anonymous, observer, leader and admin.

The allowed set of each route is declared once, in ALLOWED below; a route the app serves
that has no row fails the test with the row to add. "Served" means the role got past
access control (any answer but 401, 403 or a redirect to the login page); it is never a
5xx. Results and reports are never 2xx before the close, and a head gets the same 404 for
every report id not theirs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

from app import csrf
from app.deps import SESSION_COOKIE
from ballots import accounts, casting, leaders, lifecycle, rounds, setup_codes, tokens, units
from ballots.db import utcnow
from ballots.participants import set_round_units
from ballots.subjects import import_subjects, list_subjects
from ballots.vocabulary import Role, UserRole

PASSWORD = "mật khẩu đủ dài 2023"
ANON, OBSERVER, LEADER, ADMIN = "anonymous", "observer", "leader", "admin"
ROLES = (ANON, OBSERVER, LEADER, ADMIN)
STAFF = frozenset({OBSERVER, ADMIN})
EVERYONE = frozenset(ROLES)
LOGGED_IN = frozenset({OBSERVER, LEADER, ADMIN})
ONLY_ADMIN = frozenset({ADMIN})

# THE table: who gets past access control on each route. A new route needs a row here.
ALLOWED: dict[str, frozenset[str]] = {
    "GET /openapi.json": EVERYONE,
    "POST /api/v1/auth/login": EVERYONE,
    "POST /api/v1/auth/logout": EVERYONE,
    "GET /api/v1/auth/me": LOGGED_IN,
    "POST /api/v1/users": ONLY_ADMIN,
    "GET /api/v1/units": STAFF,
    "POST /api/v1/units/import": ONLY_ADMIN,
    "GET /api/v1/rounds": STAFF,
    "POST /api/v1/rounds": ONLY_ADMIN,
    "GET /api/v1/rounds/{round_id}": STAFF,
    "GET /api/v1/rounds/{round_id}/units": STAFF,
    "PUT /api/v1/rounds/{round_id}/units": ONLY_ADMIN,
    "GET /api/v1/rounds/{round_id}/subjects": STAFF,
    "POST /api/v1/rounds/{round_id}/subjects/import": ONLY_ADMIN,
    "GET /api/v1/rounds/{round_id}/questionnaire": STAFF,
    "PUT /api/v1/rounds/{round_id}/questionnaire": ONLY_ADMIN,
    "POST /api/v1/rounds/{round_id}/slips": ONLY_ADMIN,
    "GET /api/v1/rounds/{round_id}/slips": STAFF,
    "POST /api/v1/batches/{batch_id}/void": ONLY_ADMIN,
    "GET /api/v1/rounds/{round_id}/turnout": STAFF,
    "POST /api/v1/rounds/{round_id}/lottery": ONLY_ADMIN,
    "GET /api/v1/rounds/{round_id}/lottery": STAFF,
    "GET /api/v1/rounds/{round_id}/lottery/verify": STAFF,
    "POST /api/v1/rounds/{round_id}/open": ONLY_ADMIN,
    "POST /api/v1/rounds/{round_id}/close": ONLY_ADMIN,
    "POST /api/v1/rounds/{round_id}/close/upload": ONLY_ADMIN,
    "POST /api/v1/rounds/{round_id}/publish": ONLY_ADMIN,
    "GET /api/v1/audit": STAFF,
    "GET /api/v1/audit/verify": STAFF,
    "POST /api/v1/vote/preview": EVERYONE,
    "POST /api/v1/vote/cast": EVERYONE,
    "GET /api/v1/reports/{subject_id}": LOGGED_IN,
    "GET /api/v1/rounds/{round_id}/results": STAFF,
    "GET /api/v1/rounds/{round_id}/results.csv": STAFF,
    "GET /api/v1/rounds/{round_id}/results.xlsx": STAFF,
    "GET /api/v1/rounds/{round_id}/receipts": EVERYONE,
    "POST /api/v1/rounds/{round_id}/leaders": ONLY_ADMIN,
    "POST /api/v1/auth/setup": EVERYONE,
    "GET /": LOGGED_IN,
    "GET /login": EVERYONE,
    "POST /login": EVERYONE,
    "POST /logout": LOGGED_IN,  # a form: no session, no CSRF token
    "GET /reports": LOGGED_IN,
    "GET /reports/{subject_id:int}.pdf": LOGGED_IN,
    "GET /reports/{subject_id:int}": LOGGED_IN,
    "GET /setup": EVERYONE,
    "POST /setup": EVERYONE,
    "GET /rounds/{round_id:int}/results": STAFF,
    "GET /V": EVERYONE,
    "GET /v": EVERYONE,
    "POST /V": EVERYONE,
    "POST /v": EVERYONE,
    "POST /V/cast": EVERYONE,
    "POST /v/cast": EVERYONE,
    "GET /receipt": EVERYONE,
    "POST /receipt": EVERYONE,
    "GET /rounds/{round_id:int}/minutes.pdf": STAFF,
    "GET /favicon.ico": EVERYONE,
    "GET /accounts": STAFF,  # observers read the list, without controls
    "POST /accounts": ONLY_ADMIN,
    "GET /accounts/{user_id:int}/disable": ONLY_ADMIN,
    "POST /accounts/{user_id:int}/disable": ONLY_ADMIN,
    "POST /accounts/{user_id:int}/enable": ONLY_ADMIN,
    "GET /accounts/{user_id:int}/reset": ONLY_ADMIN,
    "POST /accounts/{user_id:int}/reset": ONLY_ADMIN,
    "GET /account/password": LOGGED_IN,
    "POST /account/password": LOGGED_IN,
    "GET /audit": STAFF,
    "GET /lang/{code}": EVERYONE,
    # The staff console (issue 11).
    "GET /rounds": STAFF,
    "POST /rounds": ONLY_ADMIN,
    "GET /rounds/{round_id:int}": STAFF,
    "GET /rounds/{round_id:int}/units": STAFF,
    "POST /rounds/{round_id:int}/units/preview": ONLY_ADMIN,
    "POST /rounds/{round_id:int}/units/import": ONLY_ADMIN,
    "POST /rounds/{round_id:int}/wards": ONLY_ADMIN,
    "POST /rounds/{round_id:int}/electorate": ONLY_ADMIN,
    "GET /rounds/{round_id:int}/heads": STAFF,
    "POST /rounds/{round_id:int}/heads/preview": ONLY_ADMIN,
    "POST /rounds/{round_id:int}/heads/import": ONLY_ADMIN,
    "GET /rounds/{round_id:int}/lottery": STAFF,
    "POST /rounds/{round_id:int}/lottery": ONLY_ADMIN,
    "GET /rounds/{round_id:int}/lottery/proof": STAFF,
    "GET /rounds/{round_id:int}/questionnaire": STAFF,
    "POST /rounds/{round_id:int}/questionnaire": ONLY_ADMIN,
    "GET /rounds/{round_id:int}/leaders": STAFF,
    "POST /rounds/{round_id:int}/leaders": ONLY_ADMIN,
    "GET /rounds/{round_id:int}/slips": STAFF,
    "POST /rounds/{round_id:int}/slips": ONLY_ADMIN,
    "GET /rounds/{round_id:int}/batches/{batch_id:int}/void": ONLY_ADMIN,
    "POST /rounds/{round_id:int}/batches/{batch_id:int}/void": ONLY_ADMIN,
    "GET /rounds/{round_id:int}/open": ONLY_ADMIN,
    "POST /rounds/{round_id:int}/open": ONLY_ADMIN,
    "GET /rounds/{round_id:int}/close": ONLY_ADMIN,
    "POST /rounds/{round_id:int}/close": ONLY_ADMIN,
    "GET /rounds/{round_id:int}/publish": ONLY_ADMIN,
    "POST /rounds/{round_id:int}/publish": ONLY_ADMIN,
    "GET /rounds/{round_id:int}/turnout": STAFF,
    "GET /rounds/{round_id:int}/turnout.json": STAFF,
}


@dataclass(frozen=True)
class World:
    """A published round with ballots, a head's login, an open round, staff logins."""

    round_id: int
    open_round_id: int
    open_subject_id: int
    subject_id: int
    other_subject_ids: list[int]
    batch_id: int
    leader_username: str
    spare_user_id: int  # an account the admin's calls may disable and reset


def every_route(app: FastAPI) -> list[str]:
    """'METHOD /path/{param}' for each route the app serves (HEAD aside), once each."""
    keys: list[str] = []
    for route in iter_route_contexts(app.routes):
        if route.path is None or route.methods is None:
            continue  # the static mount
        for method in sorted(route.methods - {"HEAD"}):
            key = f"{method} {route.path}"
            assert key not in keys, f"{key} is served by two routes: a router included twice?"
            keys.append(key)
    return keys


def _fill(path: str, world: World) -> str:
    values: dict[str, object] = {
        "code": "en",
        "round_id": world.round_id,
        "subject_id": world.subject_id,
        "batch_id": world.batch_id,
        "user_id": world.spare_user_id,
    }

    def value(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        assert name in values, f"add a value for the path parameter {name!r} in _fill()"
        return str(values[name])

    return re.sub(r"\{([^}]+)\}", value, path)


def _outcome(reply: httpx.Response) -> str:
    assert reply.status_code < 500, (reply.request.method, reply.request.url, reply.text[:300])
    if reply.status_code in (401, 403):
        return "refused"
    # Logging out ends on the login page: that is its answer, not a refusal.
    to_login = reply.is_redirect and "/login" in reply.headers.get("location", "")
    if to_login and reply.request.url.path != "/logout":
        return "refused"
    return "served"


def _csrf_token(client: TestClient) -> str:
    """The form token a page would have given this client's login session."""
    cookie = client.cookies.get(SESSION_COOKIE)
    if cookie is None:
        return ""
    scope = {
        "type": "http",
        "headers": [(b"cookie", f"{SESSION_COOKIE}={cookie}".encode())],
        "app": client.app,
    }
    return csrf.token_for(Request(scope))


def _call(client: TestClient, key: str, world: World) -> httpx.Response:
    method, path = key.split(" ", 1)
    url = _fill(path, world)
    if method in ("POST", "PUT"):
        if url.startswith("/api/"):
            return client.request(method, url, json={}, follow_redirects=False)
        form = {csrf.FIELD: _csrf_token(client)}
        return client.request(method, url, data=form, follow_redirects=False)
    return client.request(method, url, follow_redirects=False)


@pytest.fixture
def world(session_factory: sessionmaker[Session], sample_data: Path) -> World:
    """Everything the routes need, in the test's transaction."""
    with session_factory() as db:
        units.import_units(db, (sample_data / "long_bien_units.csv").read_bytes(), actor="t")
        subjects_csv = (sample_data / "long_bien_subjects.csv").read_bytes()
        ids = []
        for title in ("Đợt đã công bố", "Đợt đang mở"):
            round_ = rounds.create_round(
                db, title=title, year=2023, anonymity_threshold=5, actor="t"
            )
            import_subjects(db, round_.id, subjects_csv, actor="t")
            set_round_units(db, round_.id, [("PHUONG-BODE", 6)], actor="t")
            issued = tokens.issue_tokens(db, round_.id, "PHUONG-BODE", 6, actor="t")
            lifecycle.open_round(db, round_.id, actor="t", key_holders=None)
            form = casting.preview(db, issued.tokens[0])
            keys = [c.key for c in form.questionnaire.criteria]
            for token in issued.tokens:
                answers = {
                    "ratings": {str(s.id): dict.fromkeys(keys, 3) for s in form.subjects},
                    "texts": {str(form.subjects[0].id): {"strengths": "Gương mẫu"}},
                }
                casting.cast(db, token, answers)
            ids.append((round_.id, issued.batch.id, [s.id for s in form.subjects]))
        (done, batch_id, subject_ids), (still_open, _, open_subjects) = ids
        lifecycle.close_round(db, done, actor="t")
        lifecycle.publish_round(db, done, actor="t")
        invites = leaders.create_leader_accounts(db, done, actor="t", now=utcnow())
        mine = next(
            s.id
            for s in list_subjects(db, done)
            if s.id in subject_ids and s.role is Role.WARD_PARTY_SECRETARY
        )
        invite = next(i for i in invites if i.subject_id == mine)
        assert invite.setup_code is not None
        setup_codes.complete_setup(db, invite.username, invite.setup_code, PASSWORD, utcnow())
        for name, role in (("quantri", UserRole.ADMIN), ("giamsat", UserRole.OBSERVER)):
            accounts.create_user(
                db, username=name, full_name=name, role=role, password=PASSWORD, actor="t"
            )
        spare = accounts.create_user(
            db,
            username="duphong",
            full_name="D",
            role=UserRole.OBSERVER,
            password=PASSWORD,
            actor="t",
        )
        db.commit()
        return World(
            round_id=done,
            open_round_id=still_open,
            open_subject_id=open_subjects[0],
            subject_id=mine,
            other_subject_ids=[s for s in subject_ids if s != mine],
            batch_id=batch_id,
            leader_username=invite.username,
            spare_user_id=spare.id,
        )


def _client_as(app: FastAPI, role: str, world: World) -> TestClient:
    client = TestClient(app)
    username = {OBSERVER: "giamsat", LEADER: world.leader_username, ADMIN: "quantri"}.get(role)
    if username is not None:
        reply = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert reply.status_code == 200, reply.text
    return client


class TestRoleByRouteMatrix:
    """Access to every route, by role, is what the one table says."""

    def test_every_route_has_a_row_and_each_role_gets_what_the_row_says(
        self, app: FastAPI, world: World
    ) -> None:
        routes = list(every_route(app))
        missing = [r for r in routes if r not in ALLOWED]
        assert not missing, (
            "Routes with no row in ALLOWED (tests/adversarial/test_route_matrix.py): add a row "
            "saying which of anonymous, observer, leader, admin may use each:\n"
            + "\n".join(f'    "{r}": ...,' for r in missing)
        )
        stale = [r for r in ALLOWED if r not in routes]
        assert not stale, f"Rows in ALLOWED for routes the app no longer serves: {stale}"
        # Logging out last, so each role keeps its session for the other routes.
        ordered = sorted(routes, key=lambda r: ("logout" in r, r.startswith("POST /api")))
        observed: dict[str, set[str]] = {r: set() for r in routes}
        for role in ROLES:
            with _client_as(app, role, world) as client:
                for key in ordered:
                    if _outcome(_call(client, key, world)) == "served":
                        observed[key].add(role)
        wrong = {
            key: (sorted(ALLOWED[key]), sorted(seen))
            for key, seen in observed.items()
            if seen != ALLOWED[key]
        }
        assert not wrong, f"route: (declared, observed) {wrong}"
        print(f"\nroute matrix: {len(routes)} routes x {len(ROLES)} roles checked")

    def test_results_and_reports_are_never_2xx_before_the_close(
        self, app: FastAPI, world: World
    ) -> None:
        sealed = World(
            round_id=world.open_round_id,
            open_round_id=world.open_round_id,
            open_subject_id=world.open_subject_id,
            subject_id=world.open_subject_id,
            other_subject_ids=[],
            batch_id=world.batch_id,
            leader_username=world.leader_username,
            spare_user_id=world.spare_user_id,
        )
        keys = [
            r
            for r in every_route(app)
            if r.startswith("GET") and "{" in r and re.search(r"results|receipts|reports", r)
        ]
        assert keys
        for role in ROLES:
            with _client_as(app, role, world) as client:
                for key in keys:
                    reply = _call(client, key, sealed)
                    assert not reply.is_success, (role, key, reply.status_code)

    def test_a_head_gets_the_same_404_for_every_report_not_theirs(
        self, app: FastAPI, world: World
    ) -> None:
        with _client_as(app, LEADER, world) as client:
            assert client.get(f"/api/v1/reports/{world.subject_id}").status_code == 200
            probes = [*world.other_subject_ids, 0, 999_999, 2**31 - 1, 2**31, 10**30]
            answers = {
                (r.status_code, r.text)
                for r in (client.get(f"/api/v1/reports/{i}") for i in probes)
            }
            assert len(answers) == 1, answers
            assert next(iter(answers))[0] == 404
            pages = {
                (r.status_code, r.text)
                for r in (
                    client.get(f"/reports/{i}", headers={"accept": "text/html"}) for i in probes
                )
            }
            assert len(pages) == 1, pages
            assert next(iter(pages))[0] == 404
