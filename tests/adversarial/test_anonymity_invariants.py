"""The anonymity invariants of the voting path, each a test that fails if it is broken.

Invariant numbers follow the design notes: 1 (no identity on the voting path),
2 (tokens only as hashes), 3 (ballot rows carry nothing but ratings; texts apart; what the
close keeps for the tally is counts only), 4 (token never in a URL or a log),
8 (receipts unlinked), 10 (the notice tells the truth).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from app import migrations
from app.main import create_app
from app.settings import Settings
from ballots import casting
from ballots.db import make_engine, make_session_factory, transaction
from crypto.qr import slip_url
from tests.ballot_helpers import answers_for, open_round_with_slips
from tests.live_server import loopback_socket, serving

VOTING_TABLES = ("ballots", "free_text_answers", "receipts", "tokens", "sealed_boxes")
IDENTIFYING = (
    "ip",
    "addr",
    "agent",
    "device",
    "phone",
    "email",
    "name",
    "user",
    "time",
    "created",
    "at",
    "seq",
    "session",
    "cookie",
)


def _columns(db: Session, table: str) -> set[str]:
    return {c["name"] for c in inspect(db.get_bind()).get_columns(table)}


def _foreign_tables(db: Session, table: str) -> set[str]:
    return {fk["referred_table"] for fk in inspect(db.get_bind()).get_foreign_keys(table)}


class TestInvariant1NoIdentityOnTheVotingPath:
    """Nothing on the voting path can hold who the voter is."""

    def test_invariant_1_voting_tables_have_no_identifying_column(self, db: Session) -> None:
        """No column of a voting table is named like an address, device, person or time."""
        offenders = {
            (table, column)
            for table in VOTING_TABLES
            for column in _columns(db, table)
            if any(part in column.split("_") for part in IDENTIFYING)
        }
        assert offenders == set()


class TestInvariant3BallotRows:
    """A ballot row is an id, round, unit and ratings; texts stand alone."""

    def test_invariant_3_ballot_columns_are_exactly_id_round_unit_ratings(
        self, db: Session
    ) -> None:
        """No token reference, time, sequence or client data beside a ballot."""
        assert _columns(db, "ballots") == {"id", "round_id", "unit_id", "ratings"}
        assert _foreign_tables(db, "ballots") == {"rounds", "units"}

    def test_invariant_3_sealed_box_columns_are_exactly_id_round_unit_box(
        self, db: Session
    ) -> None:
        """A sealed ballot is a random id, round, unit and the box: nothing else beside it."""
        assert _columns(db, "sealed_boxes") == {"id", "round_id", "unit_id", "box"}
        assert _foreign_tables(db, "sealed_boxes") == {"rounds", "units"}

    def test_invariant_3_texts_have_no_link_to_their_ballot(self, db: Session) -> None:
        """A free-text row names round, subject and question only."""
        assert _columns(db, "free_text_answers") == {
            "id",
            "round_id",
            "subject_id",
            "question",
            "text",
        }
        assert _foreign_tables(db, "free_text_answers") == {"rounds", "subjects"}

    def test_invariant_3_ballot_ids_are_random_uuids(self, db: Session, sample_data: Path) -> None:
        """Ids are version-4 UUIDs, so their order says nothing about casting order."""
        from sqlalchemy import select

        from ballots.ballot_box import Ballot

        _, slips = open_round_with_slips(db, sample_data, {"PHUONG-BODE": 5})
        for token in slips["PHUONG-BODE"]:
            casting.cast(db, token, answers_for(casting.preview(db, token)))
        ids = list(db.scalars(select(Ballot.id)))
        assert len(ids) == 5
        assert all(i.version == 4 for i in ids)


class TestInvariant3KeptCounts:
    """What the close keeps for the tally is counts, tied to no ballot."""

    def test_invariant_3_kept_counts_are_counts_per_unit_and_subject_only(
        self, db: Session
    ) -> None:
        """No id, time or sequence, and no link to a ballot, a text or a token."""
        assert _columns(db, "criterion_counts") == {
            "round_id",
            "unit_id",
            "subject_id",
            "position",
            "value",
            "ballots",
        }
        assert _foreign_tables(db, "criterion_counts") == {"rounds", "units", "subjects"}
        assert not any(
            part in column.split("_")
            for column in _columns(db, "criterion_counts")
            for part in IDENTIFYING
        )


class TestInvariant8Receipts:
    """Receipts prove acceptance and link to nothing."""

    def test_invariant_8_receipts_table_links_to_no_ballot_or_token(self, db: Session) -> None:
        """The receipt row is a code and a round."""
        assert _columns(db, "receipts") == {"code", "round_id"}
        assert _foreign_tables(db, "receipts") == {"rounds"}


class TestInvariant4TokenNeverInAUrl:
    """The token travels in the fragment and in POST bodies only."""

    def test_invariant_4_qr_puts_the_token_in_the_fragment(self) -> None:
        """The server-visible part of the slip URL holds no token."""
        token = "0" * 26 + "0"
        url = slip_url("https://phieukin.example.vn", token)
        before, _, after = url.partition("#")
        assert token not in before
        assert after == token

    def test_invariant_4_voting_routes_accept_no_token_in_query_or_path(
        self, client: object
    ) -> None:
        """A token in the query string is ignored: the page never reads it."""
        from fastapi.testclient import TestClient

        assert isinstance(client, TestClient)
        page = client.get("/v?code=" + "0" * 27)
        assert page.status_code == 200
        assert "0" * 27 not in page.text


# Every logger that could see a request, at DEBUG for the duration of the test.
LOGGERS = (
    "uvicorn",
    "uvicorn.access",
    "uvicorn.error",
    "sqlalchemy",
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "phieukin",
)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def live_server(tmp_path: Path, sample_data: Path) -> Iterator[tuple[str, list[str], _Capture]]:
    """A real uvicorn server on loopback, run as in production, every logger at DEBUG."""
    url = f"sqlite:///{tmp_path / 'live.db'}"
    migrations.upgrade(url)
    factory = make_session_factory(make_engine(url))
    with transaction(factory) as session:
        _, slips = open_round_with_slips(session, sample_data, {"PHUONG-BODE": 8})
    capture = _Capture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    sock = loopback_socket()
    app = create_app(Settings(database_url=url, secret_key="k" * 40))  # type: ignore[arg-type]
    try:
        with sock, serving(app, sock, log_level="debug"):
            yield f"http://127.0.0.1:{sock.getsockname()[1]}", slips["PHUONG-BODE"], capture
    finally:
        root.removeHandler(capture)
        root.setLevel(old_level)
        for name in LOGGERS:
            logging.getLogger(name).setLevel(logging.NOTSET)


class TestInvariant4NothingInTheLogs:
    """No log line, at any level, holds a token, a receipt or an answer."""

    def test_invariant_4_debug_logs_of_a_batch_of_casts_hold_no_secret(
        self,
        live_server: tuple[str, list[str], _Capture],
    ) -> None:
        """Casts over real HTTP with every logger at DEBUG leave no secret in any record."""
        base, slips, capture = live_server
        records = capture.records
        comment = "Đồng chí còn nể nang trong phê bình"
        receipts = []
        with httpx.Client(base_url=base, timeout=15) as http:
            for i, token in enumerate(slips[:6]):
                form = http.post("/api/v1/vote/preview", json={"token": token}).json()
                keys = [c["key"] for c in form["questionnaire"]["criteria"]]
                first = str(form["subjects"][0]["id"])
                answers = {
                    "ratings": {
                        str(s["id"]): dict.fromkeys(keys, 1 + i % 4) for s in form["subjects"]
                    },
                    "texts": {first: {"shortcomings": f"{comment} #{i}"}},
                }
                reply = http.post("/api/v1/vote/cast", json={"token": token, "answers": answers})
                assert reply.status_code == 201
                receipts.append(reply.json()["receipt"])
            page = http.post("/v", data={"code": slips[6]})
            assert page.status_code == 200
        time.sleep(0.2)
        text = "\n".join(f"{r.name} {r.getMessage()} {r.args!r}" for r in records)
        assert "phieukin.access" in text  # the capture saw the access log
        assert "sqlalchemy.engine" in text  # ... and the SQL log, at DEBUG
        for secret in slips + receipts + [comment]:
            assert secret not in text
        for formatted in (slips[0][:9], receipts[0][:6]):
            assert formatted not in text

    def test_invariant_4_access_log_of_voting_routes_has_no_client_address(
        self,
        live_server: tuple[str, list[str], _Capture],
    ) -> None:
        """Requests to /v and /api/v1/vote are logged without the caller's address or port."""
        base, slips, capture = live_server
        records = capture.records
        with httpx.Client(base_url=base, timeout=15) as http:
            http.get("/v")
            http.post("/api/v1/vote/preview", json={"token": slips[7]})
        time.sleep(0.2)
        lines = [r.getMessage() for r in records if "access" in r.name]
        assert any("/api/v1/vote/preview" in line for line in lines)
        assert [line for line in lines if "127.0.0.1" in line] == []


class TestInvariant10Notice:
    """The notice says what the code does."""

    def test_invariant_10_notice_states_the_rounds_threshold_and_what_is_kept(
        self, db: Session, sample_data: Path, app: object
    ) -> None:
        """The form states this round's k and max(k, 5), and that nothing identifying is kept."""
        from fastapi.testclient import TestClient

        _, slips = open_round_with_slips(db, sample_data, {"PHUONG-BODE": 2}, threshold=7)
        db.commit()
        with TestClient(app) as client:  # type: ignore[arg-type]
            page = client.post("/v", data={"code": slips["PHUONG-BODE"][0]}).text
        assert "từ 7 phiếu" in page
        assert page.count("từ 7 phiếu") == 2  # ratings and comments: max(7, 5) = 7
        assert "không ghi tên" in page
        assert "không lưu địa chỉ mạng" in page
