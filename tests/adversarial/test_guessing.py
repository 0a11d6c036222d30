"""Guessing slip codes is slowed per device; typos, caught by the check character, are not."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from crypto.tokens import new_token
from tests.ballot_helpers import open_round_with_slips


def _typo(token: str) -> str:
    return token[:4] + ("0" if token[4] != "0" else "1") + token[5:]


class TestGuessingLimit:
    """Per-client limits on the voting path."""

    def test_typos_never_lock_a_meeting_out(
        self, app: FastAPI, session_factory: sessionmaker[Session], sample_data: Path
    ) -> None:
        """A hundred mistyped codes from one address, then a valid slip still opens."""
        with session_factory() as db:
            _, slips = open_round_with_slips(db, sample_data, {"PHUONG-BODE": 1})
            db.commit()
        token = slips["PHUONG-BODE"][0]
        with TestClient(app) as client:
            for _ in range(100):
                reply = client.post("/api/v1/vote/preview", json={"token": _typo(token)})
                assert reply.json()["error"]["code"] == "mistyped_code"
            assert client.post("/api/v1/vote/preview", json={"token": token}).status_code == 200

    def test_unknown_codes_from_one_device_are_slowed(
        self, app: FastAPI, session_factory: sessionmaker[Session], sample_data: Path
    ) -> None:
        """Past the per-minute limit of well-formed unknown codes, the device waits."""
        limit = app.state.settings.wrong_codes_per_minute
        with TestClient(app) as client:
            codes = [
                client.post("/api/v1/vote/preview", json={"token": new_token()}).status_code
                for _ in range(limit + 1)
            ]
        assert codes[:limit] == [404] * limit
        assert codes[limit] == 429
