"""Token batches end to end: issue, print, scan back, spend once, void (invariant 2)."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from ballots import audit, participants, rounds, tokens, units
from ballots.errors import InvalidState, NotFound
from ballots.vocabulary import RoundStatus
from crypto.tokens import InvalidToken, normalize_token

BASE = "http://testserver"


@pytest.fixture
def round_id(db: Session, sample_data: Path) -> int:
    """A draft round in which Phường Bồ Đề (94 voters) takes part."""
    units.import_units(db, (sample_data / "long_bien_units.csv").read_bytes(), actor="test")
    round_ = rounds.create_round(
        db, title="Đợt 2023", year=2023, anonymity_threshold=5, actor="test"
    )
    participants.set_round_units(db, round_.id, [("PHUONG-BODE", None)], actor="test")
    return round_.id


def _scan(pdf: bytes) -> list[str]:
    """Render every page at 200 dpi and decode every QR code with a real decoder."""
    document = pdfium.PdfDocument(io.BytesIO(pdf))
    found: list[str] = []
    for page in document:
        image = page.render(scale=200 / 72).to_pil()
        found += [b.text for b in zxingcpp.read_barcodes(image)]
    return found


def _tokens_from_urls(urls: list[str]) -> list[str]:
    assert all(u.startswith("HTTP://TESTSERVER/V#") for u in urls)
    return [normalize_token(u.split("#", 1)[1]) for u in urls]


class TestIssueSlips:
    """Issuing a batch of slips."""

    def test_scanned_slips_are_exactly_the_batch_and_each_spends_once(
        self, db: Session, round_id: int
    ) -> None:
        """Every QR decodes to a distinct live token of the batch; each is accepted once."""
        issued = tokens.issue_slips(db, round_id, "PHUONG-BODE", 23, base_url=BASE, actor="test")
        scanned = _tokens_from_urls(_scan(issued.pdf))
        assert len(scanned) == len(set(scanned)) == 23
        for token in scanned:
            row = tokens.redeemable(db, token)
            assert row is not None
            assert row.batch_id == issued.batch.id
        assert [tokens.spend(db, t, b"sealed") for t in scanned] == [True] * 23
        assert [tokens.spend(db, t, b"sealed") for t in scanned] == [False] * 23

    def test_only_the_hash_is_stored(self, db: Session, round_id: int) -> None:
        """The tokens table has no column that could hold a plain token."""
        issued = tokens.issue_slips(db, round_id, "PHUONG-BODE", 3, base_url=BASE, actor="test")
        (token, *_) = _tokens_from_urls(_scan(issued.pdf))
        columns = {c["name"] for c in inspect(db.get_bind()).get_columns("tokens")}
        # receipt_sealed opens only with the plain token (crypto/receipts.py).
        assert columns == {
            "token_hash",
            "round_id",
            "unit_id",
            "batch_id",
            "used",
            "receipt_sealed",
        }
        stored = db.scalars(select(tokens.Token.token_hash)).all()
        assert all(len(h) == 32 for h in stored)
        assert token.encode() not in b"".join(stored)

    def test_more_slips_than_the_electorate_need_the_override(
        self, db: Session, round_id: int
    ) -> None:
        """95 slips for 94 voters are refused unless overridden, and the override is logged."""
        with pytest.raises(InvalidState, match="exceed the electorate"):
            tokens.issue_slips(db, round_id, "PHUONG-BODE", 95, base_url=BASE, actor="test")
        tokens.issue_slips(
            db, round_id, "PHUONG-BODE", 95, base_url=BASE, actor="test", override_electorate=True
        )
        (entry,) = [e for e in audit.entries(db) if e.action == "tokens.issued"]
        assert entry.payload["over_electorate_override"] is True
        (summary,) = tokens.token_summary(db, round_id)
        assert (summary.electorate, summary.live, summary.used) == (94, 95, 0)

    def test_unit_not_in_the_round_is_refused(self, db: Session, round_id: int) -> None:
        """Slips only for units taking part."""
        with pytest.raises(NotFound):
            tokens.issue_slips(db, round_id, "MN-BODE", 5, base_url=BASE, actor="test")

    def test_no_slips_for_a_closed_round(self, db: Session, round_id: int) -> None:
        """A closed round gets no new slips."""
        rounds.get_round(db, round_id).status = RoundStatus.CLOSED
        with pytest.raises(InvalidState, match="closed"):
            tokens.issue_slips(db, round_id, "PHUONG-BODE", 5, base_url=BASE, actor="test")


class TestVoidBatch:
    """Voiding a batch of lost slips."""

    def test_voided_batch_stops_unused_tokens_and_keeps_used_ones(
        self, db: Session, round_id: int
    ) -> None:
        """After voiding, unused slips fail to spend; a used one still counts in turnout."""
        issued = tokens.issue_slips(db, round_id, "PHUONG-BODE", 4, base_url=BASE, actor="test")
        first, *rest = _tokens_from_urls(_scan(issued.pdf))
        assert tokens.spend(db, first, b"sealed")
        tokens.void_batch(db, issued.batch.id, actor="test", reason="mất phiếu")
        assert [tokens.spend(db, t, b"sealed") for t in rest] == [False, False, False]
        (summary,) = tokens.token_summary(db, round_id)
        assert (summary.live, summary.used) == (1, 1)


class TestTypos:
    """A mistyped code is caught before the database."""

    def test_one_wrong_character_is_rejected_without_any_query(
        self, db: Session, round_id: int
    ) -> None:
        """The check character rejects a typo; not one SQL statement runs."""
        issued = tokens.issue_slips(db, round_id, "PHUONG-BODE", 1, base_url=BASE, actor="test")
        (token,) = _tokens_from_urls(_scan(issued.pdf))
        typo = token[:5] + ("0" if token[5] != "0" else "1") + token[6:]
        statements: list[str] = []
        engine = db.get_bind().engine

        def count(*args: object) -> None:
            statements.append(str(args[2]))

        event.listen(engine, "before_cursor_execute", count)
        try:
            with pytest.raises(InvalidToken):
                tokens.redeemable(db, normalize_token(typo))
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert statements == []
