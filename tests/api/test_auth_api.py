"""Logging in through the JSON API and the HTML pages; role checks."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.main import create_app
from app.settings import Settings
from ballots import accounts
from ballots.vocabulary import UserRole

PASSWORD = "mật khẩu đủ dài 2023"


def _user(factory: sessionmaker[Session], username: str, role: UserRole) -> None:
    with factory() as db:
        accounts.create_user(
            db, username=username, full_name=username, role=role, password=PASSWORD, actor="test"
        )
        db.commit()


def _login(client: TestClient, username: str, password: str = PASSWORD) -> int:
    reply = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    return reply.status_code


class TestApiLogin:
    """POST /api/v1/auth/login and friends."""

    def test_login_sets_a_strict_httponly_cookie(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        """The session cookie is HttpOnly and SameSite=Strict, and /me answers."""
        _user(session_factory, "admin", UserRole.ADMIN)
        reply = client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
        assert reply.status_code == 200
        cookie = reply.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=strict" in cookie
        assert "secure" not in cookie  # the test base URL is http
        assert client.get("/api/v1/auth/me").json()["username"] == "admin"

    def test_cookie_is_secure_when_served_over_https(
        self, database_url: str, session_factory: sessionmaker[Session]
    ) -> None:
        """With an https base URL the cookie also carries Secure."""
        settings = Settings(
            database_url=database_url,
            secret_key="s" * 40,  # type: ignore[arg-type]
            public_base_url="https://phieukin.example.vn",
        )
        app = create_app(settings)
        app.state.session_factory = session_factory
        _user(session_factory, "admin", UserRole.ADMIN)
        with TestClient(app, base_url="https://testserver") as client:
            reply = client.post(
                "/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}
            )
        assert "secure" in reply.headers["set-cookie"].lower()

    def test_wrong_password_is_one_generic_json_error(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        """Unknown user and wrong password answer the same 401 body."""
        _user(session_factory, "admin", UserRole.ADMIN)
        a = client.post("/api/v1/auth/login", json={"username": "admin", "password": "x" * 12})
        b = client.post("/api/v1/auth/login", json={"username": "ghost", "password": "x" * 12})
        assert a.status_code == b.status_code == 401
        assert a.json() == b.json()
        assert a.json()["error"]["message"] == accounts.GENERIC_LOGIN_FAILURE

    def test_failures_are_counted_and_lock_the_account(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        """The failure count survives the failed request, so guessing gets 429."""
        _user(session_factory, "admin", UserRole.ADMIN)
        for _ in range(accounts.FREE_FAILURES):
            assert _login(client, "admin", "wrong password!") == 401
        reply = client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
        assert reply.status_code == 429
        assert int(reply.headers["retry-after"]) > 0

    def test_one_client_is_slowed_down_across_accounts(self, app: FastAPI) -> None:
        """Many attempts from one address are refused whatever the username."""
        limit = app.state.settings.login_attempts_per_minute
        with TestClient(app) as client:
            codes = [_login(client, f"user{i}", "wrong password!") for i in range(limit + 1)]
        assert codes[:limit] == [401] * limit
        assert codes[limit] == 429

    def test_logout_forgets_the_session(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        """After logout /me needs a login again."""
        _user(session_factory, "admin", UserRole.ADMIN)
        _login(client, "admin")
        assert client.post("/api/v1/auth/logout").status_code == 204
        assert client.get("/api/v1/auth/me").status_code == 401


class TestRoles:
    """Role checks as dependencies."""

    def test_observer_reads_but_cannot_write(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        """An observer lists rounds but gets 403 creating one."""
        _user(session_factory, "giamsat", UserRole.OBSERVER)
        _login(client, "giamsat")
        assert client.get("/api/v1/rounds").status_code == 200
        reply = client.post("/api/v1/rounds", json={"title": "X", "year": 2023})
        assert reply.status_code == 403
        assert reply.json()["error"]["message"]

    def test_leader_cannot_read_round_configuration(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        """A head sees only their own report, not the round's setup."""
        _user(session_factory, "lanhdao", UserRole.LEADER)
        _login(client, "lanhdao")
        assert client.get("/api/v1/rounds").status_code == 403
        assert client.get("/api/v1/units").status_code == 403

    def test_anonymous_requests_get_401_json(self, client: TestClient) -> None:
        """Without a session the API answers 401 with a JSON error."""
        reply = client.get("/api/v1/rounds")
        assert reply.status_code == 401
        assert reply.json()["error"]["message"] == "Log in first."


class TestHtmlLogin:
    """The login page."""

    def test_login_page_logs_in_and_shows_rounds(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        """A form post opens a session and the home page lists rounds in Vietnamese."""
        _user(session_factory, "admin", UserRole.ADMIN)
        page = client.get("/login")
        assert "Đăng nhập" in page.text
        reply = client.post("/login", data={"username": "admin", "password": PASSWORD})
        assert reply.status_code == 200  # followed the redirect to /
        assert "Các đợt lấy ý kiến" in reply.text

    def test_wrong_password_on_the_page_shows_the_generic_message(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        """The form comes back with one message and the failure is counted."""
        _user(session_factory, "admin", UserRole.ADMIN)
        reply = client.post("/login", data={"username": "admin", "password": "wrong password!"})
        assert reply.status_code == 401
        assert "Tên đăng nhập hoặc mật khẩu không đúng." in reply.text
        assert accounts.GENERIC_LOGIN_FAILURE not in reply.text  # Vietnamese unless asked
        client.cookies.set("phieukin_lang", "en")
        again = client.post("/login", data={"username": "admin", "password": "wrong again!!"})
        assert accounts.GENERIC_LOGIN_FAILURE in again.text
        with session_factory() as db:
            user = accounts.find_user(db, "admin")
            assert user is not None
            assert user.failed_logins == 2

    def test_home_without_login_redirects_to_login(self, client: TestClient) -> None:
        """The staff home page needs a login."""
        reply = client.get("/", follow_redirects=False)
        assert reply.status_code == 303
        assert reply.headers["location"] == "/login"
