"""Small helpers shared by the tests that cast ballots (imported, not fixtures)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import zxingcpp
from sqlalchemy.orm import Session

from ballots import casting, lifecycle, participants, rounds, subjects, tokens, units
from crypto.tokens import normalize_token

BASE = "http://testserver"


def scan_tokens(pdf: bytes) -> list[str]:
    """Every token printed in a slips PDF, read back with a real QR decoder."""
    document = pdfium.PdfDocument(io.BytesIO(pdf))
    found: list[str] = []
    for page in document:
        image = page.render(scale=200 / 72).to_pil()
        found += [normalize_token(b.text.split("#", 1)[1]) for b in zxingcpp.read_barcodes(image)]
    return found


def open_round_with_slips(
    session: Session, sample: Path, unit_codes: dict[str, int], threshold: int = 5
) -> tuple[int, dict[str, list[str]]]:
    """Load the sample, make a round with these units, issue slips, open it."""
    units.import_units(session, (sample / "long_bien_units.csv").read_bytes(), actor="test")
    round_ = rounds.create_round(
        session, title="Đợt thử", year=2023, anonymity_threshold=threshold, actor="test"
    )
    subjects.import_subjects(
        session, round_.id, (sample / "long_bien_subjects.csv").read_bytes(), actor="test"
    )
    participants.set_round_units(session, round_.id, [(c, None) for c in unit_codes], actor="test")
    slips = {}
    for code, count in unit_codes.items():
        issued = tokens.issue_slips(
            session,
            round_.id,
            code,
            count,
            base_url=BASE,
            actor="test",
            override_electorate=True,
        )
        slips[code] = scan_tokens(issued.pdf)
    lifecycle.open_round(session, round_.id, actor="test")
    return round_.id, slips


def answers_for(form: casting.BallotForm, value: int = 4, **texts: str) -> dict[str, Any]:
    """Every criterion of every head rated ``value``; texts for the first head."""
    keys = [c.key for c in form.questionnaire.criteria]
    first = str(form.subjects[0].id)
    return {
        "ratings": {str(s.id): dict.fromkeys(keys, value) for s in form.subjects},
        "texts": {first: dict(texts)} if texts else {},
    }
