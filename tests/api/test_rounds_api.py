"""The admin JSON API for rounds, units, subjects and the questionnaire."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from ballots import accounts, rounds
from ballots.vocabulary import RoundStatus, UserRole

PASSWORD = "mật khẩu đủ dài 2023"


@pytest.fixture
def admin(client: TestClient, session_factory: sessionmaker[Session]) -> TestClient:
    """A client logged in as an admin."""
    with session_factory() as db:
        accounts.create_user(
            db,
            username="admin",
            full_name="Ban Tổ chức",
            role=UserRole.ADMIN,
            password=PASSWORD,
            actor="test",
        )
        db.commit()
    reply = client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    assert reply.status_code == 200
    return client


def _upload(client: TestClient, url: str, path: Path | bytes) -> dict[str, object]:
    data = path if isinstance(path, bytes) else path.read_bytes()
    reply = client.post(url, files={"file": ("file.csv", data, "text/csv")})
    return {"status": reply.status_code, "body": reply.json()}


def _new_round(client: TestClient) -> int:
    reply = client.post(
        "/api/v1/rounds",
        json={
            "title": "Lấy ý kiến người đứng đầu 2023",
            "year": 2023,
            "plan_reference": "Kế hoạch số 104-KH/QU",
        },
    )
    assert reply.status_code == 201, reply.text
    body: dict[str, object] = reply.json()
    return int(str(body["id"]))


class TestRoundsApi:
    """Creating and reading rounds."""

    def test_create_list_and_read(self, admin: TestClient) -> None:
        """A created round is listed and readable, with k from the server's default."""
        round_id = _new_round(admin)
        listed = admin.get("/api/v1/rounds").json()
        assert [r["id"] for r in listed] == [round_id]
        one = admin.get(f"/api/v1/rounds/{round_id}").json()
        assert one["status"] == "draft"
        assert one["anonymity_threshold"] == 5
        assert one["plan_reference"] == "Kế hoạch số 104-KH/QU"

    def test_threshold_below_three_is_a_clear_422(self, admin: TestClient) -> None:
        """K = 2 is refused with a JSON error naming the field."""
        reply = admin.post(
            "/api/v1/rounds", json={"title": "X", "year": 2023, "anonymity_threshold": 2}
        )
        assert reply.status_code == 422
        assert reply.json()["error"]["details"]["errors"][0]["field"] == "anonymity_threshold"

    @pytest.mark.parametrize(
        "body",
        [
            b"not json",
            b"[]",
            b'{"title": "", "year": 2023}',
            b'{"title": "X", "year": "two thousand"}',
            b'{"title": "X", "year": 2023, "colour": "red"}',
        ],
    )
    def test_bad_bodies_get_json_errors_not_500(self, admin: TestClient, body: bytes) -> None:
        """Malformed input is answered with a 422 JSON error."""
        reply = admin.post(
            "/api/v1/rounds", content=body, headers={"content-type": "application/json"}
        )
        assert reply.status_code == 422
        assert reply.json()["error"]["message"]

    def test_unknown_round_is_404_json(self, admin: TestClient) -> None:
        """A missing round is a JSON 404."""
        reply = admin.get("/api/v1/rounds/424242")
        assert reply.status_code == 404
        assert "424242" in reply.json()["error"]["message"]


class TestImportsApi:
    """CSV imports through the API."""

    def test_units_subjects_and_participants(self, admin: TestClient, sample_data: Path) -> None:
        """The sample district loads, and the 14 wards join the round with their electorate."""
        units = _upload(admin, "/api/v1/units/import", sample_data / "long_bien_units.csv")
        assert units == {"status": 200, "body": {"created": 59, "updated": 0}}
        round_id = _new_round(admin)
        subjects = _upload(
            admin,
            f"/api/v1/rounds/{round_id}/subjects/import",
            sample_data / "long_bien_subjects.csv",
        )
        assert subjects["status"] == 200
        wards = [u["code"] for u in admin.get("/api/v1/units").json() if u["kind"] == "ward"]
        reply = admin.put(
            f"/api/v1/rounds/{round_id}/units", json=[{"unit_code": c} for c in wards]
        )
        assert reply.status_code == 200
        assert len(reply.json()) == 14
        listed = admin.get(f"/api/v1/rounds/{round_id}/units").json()
        assert {u["unit"]["code"]: u["electorate"] for u in listed}["PHUONG-BODE"] == 94
        heads = admin.get(f"/api/v1/rounds/{round_id}/subjects").json()
        assert any(h["full_name"] == "Bùi Xuân Sơn" for h in heads)

    def test_bad_row_names_its_line_and_imports_nothing(self, admin: TestClient) -> None:
        """A bad row gives 422 with the line number; the units list stays empty."""
        data = (
            "code,kind,level,name,ward,electorate\n"
            "P-A,ward,,Phường A,Phường A,50\n"
            "S-B,school,university,Trường B,Phường A,20\n"
        ).encode()
        result = _upload(admin, "/api/v1/units/import", data)
        assert result["status"] == 422
        body = result["body"]
        assert isinstance(body, dict)
        assert body["error"]["details"]["errors"][0]["line"] == 3
        assert admin.get("/api/v1/units").json() == []

    def test_missing_file_is_a_422(self, admin: TestClient) -> None:
        """Posting without a file is a clear error."""
        reply = admin.post("/api/v1/units/import")
        assert reply.status_code == 422


class TestQuestionnaireApi:
    """Reading and replacing the questionnaire."""

    def test_read_replace_and_freeze(
        self, admin: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        """Replace works in draft, 409 naming the state once open."""
        round_id = _new_round(admin)
        questionnaire = admin.get(f"/api/v1/rounds/{round_id}/questionnaire").json()
        assert questionnaire["scale"]["options"][0]["vi"] == "Tốt"
        questionnaire["criteria"] = questionnaire["criteria"][:3]
        reply = admin.put(f"/api/v1/rounds/{round_id}/questionnaire", json=questionnaire)
        assert reply.status_code == 200
        assert len(reply.json()["criteria"]) == 3
        with session_factory() as db:
            rounds.get_round(db, round_id).status = RoundStatus.OPEN
            db.commit()
        reply = admin.put(f"/api/v1/rounds/{round_id}/questionnaire", json=questionnaire)
        assert reply.status_code == 409
        assert "open" in reply.json()["error"]["message"]

    def test_invalid_questionnaire_is_422(self, admin: TestClient) -> None:
        """A questionnaire without criteria is refused."""
        round_id = _new_round(admin)
        questionnaire = admin.get(f"/api/v1/rounds/{round_id}/questionnaire").json()
        questionnaire["criteria"] = []
        reply = admin.put(f"/api/v1/rounds/{round_id}/questionnaire", json=questionnaire)
        assert reply.status_code == 422


class TestOpenApi:
    """The API is described."""

    def test_openapi_lists_the_admin_routes(self, client: TestClient) -> None:
        """/openapi.json is served and names the rounds routes."""
        paths = client.get("/openapi.json").json()["paths"]
        assert "/api/v1/rounds" in paths
        assert "/api/v1/rounds/{round_id}/questionnaire" in paths
