"""The round-setup API: lottery, slips, turnout, lifecycle and the audit log, by role."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pypdfium2 as pdfium
import pytest
import zxingcpp
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from ballots import accounts, participants, rounds, units
from ballots.vocabulary import UnitKind, UserRole

PASSWORD = "mật khẩu đủ dài 2023"
PHRASE = "3 5 1 6 2 4 – XSMB 24/11/2026"
CEREMONY = {"key_holders": ["An", "Bình", "Cường", "Dung", "Em"]}
SMALL_WARD = "PHUONG-BODE"  # taking part with an electorate of 5 in these tests


def _login(
    client: TestClient, session_factory: sessionmaker[Session], username: str, role: UserRole
) -> TestClient:
    with session_factory() as db:
        accounts.create_user(
            db, username=username, full_name=username, role=role, password=PASSWORD, actor="test"
        )
        db.commit()
    reply = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    return client


@pytest.fixture
def admin(client: TestClient, session_factory: sessionmaker[Session]) -> TestClient:
    """A client logged in as an admin."""
    return _login(client, session_factory, "admin", UserRole.ADMIN)


@pytest.fixture
def observer(app: FastAPI, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """A second client, logged in as an observer."""
    with TestClient(app) as other:
        yield _login(other, session_factory, "giamsat", UserRole.OBSERVER)


@pytest.fixture
def round_id(session_factory: sessionmaker[Session], sample_data: Path) -> int:
    """A draft round of the sample district with its 14 wards, one of them small."""
    with session_factory() as db:
        units.import_units(db, (sample_data / "long_bien_units.csv").read_bytes(), actor="test")
        round_ = rounds.create_round(
            db, title="Lấy ý kiến 2023", year=2023, anonymity_threshold=5, actor="test"
        )
        wards = sorted(u.code for u in units.list_units(db) if u.kind is UnitKind.WARD)
        choices = [(c, 5 if c == SMALL_WARD else None) for c in wards]
        participants.set_round_units(db, round_.id, choices, actor="test")
        db.commit()
        return round_.id


def _issue(client: TestClient, round_id: int, count: int, **extra: object) -> httpx.Response:
    body = {"unit_code": SMALL_WARD, "count": count, **extra}
    return client.post(f"/api/v1/rounds/{round_id}/slips", json=body)


def _live(client: TestClient, round_id: int) -> dict[str, int]:
    reply = client.get(f"/api/v1/rounds/{round_id}/turnout")
    assert reply.status_code == 200, reply.text
    return {row["unit_code"]: row["live_tokens"] for row in reply.json()}


def _stable(proof: dict[str, Any]) -> dict[str, Any]:
    # drawn_at loses its UTC offset once read back from SQLite (see test_lottery_service).
    return {k: v for k, v in proof.items() if k != "drawn_at"}


def _error(reply: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = reply.json()["error"]
    return error


class TestLotteryApi:
    """Drawing schools over HTTP and checking the proof."""

    def test_draw_read_and_verify(self, admin: TestClient, round_id: int) -> None:
        """The admin's draw returns the proof, which GET repeats and verify confirms."""
        drawn = admin.post(f"/api/v1/rounds/{round_id}/lottery", json={"phrase": PHRASE})
        assert drawn.status_code == 201, drawn.text
        proof = drawn.json()
        assert proof["round_id"] == round_id
        assert sum(len(codes) for codes in proof["chosen"].values()) == 15
        assert _stable(admin.get(f"/api/v1/rounds/{round_id}/lottery").json()) == _stable(proof)
        verified = admin.get(f"/api/v1/rounds/{round_id}/lottery/verify").json()
        assert verified["matches"] is True
        assert verified["stored_seed"] == verified["recomputed_seed"] == proof["seed"]
        assert len(_live(admin, round_id)) == 14 + 15

    def test_a_redraw_without_reason_is_a_422_and_with_one_a_201(
        self, admin: TestClient, round_id: int
    ) -> None:
        """A second draw needs a reason; given one, the new proof is in force."""
        url = f"/api/v1/rounds/{round_id}/lottery"
        first = admin.post(url, json={"phrase": PHRASE}).json()
        refused = admin.post(url, json={"phrase": "another phrase"})
        assert refused.status_code == 422
        assert _error(refused)["details"]["field"] == "reason"
        redrawn = admin.post(url, json={"phrase": "another phrase", "reason": "Nhầm danh sách"})
        assert redrawn.status_code == 201, redrawn.text
        assert admin.get(url).json()["seed"] == redrawn.json()["seed"] != first["seed"]

    def test_no_draw_yet_is_a_404(self, admin: TestClient, round_id: int) -> None:
        """Before any draw there is no proof to show."""
        reply = admin.get(f"/api/v1/rounds/{round_id}/lottery")
        assert reply.status_code == 404
        assert "no lottery draw" in _error(reply)["message"]


class TestSlipsApi:
    """Issuing, counting and voiding slips."""

    def test_slips_come_back_as_a_pdf_with_the_batch_id(
        self, admin: TestClient, round_id: int
    ) -> None:
        """The reply is the printable PDF, named by its batch, and turnout counts the slips."""
        reply = _issue(admin, round_id, 3)
        assert reply.status_code == 200, reply.text
        assert reply.headers["content-type"] == "application/pdf"
        assert reply.content.startswith(b"%PDF")
        assert reply.headers["cache-control"] == "no-store"
        batch_id = int(reply.headers["x-batch-id"])
        batches = admin.get(f"/api/v1/rounds/{round_id}/slips").json()
        assert [(b["id"], b["unit_code"], b["size"]) for b in batches] == [
            (batch_id, SMALL_WARD, 3)
        ]
        live = _live(admin, round_id)
        assert live[SMALL_WARD] == 3
        assert sum(live.values()) == 3

    def test_more_slips_than_the_electorate_need_the_override(
        self, admin: TestClient, round_id: int
    ) -> None:
        """Beyond the electorate: 409 without the override, 200 with it, and the log says so."""
        assert _issue(admin, round_id, 3).status_code == 200
        refused = _issue(admin, round_id, 3)
        assert refused.status_code == 409
        assert _error(refused)["details"] == {"electorate": 5, "live": 3}
        assert _live(admin, round_id)[SMALL_WARD] == 3
        allowed = _issue(admin, round_id, 3, override_electorate=True)
        assert allowed.status_code == 200, allowed.text
        assert _live(admin, round_id)[SMALL_WARD] == 6
        logged = admin.get("/api/v1/audit", params={"after": 0, "limit": 5000}).json()
        issued = [e["payload"] for e in logged if e["action"] == "tokens.issued"]
        assert [p["over_electorate_override"] for p in issued] == [False, True]
        assert issued[-1]["batch_id"] == int(allowed.headers["x-batch-id"])
        assert issued[-1]["live_before"] == 3

    def test_voiding_a_batch_drops_its_slips_from_the_live_count(
        self, admin: TestClient, round_id: int
    ) -> None:
        """After a void, only the other batch's slips are live; a second void is a 409."""
        kept = _issue(admin, round_id, 2)
        lost = _issue(admin, round_id, 3)
        assert _live(admin, round_id)[SMALL_WARD] == 5
        url = f"/api/v1/batches/{lost.headers['x-batch-id']}/void"
        voided = admin.post(url, json={"reason": "Thất lạc tập phiếu"})
        assert voided.status_code == 200, voided.text
        assert voided.json()["voided"] is True
        assert _live(admin, round_id)[SMALL_WARD] == 2
        assert admin.post(url, json={"reason": "again"}).status_code == 409
        listed = {
            b["id"]: b["voided"] for b in admin.get(f"/api/v1/rounds/{round_id}/slips").json()
        }
        assert listed == {int(kept.headers["x-batch-id"]): False, int(voided.json()["id"]): True}


class TestLifecycleApi:
    """Opening, closing and publishing, each giving the audit head for the minutes."""

    def test_opening_needs_slips_and_names_the_draft_state(
        self, admin: TestClient, round_id: int
    ) -> None:
        """Without any slip the round cannot open and stays a draft."""
        reply = admin.post(f"/api/v1/rounds/{round_id}/open", json=CEREMONY)
        assert reply.status_code == 409
        assert _error(reply)["details"]["status"] == "draft"
        assert "slips" in _error(reply)["message"]
        assert admin.get(f"/api/v1/rounds/{round_id}").json()["status"] == "draft"

    def test_open_close_publish_and_verify_the_written_heads(
        self, admin: TestClient, round_id: int
    ) -> None:
        """Each step returns its head; a repeated step is a 409 naming the current state."""
        assert _issue(admin, round_id, 2).status_code == 200
        opened = admin.post(f"/api/v1/rounds/{round_id}/open", json=CEREMONY)
        assert opened.status_code == 200, opened.text
        assert opened.json()["round_id"] == round_id
        assert opened.json()["status"] == "open"
        again = admin.post(f"/api/v1/rounds/{round_id}/open", json=CEREMONY)
        assert again.status_code == 409
        assert _error(again)["details"]["status"] == "open"
        assert "it is open" in _error(again)["message"]
        shares = [s["share"] for s in opened.json()["shares"]]
        closed = admin.post(f"/api/v1/rounds/{round_id}/close", json={"shares": shares[:3]})
        assert closed.json()["status"] == "closed"
        published = admin.post(f"/api/v1/rounds/{round_id}/publish")
        assert published.status_code == 200, published.text
        assert published.json()["status"] == "published"
        assert _error(admin.post(f"/api/v1/rounds/{round_id}/close"))["details"] == {
            "status": "published"
        }
        heads = [r.json()["audit_head"] for r in (opened, closed, published)]
        seqs = [int(h.split(":")[0]) for h in heads]
        # The close's scrub writes its own entry (round.scrubbed) after the close's.
        assert seqs == [seqs[0], seqs[0] + 1, seqs[0] + 3]
        for head in heads:
            verdict = admin.get("/api/v1/audit/verify", params={"head": head}).json()
            assert verdict["ok"] is True, verdict
            assert verdict["head"] == heads[-1]
            assert verdict["first_broken_seq"] is None
        logged = admin.get("/api/v1/audit", params={"after": seqs[0] - 1}).json()
        assert [e["action"] for e in logged] == [
            "round.opened",
            "round.closed",
            "round.scrubbed",
            "round.published",
        ]
        answered = [e for e in logged if e["action"] != "round.scrubbed"]
        assert [f"{e['seq']}:{e['hash']}" for e in answered] == heads

    def test_a_head_that_is_not_in_the_chain_fails_verification(
        self, admin: TestClient, round_id: int
    ) -> None:
        """A head beyond the chain's end is reported as cut off; a malformed one is a 422."""
        current = admin.get("/api/v1/audit/verify").json()
        assert current["ok"] is True
        seq = int(current["head"].split(":")[0])
        missing = admin.get("/api/v1/audit/verify", params={"head": f"{seq + 1}:{'a' * 64}"})
        assert missing.json()["ok"] is False
        assert missing.json()["first_broken_seq"] == seq + 1
        assert admin.get("/api/v1/audit/verify", params={"head": "12:abc"}).status_code == 422


class TestObserverAccess:
    """Observers read everything about the setup and change nothing."""

    def test_observer_reads_lottery_turnout_and_audit(
        self, admin: TestClient, observer: TestClient, round_id: int
    ) -> None:
        """The observer sees the same proof, verification, counts and log as the admin."""
        proof = admin.post(f"/api/v1/rounds/{round_id}/lottery", json={"phrase": PHRASE}).json()
        assert _issue(admin, round_id, 2).status_code == 200
        assert _stable(observer.get(f"/api/v1/rounds/{round_id}/lottery").json()) == _stable(proof)
        verified = observer.get(f"/api/v1/rounds/{round_id}/lottery/verify")
        assert verified.json()["matches"] is True
        assert _live(observer, round_id)[SMALL_WARD] == 2
        logged = observer.get("/api/v1/audit")
        assert logged.status_code == 200
        assert [e["action"] for e in logged.json()][-2:] == ["lottery.drawn", "tokens.issued"]
        last = logged.json()[-1]
        verdict = observer.get(
            "/api/v1/audit/verify", params={"head": f"{last['seq']}:{last['hash']}"}
        )
        assert verdict.status_code == 200
        assert verdict.json()["ok"] is True

    def test_observer_cannot_draw_issue_open_or_void(
        self, admin: TestClient, observer: TestClient, round_id: int
    ) -> None:
        """Every change is a 403 for an observer, and none of them leaves a trace."""
        batch = _issue(admin, round_id, 2).headers["x-batch-id"]
        head_before = admin.get("/api/v1/audit/verify").json()["head"]
        attempts = [
            observer.post(f"/api/v1/rounds/{round_id}/lottery", json={"phrase": PHRASE}),
            _issue(observer, round_id, 1),
            observer.post(f"/api/v1/rounds/{round_id}/open", json=CEREMONY),
            observer.post(f"/api/v1/batches/{batch}/void", json={"reason": "x"}),
        ]
        assert [r.status_code for r in attempts] == [403, 403, 403, 403]
        assert admin.get(f"/api/v1/rounds/{round_id}/lottery").status_code == 404
        assert admin.get(f"/api/v1/rounds/{round_id}").json()["status"] == "draft"
        assert _live(admin, round_id)[SMALL_WARD] == 2
        assert admin.get("/api/v1/audit/verify").json()["head"] == head_before

    def test_anonymous_callers_get_401(self, app: FastAPI, round_id: int) -> None:
        """Without a login neither the log nor the turnout is shown."""
        with TestClient(app) as anonymous:
            assert anonymous.get("/api/v1/audit").status_code == 401
            assert anonymous.get(f"/api/v1/rounds/{round_id}/turnout").status_code == 401


def _scan_sheet(pdf: bytes) -> list[str]:
    """The texts of the QR codes on a share sheet, read back with a real decoder."""
    document = pdfium.PdfDocument(io.BytesIO(pdf))
    image = document[0].render(scale=200 / 72).to_pil()
    return [b.text for b in zxingcpp.read_barcodes(image)]


class TestSealedRoundApi:
    """The key ceremony at the opening and the close with k shares, over HTTP."""

    def test_opening_without_key_holders_is_refused_clearly(
        self, admin: TestClient, round_id: int
    ) -> None:
        """No body: a 422 that says a round opens with its key ceremony; still a draft."""
        assert _issue(admin, round_id, 2).status_code == 200
        reply = admin.post(f"/api/v1/rounds/{round_id}/open")
        assert reply.status_code == 422
        assert "key ceremony" in _error(reply)["message"]
        for bad in ({"key_holders": ["An"]}, {**CEREMONY, "shares_needed": 6}):
            assert admin.post(f"/api/v1/rounds/{round_id}/open", json=bad).status_code == 422
        assert admin.get(f"/api/v1/rounds/{round_id}").json()["status"] == "draft"

    def test_ceremony_hands_out_sheets_and_close_needs_three_valid_shares(
        self, admin: TestClient, round_id: int
    ) -> None:
        """Five sheets whose QR codes hold the shares; 2 shares or a forged one: 422."""
        assert _issue(admin, round_id, 2).status_code == 200
        opened = admin.post(f"/api/v1/rounds/{round_id}/open", json=CEREMONY)
        assert opened.status_code == 200, opened.text
        body = opened.json()
        assert (body["shares_needed"], body["key_holders"]) == (3, 5)
        shares = [s["share"] for s in body["shares"]]
        assert [s["holder"] for s in body["shares"]] == CEREMONY["key_holders"]
        sheet = base64.b64decode(body["shares"][1]["sheet_pdf_base64"])
        assert _scan_sheet(sheet) == [shares[1]]
        entries = admin.get("/api/v1/audit").json()
        opening = next(e for e in entries if e["action"] == "round.opened")
        assert opening["payload"]["key_holders"][1] == {"number": 2, "name": "Bình"}
        assert not any(s[-20:] in json.dumps(entries) for s in shares)
        too_few = admin.post(f"/api/v1/rounds/{round_id}/close", json={"shares": shares[:2]})
        assert too_few.status_code == 422
        assert "1 more needed" in _error(too_few)["message"]
        assert _error(too_few)["details"]["missing"] == 1
        forged = shares[2][:-7] + ("0" if shares[2][-7] != "0" else "1") + shares[2][-6:]
        refused = admin.post(
            f"/api/v1/rounds/{round_id}/close", json={"shares": [*shares[:2], forged]}
        )
        assert refused.status_code == 422
        assert admin.get(f"/api/v1/rounds/{round_id}").json()["status"] == "open"
        files = [("share", (f"s{i}.txt", shares[i].encode(), "text/plain")) for i in (0, 3, 4)]
        closed = admin.post(f"/api/v1/rounds/{round_id}/close/upload", files=files)
        assert closed.status_code == 200, closed.text
        assert closed.json()["status"] == "closed"

    def test_bad_share_input_is_a_clear_4xx(self, admin: TestClient, round_id: int) -> None:
        """Binary files, junk text and oversized lists never give a 5xx."""
        assert _issue(admin, round_id, 2).status_code == 200
        assert admin.post(f"/api/v1/rounds/{round_id}/open", json=CEREMONY).status_code == 200
        for reply in (
            admin.post(
                f"/api/v1/rounds/{round_id}/close/upload",
                files=[("share", ("x.bin", b"\xff\xfe\x00", "application/octet-stream"))],
            ),
            admin.post(f"/api/v1/rounds/{round_id}/close", json={"shares": ["PHIEUKIN KHOA"]}),
            admin.post(f"/api/v1/rounds/{round_id}/close", json={"shares": ["x"] * 50}),
            admin.post(f"/api/v1/rounds/{round_id}/close", json={"shares": "abc"}),
        ):
            assert reply.status_code == 422, reply.text
