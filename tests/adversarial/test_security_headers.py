"""Every response of every route carries the full set of security headers."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.security_headers import CONTENT_SECURITY_POLICY
from ballots import accounts
from ballots.vocabulary import UserRole

PASSWORD = "mật khẩu đủ dài 2023"
EXPECTED = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def every_route(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path with every parameter set to 1) for each route the app serves."""
    for route in iter_route_contexts(app.routes):
        if route.path is None or route.methods is None:
            continue  # the static mount, checked on its own below
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                yield method, path


def _assert_headers(method: str, path: str, reply: object) -> None:
    headers = reply.headers  # type: ignore[attr-defined]
    for name, value in EXPECTED.items():
        assert headers.get(name) == value, (method, path, reply.status_code, name)  # type: ignore[attr-defined]


class TestSecurityHeaders:
    """The headers middleware covers pages, PDFs, JSON and errors alike."""

    def test_csp_allows_no_inline_script_or_style_and_no_framing(self) -> None:
        assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
        assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
        assert "default-src 'none'" in CONTENT_SECURITY_POLICY

    def test_every_route_as_anonymous(self, app: FastAPI, client: TestClient) -> None:
        routes = list(every_route(app))
        assert len(routes) > 30
        for method, path in routes:
            reply = client.request(method, path, follow_redirects=False)
            assert reply.status_code < 500, (method, path)
            _assert_headers(method, path, reply)

    def test_every_page_and_json_read_as_admin(
        self, app: FastAPI, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        with session_factory() as db:
            accounts.create_user(
                db,
                username="admin",
                full_name="Quản trị",
                role=UserRole.ADMIN,
                password=PASSWORD,
                actor="test",
            )
            db.commit()
        reply = client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
        assert reply.status_code == 200
        for method, path in every_route(app):
            if method == "GET":
                for accept in ("text/html", "application/json"):
                    reply = client.get(path, headers={"accept": accept}, follow_redirects=False)
                    assert reply.status_code < 500, (method, path)
                    _assert_headers(method, path, reply)

    @pytest.mark.parametrize(
        ("method", "path", "body"),
        [
            ("GET", "/no/such/page", None),
            ("GET", "/api/v1/rounds/99999999999", None),
            ("POST", "/api/v1/vote/cast", b"x" * 100_000),
            ("POST", "/api/v1/auth/login", b'{"username": "\\u0000", "password": "x"}'),
        ],
    )
    def test_refusals_carry_the_headers(
        self, client: TestClient, method: str, path: str, body: bytes | None
    ) -> None:
        reply = client.request(
            method, path, content=body, headers={"content-type": "application/json"}
        )
        assert 400 <= reply.status_code < 500
        _assert_headers(method, path, reply)

    def test_static_files_are_protected_but_may_be_cached(self, client: TestClient) -> None:
        reply = client.get("/static/site.css")
        assert reply.status_code == 200
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert reply.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "no-store" not in reply.headers.get("cache-control", "")
