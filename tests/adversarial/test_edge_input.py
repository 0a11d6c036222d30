"""The edge rule: control characters, ids out of range, oversized CSV cells and bodies are
refused with a clear 4xx naming the field or line, on both databases; nothing is changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from ballots import accounts
from ballots.vocabulary import UserRole

PASSWORD = "mật khẩu đủ dài 2023"
TOO_BIG = 2**31  # one past PostgreSQL's integer range
HUGE = 2**64  # past SQLite's as well
UNITS_HEADER = "code,kind,level,name,ward,electorate\n"


@pytest.fixture
def admin(client: TestClient, session_factory: sessionmaker[Session]) -> TestClient:
    """A client logged in as an admin."""
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
    assert reply.status_code == 200, reply.text
    return client


def _field(reply: object) -> str:
    body = reply.json()  # type: ignore[attr-defined]
    assert body["error"]["message"]
    return str(body["error"]["details"]["field"])


class TestControlCharacters:
    """NUL and other C0 controls are refused with 422 naming the field, nothing stored."""

    @pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f\x0b", "\ud800"])
    def test_json_text_field_with_control_character_is_refused(
        self, admin: TestClient, char: str
    ) -> None:
        # Encoded by hand: a lone surrogate travels as a JSON escape, never as UTF-8.
        body = json.dumps({"title": f"Đợt{char}", "year": 2024})
        reply = admin.post(
            "/api/v1/rounds", content=body, headers={"content-type": "application/json"}
        )
        assert reply.status_code == 422, reply.text
        assert _field(reply) == "title"
        assert admin.get("/api/v1/rounds").json() == []

    def test_tab_and_line_breaks_are_text(self, admin: TestClient) -> None:
        reply = admin.post("/api/v1/rounds", json={"title": "Đợt\t1\r\n2024", "year": 2024})
        assert reply.status_code == 201, reply.text

    def test_nested_field_is_named_by_its_path(self, client: TestClient) -> None:
        reply = client.post(
            "/api/v1/vote/cast",
            json={"token": "A" * 27, "answers": {"7": {"strengths": "tốt\x00"}}},
        )
        assert reply.status_code == 422, reply.text
        assert _field(reply) == "answers.7.strengths"

    def test_anonymous_login_with_nul_is_refused(self, client: TestClient) -> None:
        reply = client.post("/api/v1/auth/login", json={"username": "a\x00", "password": "x"})
        assert reply.status_code == 422
        assert _field(reply) == "username"

    def test_form_post_with_nul_answers_a_vietnamese_page(self, client: TestClient) -> None:
        reply = client.post(
            "/login",
            data={"username": "admin\x00", "password": "x"},
            headers={"accept": "text/html"},
        )
        assert reply.status_code == 422
        assert reply.headers["content-type"].startswith("text/html")
        assert "không hợp lệ" in reply.text
        assert "username" in reply.text

    def test_voting_form_with_nul_is_refused(self, client: TestClient) -> None:
        reply = client.post("/v", data={"code": "\x00"})
        assert reply.status_code == 422
        assert _field(reply) == "code"

    def test_query_parameter_with_nul_is_refused(self, admin: TestClient) -> None:
        reply = admin.get("/api/v1/audit/verify", params={"head": "1:\x00"})
        assert reply.status_code == 422
        assert _field(reply) == "head"

    def test_multipart_field_with_nul_is_refused(self, admin: TestClient) -> None:
        reply = admin.post(
            "/api/v1/units/import",
            files={"file": ("units.csv", UNITS_HEADER.encode(), "text/csv")},
            data={"note": "x\x00"},
        )
        assert reply.status_code == 422
        assert _field(reply) == "note"


class TestCsvCells:
    """A CSV cell with a control character or past the size bound is refused by line."""

    def _import(self, admin: TestClient, body: str) -> dict[str, object]:
        reply = admin.post(
            "/api/v1/units/import",
            files={"file": ("units.csv", body.encode(), "text/csv")},
        )
        assert reply.status_code == 422, reply.text
        assert admin.get("/api/v1/units").json() == []
        error: dict[str, object] = reply.json()["error"]
        return error

    def test_nul_in_a_cell_names_line_and_column(self, admin: TestClient) -> None:
        row = "PHUONG-A,ward,,Phường\x00A,Phường A,90\n"
        error = self._import(admin, UNITS_HEADER + "PHUONG-B,ward,,Phường B,Phường B,90\n" + row)
        assert "line 3" in str(error["message"])
        assert "name" in str(error["message"])

    def test_cell_past_the_bound_names_the_line(self, admin: TestClient) -> None:
        error = self._import(admin, UNITS_HEADER + "PHUONG-A,ward,," + "x" * 2000 + ",A,9\n")
        assert "line 2" in str(error["message"])

    def test_cell_past_the_csv_modules_own_limit_names_the_line(self, admin: TestClient) -> None:
        error = self._import(admin, UNITS_HEADER + 'PHUONG-A,ward,,"' + "x" * 200_000 + '",A,9\n')
        assert "line 2" in str(error["message"])


class TestIdsOutOfRange:
    """An id past the integer range is 404 for a resource and 422 for a parameter."""

    @pytest.mark.parametrize("big", [str(TOO_BIG), str(HUGE), "9" * 5000])
    def test_resource_id_out_of_range_is_not_found(self, admin: TestClient, big: str) -> None:
        for path in (
            f"/api/v1/rounds/{big}",
            f"/api/v1/reports/{big}",
            f"/api/v1/rounds/{big}/results",
            f"/reports/{big}",
            f"/reports/{big}.pdf",
        ):
            reply = admin.get(path)
            assert reply.status_code == 404, (path, reply.status_code)

    def test_parameter_out_of_range_is_invalid(self, admin: TestClient) -> None:
        reply = admin.get("/api/v1/audit", params={"after": str(HUGE)})
        assert reply.status_code == 422
        assert _field(reply) == "after"

    def test_number_in_body_out_of_range_is_invalid(self, admin: TestClient) -> None:
        reply = admin.post("/api/v1/rounds", json={"title": "Đợt", "year": HUGE})
        assert reply.status_code == 422
        assert _field(reply) == "year"

    @pytest.mark.parametrize("head", ["²:" + "0" * 64, "9" * 5000 + ":" + "0" * 64])
    def test_malformed_audit_head_is_invalid(self, admin: TestClient, head: str) -> None:
        assert admin.get("/api/v1/audit/verify", params={"head": head}).status_code == 422


class TestBodyLimit:
    """A body over the limit answers 413 too_large, declared or chunked."""

    def _chunks(self, total: int) -> Iterator[bytes]:
        for _ in range(total // 1024):
            yield b"x" * 1024

    def test_declared_body_over_the_limit(self, client: TestClient) -> None:
        reply = client.post("/api/v1/vote/cast", content=b"x" * 70_000)
        assert reply.status_code == 413
        assert reply.json()["error"]["code"] == "too_large"

    def test_chunked_body_over_the_limit(self, client: TestClient) -> None:
        reply = client.post(
            "/api/v1/vote/cast",
            content=self._chunks(70 * 1024),
            headers={"content-type": "application/json"},
        )
        assert reply.status_code == 413
        assert reply.json()["error"]["code"] == "too_large"

    def test_upload_over_its_limit(self, admin: TestClient) -> None:
        reply = admin.post(
            "/api/v1/units/import",
            content=self._chunks(7 * 1024 * 1024),
            headers={"content-type": "multipart/form-data; boundary=x"},
        )
        assert reply.status_code == 413
