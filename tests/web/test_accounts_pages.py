"""Accounts pages: admins manage accounts with confirmations; observers only read; CSRF."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from ballots import accounts, audit
from ballots.vocabulary import UserRole
from tests.i18n_helpers import english_on_page

PASSWORD = "mật khẩu đủ dài 2023"
TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')
HTML = {"accept": "text/html"}


@pytest.fixture
def people(session_factory: sessionmaker[Session]) -> dict[str, int]:
    """An admin, an observer and a head, each with a password."""
    ids = {}
    with session_factory() as db:
        for name, role in (
            ("chief", UserRole.ADMIN),
            ("giamsat", UserRole.OBSERVER),
            ("lanhdao", UserRole.LEADER),
        ):
            ids[name] = accounts.create_user(
                db, username=name, full_name=name.title(), role=role, password=PASSWORD, actor="t"
            ).id
        db.commit()
    return ids


def _login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the page; returns the session's CSRF token."""
    reply = client.post("/login", data={"username": username, "password": password})
    assert reply.status_code == 200, reply.text
    match = TOKEN.search(client.get("/account/password").text)
    assert match
    return match.group(1)


class TestAdminManagesAccounts:
    """Create with a setup code, disable after a confirmation, enable, reset."""

    def test_create_shows_a_printable_setup_code_once(
        self, client: TestClient, people: dict[str, int]
    ) -> None:
        """The code works at /setup; the list afterwards does not show it again."""
        token = _login(client, "chief")
        page = client.get("/accounts")
        assert page.status_code == 200
        assert english_on_page(page.text) == []
        made = client.post(
            "/accounts",
            data={
                "csrf_token": token,
                "username": "ubkt",
                "full_name": "Ủy ban Kiểm tra",
                "role": "observer",
            },
        )
        assert made.status_code == 201
        code = re.search(r'id="setup-code">([0-9A-Z-]+)<', made.text)
        assert code
        assert english_on_page(made.text) == []
        assert code.group(1) not in client.get("/accounts").text
        client.post("/logout", data={"csrf_token": token})
        done = client.post(
            "/setup",
            data={
                "username": "ubkt",
                "code": code.group(1),
                "password": "mật khẩu của ubkt",
                "password_again": "mật khẩu của ubkt",
            },
            follow_redirects=False,
        )
        assert done.status_code == 303
        _login(client, "ubkt", "mật khẩu của ubkt")

    def test_a_taken_username_is_shown_in_the_page(
        self, client: TestClient, people: dict[str, int]
    ) -> None:
        """The form comes back with the message in Vietnamese; nothing is created."""
        token = _login(client, "chief")
        reply = client.post(
            "/accounts",
            data={"csrf_token": token, "username": "giamsat", "full_name": "X", "role": "admin"},
        )
        assert reply.status_code == 422
        assert 'role="alert"' in reply.text
        assert english_on_page(reply.text) == []
        bad_role = client.post(
            "/accounts",
            data={"csrf_token": token, "username": "moi", "full_name": "X", "role": "god"},
        )
        assert bad_role.status_code == 422

    def test_disable_asks_first_then_logs_the_account_out(
        self,
        client: TestClient,
        people: dict[str, int],
        session_factory: sessionmaker[Session],
    ) -> None:
        """The confirmation says what cannot be undone; the observer's session ends at once."""
        with TestClient(client.app) as other:
            _login(other, "giamsat")
            assert other.get("/api/v1/auth/me").status_code == 200
            token = _login(client, "chief")
            ask = client.get(f"/accounts/{people['giamsat']}/disable")
            assert ask.status_code == 200
            assert 'id="cannot-undo"' in ask.text
            assert english_on_page(ask.text) == []
            done = client.post(
                f"/accounts/{people['giamsat']}/disable",
                data={"csrf_token": token},
                follow_redirects=False,
            )
            assert done.status_code == 303
            assert other.get("/api/v1/auth/me").status_code == 401
        listed = client.get("/accounts?done=disabled").text
        assert 'role="status"' in listed
        enable = client.post(
            f"/accounts/{people['giamsat']}/enable",
            data={"csrf_token": token},
            follow_redirects=False,
        )
        assert enable.status_code == 303
        with session_factory() as db:
            logged = [e.action for e in audit.entries(db)]
        assert logged[-2:] == ["user.disabled", "user.enabled"]

    def test_reset_gives_a_code_and_ends_the_old_password(
        self, client: TestClient, people: dict[str, int]
    ) -> None:
        """After a confirmation page, the old password fails and a code is shown."""
        token = _login(client, "chief")
        assert 'id="cannot-undo"' in client.get(f"/accounts/{people['lanhdao']}/reset").text
        reset = client.post(f"/accounts/{people['lanhdao']}/reset", data={"csrf_token": token})
        assert reset.status_code == 200
        assert re.search(r'id="setup-code">[0-9A-Z-]{19}<', reset.text)
        reply = client.post(
            "/api/v1/auth/login", json={"username": "lanhdao", "password": PASSWORD}
        )
        assert reply.status_code == 401

    def test_posts_without_the_token_are_refused(
        self, client: TestClient, people: dict[str, int]
    ) -> None:
        """CSRF on every form: a forged disable does nothing."""
        _login(client, "chief")
        forged = client.post(f"/accounts/{people['giamsat']}/disable", headers=HTML)
        assert forged.status_code == 403
        assert "Disabled" not in client.get("/accounts").text

    def test_unknown_account_is_a_404(self, client: TestClient, people: dict[str, int]) -> None:
        """No 5xx for an id that does not exist."""
        _login(client, "chief")
        assert client.get("/accounts/999999/disable", headers=HTML).status_code == 404


class TestObserversOnlyRead:
    """Observers see the list without any control; their POSTs are refused."""

    def test_no_controls_and_post_refused(self, client: TestClient, people: dict[str, int]) -> None:
        """No form, no disable link; a POST with a valid token still answers 403."""
        token = _login(client, "giamsat")
        page = client.get("/accounts")
        assert page.status_code == 200
        assert "/disable" not in page.text
        assert 'action="/accounts"' not in page.text
        reply = client.post(
            f"/accounts/{people['chief']}/disable", data={"csrf_token": token}, headers=HTML
        )
        assert reply.status_code == 403
        assert client.get(f"/accounts/{people['chief']}/disable", headers=HTML).status_code == 403

    def test_leaders_do_not_see_accounts(self, client: TestClient, people: dict[str, int]) -> None:
        """A head gets 403 on the list but may change their own password."""
        _login(client, "lanhdao")
        assert client.get("/accounts", headers=HTML).status_code == 403
        assert client.get("/account/password").status_code == 200


class TestOwnPassword:
    """Every user changes their own password with the current one."""

    def test_wrong_current_then_right(self, client: TestClient, people: dict[str, int]) -> None:
        """A wrong current password is said in the page; the right one changes it."""
        token = _login(client, "giamsat")
        new = "một mật khẩu mới dài"
        wrong = client.post(
            "/account/password",
            data={"csrf_token": token, "current": "sai", "password": new, "password_again": new},
        )
        assert wrong.status_code == 422
        assert english_on_page(wrong.text) == []
        differ = client.post(
            "/account/password",
            data={"csrf_token": token, "current": PASSWORD, "password": new, "password_again": "x"},
        )
        assert differ.status_code == 422
        ok = client.post(
            "/account/password",
            data={"csrf_token": token, "current": PASSWORD, "password": new, "password_again": new},
            follow_redirects=False,
        )
        assert ok.status_code == 303
        assert client.get("/api/v1/auth/me").status_code == 200  # this session stays
        client.cookies.clear()
        reply = client.post("/api/v1/auth/login", json={"username": "giamsat", "password": new})
        assert reply.status_code == 200
