"""Shared by the adversarial tests: a committed round with ballots, and the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ballots import accounts, casting, lifecycle, participants, rounds, subjects, tokens, units
from ballots.db import make_engine, make_session_factory, transaction
from ballots.vocabulary import UserRole

BALLOTS = 12
PASSWORD = "mật khẩu đủ dài 2023"
PHIEUKIN = Path(sys.executable).parent / "phieukin"


@pytest.fixture
def voted(
    committed_database_url: str, sample_data: Path
) -> Iterator[tuple[str, Engine, sessionmaker[Session], int]]:
    """An open round with a dozen ballots cast and an admin account, all committed."""
    engine = make_engine(committed_database_url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        units.import_units(session, (sample_data / "long_bien_units.csv").read_bytes(), actor="t")
        round_id = rounds.create_round(
            session, title="Đợt thử", year=2023, anonymity_threshold=5, actor="t"
        ).id
        subjects.import_subjects(
            session, round_id, (sample_data / "long_bien_subjects.csv").read_bytes(), actor="t"
        )
        participants.set_round_units(session, round_id, [("PHUONG-SAIDONG", BALLOTS)], actor="t")
        plain = tokens.issue_tokens(session, round_id, "PHUONG-SAIDONG", BALLOTS, actor="t").tokens
        lifecycle.open_round(session, round_id, actor="t", key_holders=None)
        accounts.create_user(
            session,
            username="admin",
            full_name="Quản trị",
            role=UserRole.ADMIN,
            password=PASSWORD,
            actor="t",
        )
        form = casting.preview(session, plain[0])
    keys = [c.key for c in form.questionnaire.criteria]
    for token in plain:
        answers = {
            "ratings": {str(s.id): dict.fromkeys(keys, 3) for s in form.subjects},
            "texts": {str(form.subjects[0].id): {"strengths": "Gương mẫu"}},
        }
        with transaction(factory) as session:
            casting.cast(session, token, answers)
    yield committed_database_url, engine, factory, round_id
    engine.dispose()


def phieukin(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the real command line against ``url`` with a short scrub patience."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHIEUKIN_")}
    env |= {"PHIEUKIN_DATABASE_URL": url, "PHIEUKIN_SCRUB_PATIENCE_SECONDS": "1"}
    env["PHIEUKIN_SECRET_KEY"] = "k" * 40
    return subprocess.run(
        [str(PHIEUKIN), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
