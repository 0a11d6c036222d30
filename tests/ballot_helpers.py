"""Small helpers shared by the tests that cast ballots (imported, not fixtures)."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import zxingcpp
from sqlalchemy.orm import Session

from ballots import casting, lifecycle, rounds, tokens, units
from ballots.participants import set_round_units
from ballots.subjects import import_subjects
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


# Five key holders, three needed: the default ceremony of a sealed round.
HOLDERS = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Hoàng Văn Em"]


def open_round_with_slips(
    session: Session, shared: Path, unit_codes: dict[str, int], threshold: int = 5
) -> tuple[int, dict[str, list[str]]]:
    """Load the sample, make a round with these units, issue slips, open it (unsealed)."""
    round_id, slips, _ = _open(session, shared, unit_codes, threshold, None)
    return round_id, slips


def open_sealed_round_with_slips(
    session: Session, shared: Path, unit_codes: dict[str, int], threshold: int = 5
) -> tuple[int, dict[str, list[str]], list[str]]:
    """The same, opened with the key ceremony (3 of 5); returns the five shares' text too."""
    return _open(session, shared, unit_codes, threshold, HOLDERS)


def _open(
    session: Session,
    shared: Path,
    unit_codes: dict[str, int],
    threshold: int,
    holders: list[str] | None,
) -> tuple[int, dict[str, list[str]], list[str]]:
    units.import_units(session, (shared / "long_bien_units.csv").read_bytes(), actor="test")
    round_ = rounds.create_round(
        session, title="Đợt thử", year=2023, anonymity_threshold=threshold, actor="test"
    )
    import_subjects(
        session, round_.id, (shared / "long_bien_subjects.csv").read_bytes(), actor="test"
    )
    set_round_units(session, round_.id, [(c, None) for c in unit_codes], actor="test")
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
    opened = lifecycle.open_round(session, round_.id, actor="test", key_holders=holders)
    return round_.id, slips, [s.text for s in opened.shares]


def answers_for(form: casting.BallotForm, value: int = 4, **texts: str) -> dict[str, Any]:
    """Every criterion of every head rated ``value``; texts for the first head."""
    keys = [c.key for c in form.questionnaire.criteria]
    first = str(form.subjects[0].id)
    return {
        "ratings": {str(s.id): dict.fromkeys(keys, value) for s in form.subjects},
        "texts": {first: dict(texts)} if texts else {},
    }


def cast_varied(session: Session, slips: dict[str, list[str]], seed: int = 14) -> None:
    """Cast every slip: each criterion of each head a value of the scale or 'no opinion'."""
    draw = random.Random(seed)  # noqa: S311 - reproducible test ballots, not a secret
    for unit_slips in slips.values():
        for token in unit_slips:
            form = casting.preview(session, token)
            choices = [0, *(o.value for o in form.questionnaire.scale.options)]
            keys = [c.key for c in form.questionnaire.criteria]
            ratings = {str(s.id): {k: draw.choice(choices) for k in keys} for s in form.subjects}
            casting.cast(session, token, {"ratings": ratings, "texts": {}})
