"""Voters check a receipt against the published list; staff download the minutes; /favicon.ico."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.orm import Session, sessionmaker

from ballots import accounts, casting, lifecycle
from ballots.vocabulary import UserRole
from tests.ballot_helpers import answers_for, open_round_with_slips

PASSWORD = "mật khẩu đủ dài 2023"


@pytest.fixture
def voted(session_factory: sessionmaker[Session], sample_data: Path) -> tuple[int, list[str]]:
    """An open round at Bồ Đề with 3 ballots cast; an admin and an observer account."""
    with session_factory() as db:
        round_id, slips = open_round_with_slips(db, sample_data, {"PHUONG-BODE": 3})
        form = casting.preview(db, slips["PHUONG-BODE"][0])
        receipts = [casting.cast(db, t, answers_for(form)).receipt for t in slips["PHUONG-BODE"]]
        for name, role in (("admin", UserRole.ADMIN), ("giamsat", UserRole.OBSERVER)):
            accounts.create_user(
                db, username=name, full_name=name, role=role, password=PASSWORD, actor="test"
            )
        db.commit()
    return round_id, receipts


def _close(session_factory: sessionmaker[Session], round_id: int) -> None:
    with session_factory() as db:
        lifecycle.close_round(db, round_id, actor="test")
        db.commit()


class TestReceiptCheck:
    """The page a voter uses once the round has closed."""

    def test_nothing_to_check_while_voting_runs(
        self, client: TestClient, voted: tuple[int, list[str]]
    ) -> None:
        """An open round's receipts are not published: it is not offered, a POST is a 404."""
        round_id, receipts = voted
        page = client.get("/receipt")
        assert page.status_code == 200
        assert "Chưa có đợt nào công bố danh sách mã xác nhận." in page.text
        reply = client.post("/receipt", data={"round": round_id, "code": receipts[0]})
        assert reply.status_code == 404
        assert 'data-result="found"' not in reply.text

    def test_found_missing_and_mistyped(
        self,
        client: TestClient,
        voted: tuple[int, list[str]],
        session_factory: sessionmaker[Session],
    ) -> None:
        """A real receipt (typed in lower case with a dash) is found; others are not."""
        round_id, receipts = voted
        _close(session_factory, round_id)
        page = client.get("/receipt")
        assert f'<option value="{round_id}" selected>' in page.text
        typed = receipts[0][:5].lower() + "-" + receipts[0][5:]
        found = client.post("/receipt", data={"round": round_id, "code": typed})
        assert found.status_code == 200
        assert 'data-result="found"' in found.text
        assert receipts[0] in found.text
        other = "0" * 10 if "0" * 10 not in receipts else "1" * 10
        missing = client.post("/receipt", data={"round": round_id, "code": other})
        assert 'data-result="missing"' in missing.text
        mistyped = client.post("/receipt", data={"round": round_id, "code": "ABC"})
        assert mistyped.status_code == 422
        assert 'aria-invalid="true"' in mistyped.text
        assert 'value="ABC"' in mistyped.text  # what was typed stays in the field
        english = client.post(
            "/receipt", data={"round": round_id, "code": receipts[1], "lang": "en"}
        )
        assert "your ballot was counted" in english.text

    def test_bad_input_is_a_4xx(self, client: TestClient) -> None:
        """A round that is not a number, or a missing code, is refused without a 5xx."""
        assert client.post("/receipt", data={"round": "x", "code": "1"}).status_code == 422
        assert client.post("/receipt", data={"round": "1"}).status_code == 422
        assert client.post("/receipt", data={"round": "1", "code": "x" * 500}).status_code == 422

    def test_receipt_page_links_to_the_check(self, client: TestClient) -> None:
        """The receipt page's words point to /receipt (checked in the template)."""
        template = Path("app/templates/vote_receipt.html").read_text()
        assert 'href="/receipt' in template


class TestMinutesDownload:
    """GET /rounds/{id}/minutes.pdf for admins and observers."""

    def test_observer_downloads_the_minutes(
        self,
        client: TestClient,
        voted: tuple[int, list[str]],
        session_factory: sessionmaker[Session],
    ) -> None:
        """A PDF with the close's audit head, not kept by the browser; leaders and strangers out."""
        round_id, _ = voted
        assert client.get(f"/rounds/{round_id}/minutes.pdf").status_code == 401
        _close(session_factory, round_id)
        login = client.post(
            "/api/v1/auth/login", json={"username": "giamsat", "password": PASSWORD}
        )
        assert login.status_code == 200
        reply = client.get(f"/rounds/{round_id}/minutes.pdf")
        assert reply.status_code == 200
        assert reply.headers["content-type"] == "application/pdf"
        assert reply.headers["cache-control"] == "no-store"
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(reply.content)).pages)
        assert "BIÊN BẢN" in text
        assert "Số phiếu kiểm khi đóng: 3." in text
        assert client.get("/rounds/999999/minutes.pdf").status_code == 404


class TestFavicon:
    """Browsers ask for /favicon.ico on every site."""

    def test_favicon_is_an_icon(self, client: TestClient) -> None:
        """An ICO file, not a 404."""
        reply = client.get("/favicon.ico")
        assert reply.status_code == 200
        assert reply.headers["content-type"] == "image/x-icon"
        assert reply.content[:4] == b"\x00\x00\x01\x00"
