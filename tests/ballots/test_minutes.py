"""The round's minutes: counts per unit, voided batches, lottery proof, audit heads, PDF."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy.orm import Session

from app.web.minutes_pdf import render_minutes_pdf
from ballots import audit, casting, lifecycle, minutes, rounds, tokens
from tests.ballot_helpers import answers_for, open_round_with_slips


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _closed_round(db: Session, shared: Path) -> int:
    """Two wards: 3 ballots at Bồ Đề, a second Bồ Đề batch voided, 1 ballot at Long Biên."""
    round_id, slips = open_round_with_slips(db, shared, {"PHUONG-BODE": 6, "PHUONG-LONGBIEN": 4})
    for code, n in (("PHUONG-BODE", 3), ("PHUONG-LONGBIEN", 1)):
        form = casting.preview(db, slips[code][0])
        for token in slips[code][:n]:
            casting.cast(db, token, answers_for(form))
    extra = tokens.issue_tokens(
        db, round_id, "PHUONG-BODE", 2, actor="test", override_electorate=True
    )
    tokens.void_batch(db, extra.batch.id, actor="test", reason="Rơi mất ở hội trường")
    lifecycle.close_round(db, round_id, actor="test")
    return round_id


class TestGather:
    """What the minutes count."""

    def test_counts_per_unit_and_totals(self, db: Session, sample_data: Path) -> None:
        """Issued, used, voided, unused and ballots per unit add up to the totals."""
        m = minutes.gather(db, _closed_round(db, sample_data))
        by_code = {u.code: u for u in m.units}
        bode, longbien = by_code["PHUONG-BODE"], by_code["PHUONG-LONGBIEN"]
        assert (bode.issued, bode.used, bode.voided, bode.unused, bode.ballots) == (8, 3, 2, 3, 3)
        assert (longbien.issued, longbien.used, longbien.voided, longbien.ballots) == (4, 1, 0, 1)
        assert m.totals["issued"] == 12
        assert m.totals["ballots"] == m.ballots_counted == 4
        assert m.totals["receipts"] == 4
        assert m.closed

    def test_voided_batches_keep_their_reason(self, db: Session, sample_data: Path) -> None:
        """A voided batch is listed with its unit, unused slips and why."""
        m = minutes.gather(db, _closed_round(db, sample_data))
        [batch] = m.voided_batches
        assert (batch.unit_code, batch.size, batch.unused) == ("PHUONG-BODE", 2, 2)
        assert batch.reason == "Rơi mất ở hội trường"

    def test_heads_are_those_written_at_open_and_close(
        self, db: Session, sample_data: Path
    ) -> None:
        """The open and close heads are the audit entries of those steps, and verify."""
        round_id = _closed_round(db, sample_data)
        m = minutes.gather(db, round_id)
        opened, closed = m.heads["round.opened"], m.heads["round.closed"]
        assert opened.seq < closed.seq
        assert "round.published" not in m.heads
        for head in (opened, closed):
            assert audit.verify(db, audit.parse_head(head.written)).ok
        assert closed.payload["round_id"] == round_id

    def test_a_draft_has_no_heads_and_no_count(self, db: Session, sample_data: Path) -> None:
        """Minutes of a draft say nothing was opened and no ballot was counted."""
        round_id, _ = open_round_with_slips(db, sample_data, {"PHUONG-BODE": 2})
        other = rounds.create_round(
            db, title="Đợt nháp", year=2025, anonymity_threshold=5, actor="test"
        )
        m = minutes.gather(db, other.id)
        assert m.heads == {}
        assert m.ballots_counted is None
        assert not m.closed
        assert minutes.gather(db, round_id).heads.keys() == {"round.opened"}


class TestMinutesPdf:
    """The PDF to print and sign."""

    def test_pdf_says_the_counts_heads_and_signatures(self, db: Session, sample_data: Path) -> None:
        """Vietnamese text, every unit's row, both heads, the receipts digest, places to sign."""
        round_id = _closed_round(db, sample_data)
        m = minutes.gather(db, round_id)
        text = _pdf_text(render_minutes_pdf(m))
        assert "BIÊN BẢN ĐỢT LẤY Ý KIẾN GÓP Ý BẰNG PHIẾU KÍN" in text
        assert "Phường Bồ Đề" in text
        assert "PHUONG-LONGBIEN" in text
        assert m.heads["round.opened"].written in text
        assert m.heads["round.closed"].written in text
        assert m.receipts_sha256 is not None
        assert m.receipts_sha256 in text
        assert "Rơi mất ở hội trường" in text
        assert "ĐẠI DIỆN BAN THƯỜNG VỤ QUẬN ỦY" in text
        assert "ĐẠI DIỆN GIÁM SÁT" in text
        assert "Đợt chưa đóng" not in text

    def test_open_round_is_marked_not_final(self, db: Session, sample_data: Path) -> None:
        """While voting runs, the minutes warn that the counts are not final."""
        round_id, _ = open_round_with_slips(db, sample_data, {"PHUONG-BODE": 2})
        text = _pdf_text(render_minutes_pdf(minutes.gather(db, round_id)))
        assert "Đợt chưa đóng" in text
        assert "Đóng bỏ phiếu: chưa thực hiện." in text
        assert "không bốc thăm" in text
