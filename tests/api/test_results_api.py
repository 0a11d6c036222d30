"""Results over HTTP: JSON carries what the page hides nowhere; receipts published sorted."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker

from ballots import accounts, casting, lifecycle
from ballots.vocabulary import UserRole
from tests.ballot_helpers import answers_for, open_round_with_slips

PASSWORD = "mật khẩu đủ dài 2023"


@pytest.fixture
def voted(session_factory: sessionmaker[Session], sample_data: Path) -> tuple[int, list[str]]:
    """An open round: Bồ Đề with 6 ballots, Cự Khối with 2; and the receipts given."""
    with session_factory() as db:
        round_id, slips = open_round_with_slips(
            db, sample_data, {"PHUONG-BODE": 6, "PHUONG-CUKHOI": 2}
        )
        receipts = [
            casting.cast(
                db, t, answers_for(casting.preview(db, t), value=3, strengths="Tốt")
            ).receipt
            for unit in ("PHUONG-BODE", "PHUONG-CUKHOI")
            for t in slips[unit]
        ]
        for name, role in (("admin", UserRole.ADMIN), ("giamsat", UserRole.OBSERVER)):
            accounts.create_user(
                db, username=name, full_name=name, role=role, password=PASSWORD, actor="test"
            )
        db.commit()
    return round_id, receipts


def _login(client: TestClient, username: str) -> None:
    reply = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert reply.status_code == 200


class TestResultsApi:
    """The results endpoints."""

    def test_sealed_while_open_then_observer_reads_results(
        self,
        client: TestClient,
        voted: tuple[int, list[str]],
        session_factory: sessionmaker[Session],
    ) -> None:
        """409 during voting; after close the table has numbers only for subjects at k."""
        round_id, _ = voted
        _login(client, "giamsat")
        assert client.get(f"/api/v1/rounds/{round_id}/results").status_code == 409
        turnout = {
            t["unit_code"]: t["ballots"]
            for t in client.get(f"/api/v1/rounds/{round_id}/turnout").json()
        }
        assert turnout == {"PHUONG-BODE": 6, "PHUONG-CUKHOI": 2}
        with session_factory() as db:
            lifecycle.close_round(db, round_id, actor="test")
            db.commit()
        rows = client.get(f"/api/v1/rounds/{round_id}/results").json()
        by_unit = {(r["unit_code"], r["role"]): r for r in rows}
        bode = by_unit[("PHUONG-BODE", "ward_chairperson")]
        cukhoi = by_unit[("PHUONG-CUKHOI", "ward_chairperson")]
        assert (bode["enough"], bode["ballots"], bode["overall_mean"]) == (True, 6, 3.0)
        assert (cukhoi["enough"], cukhoi["ballots"], cukhoi["overall_mean"]) == (False, None, None)
        report = client.get(f"/api/v1/reports/{cukhoi['subject_id']}").json()
        assert report["criteria"] is None
        assert report["ballots"] is None
        assert report["comments"] is None

    def test_csv_has_aggregates_only(
        self,
        client: TestClient,
        voted: tuple[int, list[str]],
        session_factory: sessionmaker[Session],
    ) -> None:
        """One row per subject; below k the number cells are empty; no ballot-level data."""
        round_id, _ = voted
        with session_factory() as db:
            lifecycle.close_round(db, round_id, actor="test")
            db.commit()
        _login(client, "admin")
        reply = client.get(f"/api/v1/rounds/{round_id}/results.csv?lang=en")
        assert reply.headers["content-type"].startswith("text/csv")
        assert reply.headers["cache-control"] == "no-store"
        rows = list(csv.DictReader(io.StringIO(reply.text.lstrip("\ufeff"))))
        assert len(rows) == 4  # two heads in each of two wards
        assert {r["Unit"] for r in rows} == {"Phường Bồ Đề", "Phường Cự Khối"}
        below = [r for r in rows if r["Unit code"] == "PHUONG-CUKHOI"]
        assert all(r["Ballots"] == "" and r["Overall mean"] == "" for r in below)
        assert all(r["Note"].startswith("Not enough ballots") for r in below)
        assert {r["Head's role"] for r in rows} >= {"Ward Party Committee Secretary"}
        assert next(r for r in rows if r["Unit code"] == "PHUONG-BODE")["Overall mean"] == "3.00"
        assert "Tốt" not in reply.text  # comments never leave through the CSV

    def test_invariant_8_receipts_are_published_sorted_after_close(
        self,
        client: TestClient,
        voted: tuple[int, list[str]],
        session_factory: sessionmaker[Session],
    ) -> None:
        """Anyone can fetch the sorted receipt list once the round closes, not before."""
        round_id, receipts = voted
        assert client.get(f"/api/v1/rounds/{round_id}/receipts").status_code == 409
        with session_factory() as db:
            lifecycle.close_round(db, round_id, actor="test")
            db.commit()
        published = client.get(f"/api/v1/rounds/{round_id}/receipts").json()
        assert published == sorted(receipts)


class TestResultsExports:
    """The aggregates in Vietnamese by default, in English on request, as CSV and Excel."""

    @pytest.fixture
    def closed(
        self,
        client: TestClient,
        voted: tuple[int, list[str]],
        session_factory: sessionmaker[Session],
    ) -> int:
        """The voted round, closed, with the observer logged in."""
        round_id, _ = voted
        with session_factory() as db:
            lifecycle.close_round(db, round_id, actor="test")
            db.commit()
        _login(client, "giamsat")
        return round_id

    def test_csv_is_vietnamese_by_default(self, client: TestClient, closed: int) -> None:
        """Vietnamese headers and role names, criterion labels as columns."""
        reply = client.get(f"/api/v1/rounds/{closed}/results.csv")
        rows = list(csv.reader(io.StringIO(reply.text.lstrip("\ufeff"))))
        assert rows[0][:6] == [
            "Mã đơn vị",
            "Đơn vị",
            "Chức danh",
            "Họ và tên",
            "Số phiếu",
            "Điểm trung bình chung",
        ]
        assert rows[0][-1] == "Ghi chú"
        assert "Bí thư Đảng ủy phường" in {r[2] for r in rows[1:]}
        assert all("Chưa đủ số phiếu" in r[-1] for r in rows[1:] if r[0] == "PHUONG-CUKHOI")

    def test_xlsx_reads_back_with_numbers(self, client: TestClient, closed: int) -> None:
        """The workbook has the same rows; counts and means are numbers, below k empty."""
        reply = client.get(f"/api/v1/rounds/{closed}/results.xlsx")
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        assert reply.headers["cache-control"] == "no-store"
        sheet = load_workbook(io.BytesIO(reply.content)).active
        assert sheet is not None
        assert sheet.title == "Kết quả"
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][:3] == ("Mã đơn vị", "Đơn vị", "Chức danh")
        assert len(rows) == 5
        bode = [r for r in rows[1:] if r[0] == "PHUONG-BODE"]
        assert all(r[4] == 6 and r[5] == pytest.approx(3.0) for r in bode)
        cukhoi = [r for r in rows[1:] if r[0] == "PHUONG-CUKHOI"]
        assert all(r[4] is None and r[5] is None for r in cukhoi)
        english = load_workbook(
            io.BytesIO(client.get(f"/api/v1/rounds/{closed}/results.xlsx?lang=en").content)
        ).active
        assert english is not None
        assert next(english.iter_rows(values_only=True))[:2] == ("Unit code", "Unit")

    def test_bad_language_and_sealed_round_are_refused(
        self, client: TestClient, voted: tuple[int, list[str]]
    ) -> None:
        """An unknown language is a 422; before the close both exports answer 409."""
        round_id, _ = voted
        _login(client, "admin")
        for ext in ("csv", "xlsx"):
            assert client.get(f"/api/v1/rounds/{round_id}/results.{ext}").status_code == 409
        assert client.get(f"/api/v1/rounds/{round_id}/results.csv?lang=fr").status_code == 422
