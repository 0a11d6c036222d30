"""Golden files pin the public formats byte for byte: what observers, heads and tools read.

One scenario on a fresh database of each backend (so ids are the same on both): a draft
round with its school lottery, and a round with five ballots at Bồ Đề, closed and published.
Times, the hashes built on them and the digest of the random receipts change from run to
run; those values alone are replaced by a marker before the comparison. A golden file
changes only on purpose: set PHIEUKIN_UPDATE_GOLDEN=1 to rewrite them, then read the diff.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from app.main import create_app
from ballots import (
    accounts,
    casting,
    lifecycle,
    lottery,
    participants,
    rounds,
    subjects,
    tokens,
    units,
)
from ballots.db import make_engine, make_session_factory, transaction
from ballots.vocabulary import Role, UserRole
from tests.conftest import fresh_database, make_settings

GOLDEN = Path(__file__).resolve().parent / "golden"
PASSWORD = "mật khẩu golden 2023"
PHRASE = "3 5 1 6 2 4 – XSMB 24/11/2026"
RATINGS = (4, 3, 4, 2, 3)  # one value per ballot, for every criterion of both heads
TIMES = re.compile(rb'"(at|drawn_at)":"[^"]+"')
HASHES = re.compile(rb'"(hash|prev_hash|receipts_sha256)":"[0-9a-f]{64}"')


def _stable(body: bytes) -> bytes:
    """The body with times, and the chain hashes computed over them, marked."""
    return HASHES.sub(rb'"\1":"<hash>"', TIMES.sub(rb'"\1":"<time>"', body))


def _compare(name: str, actual: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("PHIEUKIN_UPDATE_GOLDEN") == "1":
        path.write_bytes(actual)
    assert actual == path.read_bytes(), f"{name} changed; see the module docstring"


def _play(url: str, sample: Path) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine)) as db:
            units.import_units(db, (sample / "long_bien_units.csv").read_bytes(), actor="golden")
            accounts.create_user(
                db,
                username="admin",
                full_name="Ban Tổ chức",
                role=UserRole.ADMIN,
                password=PASSWORD,
                actor="golden",
            )
            drawn = rounds.create_round(
                db, title="Bốc thăm 2023", year=2023, anonymity_threshold=5, actor="golden"
            )
            lottery.draw_schools(db, drawn.id, phrase=PHRASE, actor="golden")
            voted = rounds.create_round(
                db, title="Lấy ý kiến 2023", year=2023, anonymity_threshold=5, actor="golden"
            )
            subjects.import_subjects(
                db, voted.id, (sample / "long_bien_subjects.csv").read_bytes(), actor="golden"
            )
            participants.set_round_units(db, voted.id, [("PHUONG-BODE", None)], actor="golden")
            slips = tokens.issue_tokens(db, voted.id, "PHUONG-BODE", 5, actor="golden").tokens
            lifecycle.open_round(db, voted.id, actor="golden", key_holders=None)
            for token, value in zip(slips, RATINGS, strict=True):
                form = casting.preview(db, token)
                keys = [c.key for c in form.questionnaire.criteria]
                casting.cast(
                    db,
                    token,
                    {
                        "ratings": {str(s.id): dict.fromkeys(keys, value) for s in form.subjects},
                        # The same words on every ballot: their shuffled order shows nothing.
                        "texts": {str(form.subjects[0].id): {"strengths": "Gần dân."}},
                    },
                )
            lifecycle.close_round(db, voted.id, actor="golden")
            lifecycle.publish_round(db, voted.id, actor="golden")
            head = next(
                s.id
                for s in subjects.list_subjects(db, voted.id)
                if s.unit.code == "PHUONG-BODE" and s.role is Role.WARD_PARTY_SECRETARY
            )
            return {"drawn": drawn.id, "voted": voted.id, "subject": head}
    finally:
        engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def golden_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sample_data: Path
) -> Iterator[tuple[TestClient, dict[str, int]]]:
    """The scenario played once per backend, and an admin's client on it."""
    with fresh_database(request.param, tmp_path_factory.mktemp("golden")) as url:
        ids = _play(url, sample_data)
        with TestClient(create_app(make_settings(url))) as client:
            reply = client.post(
                "/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}
            )
            assert reply.status_code == 200
            yield client, ids


class TestGoldenFormats:
    """The bytes a reader of each public format receives."""

    def test_lottery_proof_json(self, golden_site: tuple[TestClient, dict[str, int]]) -> None:
        """The proof observers re-run the draw from."""
        client, ids = golden_site
        reply = client.get(f"/api/v1/rounds/{ids['drawn']}/lottery")
        assert reply.status_code == 200
        _compare("lottery_proof.json", _stable(reply.content))

    def test_results_csv(self, golden_site: tuple[TestClient, dict[str, int]]) -> None:
        """The aggregates table as spreadsheets and scripts read it."""
        client, ids = golden_site
        reply = client.get(f"/api/v1/rounds/{ids['voted']}/results.csv")
        assert reply.status_code == 200
        _compare("results.csv", reply.content)

    def test_results_xlsx_header(self, golden_site: tuple[TestClient, dict[str, int]]) -> None:
        """The Excel file's header row (the cells, since the zip itself carries a time)."""
        client, ids = golden_site
        reply = client.get(f"/api/v1/rounds/{ids['voted']}/results.xlsx")
        assert reply.status_code == 200
        sheet = load_workbook(io.BytesIO(reply.content)).active
        assert sheet is not None
        header = [cell.value for cell in next(sheet.iter_rows(min_row=1, max_row=1))]
        _compare("results_xlsx_header.json", json.dumps(header, ensure_ascii=False).encode())

    def test_report_json(self, golden_site: tuple[TestClient, dict[str, int]]) -> None:
        """A head's report as the API gives it."""
        client, ids = golden_site
        reply = client.get(f"/api/v1/reports/{ids['subject']}")
        assert reply.status_code == 200
        _compare("report.json", reply.content)

    def test_audit_log_export(self, golden_site: tuple[TestClient, dict[str, int]]) -> None:
        """The hash-chained log as observers download it, up to the round's publication."""
        client, _ = golden_site
        reply = client.get("/api/v1/audit", params={"after": 0, "limit": 500})
        assert reply.status_code == 200
        entries = reply.json()
        published = next(e["seq"] for e in entries if e["action"] == "round.published")
        reply = client.get("/api/v1/audit", params={"after": 0, "limit": published})
        _compare("audit_export.json", _stable(reply.content))
