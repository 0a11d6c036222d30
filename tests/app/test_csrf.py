"""CSRF: every staff form carries the session's token and every staff POST checks it."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.main import PAGE_ROUTERS
from ballots import accounts
from ballots.vocabulary import UserRole

PASSWORD = "mật khẩu đủ dài 2023"
TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')
# Forms that exist before any session (or are the voters'): nothing a forged post could abuse
# a session with.
PRE_SESSION = {"/login", "/setup", "/receipt"}


def _login(client: TestClient, factory: sessionmaker[Session], role: UserRole) -> str:
    with factory() as db:
        accounts.create_user(
            db, username="staff", full_name="Staff", role=role, password=PASSWORD, actor="test"
        )
        db.commit()
    home = client.post("/login", data={"username": "staff", "password": PASSWORD})
    match = TOKEN.search(home.text)
    assert match, "the page has no CSRF field"
    return match.group(1)


def staff_post_routes() -> list[str]:
    """Every HTML POST route of the app except the voting page and pre-session forms."""
    paths = []
    for route in (r for router in PAGE_ROUTERS for r in router.routes):
        if not isinstance(route, APIRoute) or "POST" not in route.methods:
            continue
        path = route.path
        if path.startswith(("/api/", "/v", "/V")) or path in PRE_SESSION:
            continue
        paths.append(re.sub(r"\{[^}]+\}", "1", path))
    return paths


class TestCsrf:
    """The synchronizer token."""

    def test_logout_without_the_token_is_refused(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        """A forged post gets 403 and the session lives on."""
        _login(client, session_factory, UserRole.ADMIN)
        reply = client.post("/logout", headers={"accept": "text/html"})
        assert reply.status_code == 403
        assert "Biểu mẫu đã hết hạn" in reply.text
        assert client.get("/api/v1/auth/me").status_code == 200

    def test_logout_with_the_token_works(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        """The form's own token is accepted."""
        token = _login(client, session_factory, UserRole.ADMIN)
        reply = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
        assert reply.status_code == 303
        assert client.get("/api/v1/auth/me").status_code == 401

    def test_a_wrong_token_is_refused(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        """Another value of the right shape is no good."""
        _login(client, session_factory, UserRole.ADMIN)
        reply = client.post("/logout", data={"csrf_token": "0" * 64})
        assert reply.status_code == 403

    def test_the_token_is_bound_to_the_session(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        """A new login gets a new token; the old one stops working."""
        first = _login(client, session_factory, UserRole.ADMIN)
        client.post("/logout", data={"csrf_token": first})
        again = client.post("/login", data={"username": "staff", "password": PASSWORD})
        match = TOKEN.search(again.text)
        assert match
        assert match.group(1) != first
        assert client.post("/logout", data={"csrf_token": first}).status_code == 403

    @pytest.mark.parametrize("role", [UserRole.ADMIN, UserRole.OBSERVER])
    def test_every_staff_post_route_checks_the_token(
        self, client: TestClient, session_factory: sessionmaker[Session], role: UserRole
    ) -> None:
        """Walks the app's routes: a post without the token is 403 on each one."""
        _login(client, session_factory, role)
        paths = staff_post_routes()
        assert "/logout" in paths
        for path in paths:
            reply = client.post(path, data={"x": "1"}, headers={"accept": "text/html"})
            assert reply.status_code == 403, path
