"""The audit log page: filters, verifying the chain, and a head typed from the minutes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from ballots import accounts, audit
from ballots.audit import AuditEntry
from ballots.vocabulary import UserRole
from tests.i18n_helpers import english_on_page

PASSWORD = "mật khẩu đủ dài 2023"
HTML = {"accept": "text/html"}


@pytest.fixture
def logged(client: TestClient, session_factory: sessionmaker[Session]) -> str:
    """An observer logged in, and a few entries about rounds 1 and 2; returns a head."""
    with session_factory() as db:
        accounts.create_user(
            db,
            username="giamsat",
            full_name="G",
            role=UserRole.OBSERVER,
            password=PASSWORD,
            actor="t",
        )
        for round_id, action in ((1, "round.opened"), (2, "round.opened"), (1, "round.closed")):
            audit.record(db, actor="chief", action=action, payload={"round_id": round_id})
        head = audit.head(db)
        db.commit()
    assert head is not None
    assert client.post("/login", data={"username": "giamsat", "password": PASSWORD}).is_success
    return f"{head[0]}:{head[1]}"


class TestAuditPage:
    """What an observer does with the log."""

    def test_filters(self, client: TestClient, logged: str) -> None:
        """By action and by round, each action named in Vietnamese beside its code."""
        page = client.get("/audit?round=1")
        assert page.status_code == 200
        assert page.text.count("<td>Mở bỏ phiếu<br>") == 1
        assert page.text.count("<td>Kết thúc đợt lấy ý kiến<br>") == 1
        assert page.text.count(">round.opened</code></td>") == 1
        assert page.text.count(">round.closed</code></td>") == 1
        assert english_on_page(page.text) == []
        opened = client.get("/audit?action=round.opened").text
        assert opened.count(">round.opened</code></td>") == 2
        assert ">round.closed</code></td>" not in opened
        assert client.get("/audit?round=x", headers=HTML).status_code == 422

    def test_verify_the_chain_and_a_head(
        self, client: TestClient, logged: str, session_factory: sessionmaker[Session]
    ) -> None:
        """Verifies whole, against the written head; a malformed head is said in the page."""
        whole = client.get("/audit?verify=1")
        assert 'data-verdict="ok"' in whole.text
        against = client.get("/audit", params={"verify": "1", "head": logged})
        assert 'data-verdict="ok"' in against.text
        assert english_on_page(against.text) == []
        bad = client.get("/audit", params={"verify": "1", "head": "12:abc"})
        assert bad.status_code == 422
        assert 'role="alert"' in bad.text
        with session_factory() as db:
            seq = int(logged.split(":")[0])
            db.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(actor="someone else"))
            db.commit()
        broken = client.get("/audit", params={"verify": "1", "head": logged})
        assert 'data-verdict="broken"' in broken.text

    def test_leaders_and_strangers_are_kept_out(self, client: TestClient, logged: str) -> None:
        """Only admins and observers read the log."""
        client.cookies.clear()
        reply = client.get("/audit", headers=HTML, follow_redirects=False)
        assert reply.status_code in (401, 303)
        assert "round.opened" not in reply.text
