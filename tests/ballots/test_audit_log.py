"""The hash-chained audit log on the real database: a whole round, then tampering."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ballots import audit, lifecycle, lottery, participants, rounds, tokens, units
from ballots.audit import AuditEntry
from ballots.vocabulary import UnitKind
from crypto.audit_chain import entry_hash

ACTOR = "bto.lan"
PHRASE = "3 5 1 6 2 4 – XSMB 24/11/2026"
ROUND_ACTIONS = [
    "units.imported",
    "round.created",
    "round.units_set",
    "lottery.drawn",
    "tokens.issued",
    "round.opened",
    "round.closed",
    "round.published",
]


@dataclass(frozen=True)
class PlayedRound:
    """A round taken from import to publication, and where its entries sit in the chain."""

    round_id: int
    first_seq: int
    published_head: tuple[int, str]

    def seq_of(self, action: str) -> int:
        """The sequence number of this round's entry for ``action``."""
        return self.first_seq + ROUND_ACTIONS.index(action)


@pytest.fixture
def played(db: Session, sample_data: Path) -> PlayedRound:
    """Every admin action of a round, in order, as one admin would do them."""
    before = audit.head(db)
    units.import_units(db, (sample_data / "long_bien_units.csv").read_bytes(), actor=ACTOR)
    round_ = rounds.create_round(
        db, title="Lấy ý kiến người đứng đầu 2023", year=2023, anonymity_threshold=5, actor=ACTOR
    )
    wards = [u.code for u in units.list_units(db) if u.kind is UnitKind.WARD]
    participants.set_round_units(db, round_.id, [(code, None) for code in wards], actor=ACTOR)
    lottery.draw_schools(db, round_.id, phrase=PHRASE, actor=ACTOR)
    tokens.issue_slips(db, round_.id, "PHUONG-BODE", 3, base_url="http://testserver", actor=ACTOR)
    lifecycle.open_round(db, round_.id, actor=ACTOR, key_holders=None)
    lifecycle.close_round(db, round_.id, actor=ACTOR)
    published = lifecycle.publish_round(db, round_.id, actor=ACTOR)
    return PlayedRound(
        round_id=round_.id,
        first_seq=(before[0] if before else 0) + 1,
        published_head=(published.head_seq, published.head_hash),
    )


def _entry(db: Session, seq: int) -> AuditEntry:
    found = db.get(AuditEntry, seq)
    assert found is not None
    return found


def _set(db: Session, seq: int, **values: Any) -> None:
    db.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(**values))
    db.expire_all()


class TestIntactChain:
    """A round's admin actions leave a complete, verifiable record."""

    def test_the_chain_verifies_up_to_the_published_head(
        self, db: Session, played: PlayedRound
    ) -> None:
        """The whole chain verifies and its head is the one given when the round was published."""
        verdict = audit.verify(db)
        assert verdict.ok, verdict.reason
        assert verdict.first_broken_seq is None
        assert verdict.head == played.published_head == audit.head(db)
        assert verdict.entries_checked == played.published_head[0]
        assert audit.verify(db, expected_head=played.published_head).ok

    def test_the_actions_are_exactly_what_was_done_in_order(
        self, db: Session, played: PlayedRound
    ) -> None:
        """One entry per admin action, in the order done, each naming the actor and round."""
        logged = audit.entries(db, after=played.first_seq - 1)
        assert [e.action for e in logged] == ROUND_ACTIONS
        assert [e.seq for e in logged] == list(
            range(played.first_seq, played.published_head[0] + 1)
        )
        assert {e.actor for e in logged} == {ACTOR}
        assert [e.payload.get("round_id") for e in logged[1:]] == [played.round_id] * 7

    def test_each_entry_links_to_the_hash_of_the_one_before(
        self, db: Session, played: PlayedRound
    ) -> None:
        """prev_hash of every entry after the first is the stored hash of its predecessor."""
        logged = audit.entries(db)
        assert all(b.prev_hash == a.hash for a, b in pairwise(logged))
        assert len({e.hash for e in logged}) == len(logged)

    def test_the_slips_entry_carries_counts_and_never_a_token(
        self, db: Session, played: PlayedRound
    ) -> None:
        """tokens.issued records exactly which batch, how many and against what electorate."""
        entry = _entry(db, played.seq_of("tokens.issued"))
        batch_id = db.scalar(
            select(tokens.TokenBatch.id).where(tokens.TokenBatch.round_id == played.round_id)
        )
        assert entry.payload == {
            "round_id": played.round_id,
            "unit": "PHUONG-BODE",
            "batch_id": batch_id,
            "count": 3,
            "live_before": 0,
            "electorate": 94,
            "over_electorate_override": False,
        }


class TestTampering:
    """Any edit of the stored log is found and the first broken entry is named."""

    @pytest.mark.parametrize("column", ["payload", "actor", "action", "at"])
    def test_editing_one_column_of_one_entry_names_that_entry(
        self, db: Session, played: PlayedRound, column: str
    ) -> None:
        """A raw UPDATE of payload, actor, action or time of one entry breaks that entry."""
        seq = played.seq_of("tokens.issued")
        entry = _entry(db, seq)
        forged: dict[str, object] = {
            "payload": {**entry.payload, "count": 30},
            "actor": "someone.else",
            "action": "tokens.voided",
            "at": "2020" + entry.at[4:],
        }
        _set(db, seq, **{column: forged[column]})
        verdict = audit.verify(db)
        assert not verdict.ok
        assert verdict.first_broken_seq == seq
        assert verdict.entries_checked == seq - 1
        assert f"entry {seq} was altered" in (verdict.reason or "")

    def test_rehashing_an_edited_entry_breaks_the_link_of_the_next(
        self, db: Session, played: PlayedRound
    ) -> None:
        """An editor who also recomputes the entry's hash is caught at the following entry."""
        seq = played.seq_of("tokens.issued")
        entry = _entry(db, seq)
        payload = {**entry.payload, "count": 30}
        new_hash = entry_hash(seq, entry.at, entry.actor, entry.action, payload, entry.prev_hash)
        _set(db, seq, payload=payload, hash=new_hash)
        verdict = audit.verify(db)
        assert not verdict.ok
        assert verdict.first_broken_seq == seq + 1
        assert "does not link" in (verdict.reason or "")

    def test_rewriting_the_whole_tail_is_caught_only_by_the_written_head(
        self, db: Session, played: PlayedRound
    ) -> None:
        """Recomputing every later hash fools a plain verify, but not the head on the minutes."""
        start = played.seq_of("tokens.issued")
        prev_hash = _entry(db, start).prev_hash
        for seq in range(start, played.published_head[0] + 1):
            entry = _entry(db, seq)
            payload = {**entry.payload, "count": 30} if seq == start else dict(entry.payload)
            new_hash = entry_hash(seq, entry.at, entry.actor, entry.action, payload, prev_hash)
            _set(db, seq, payload=payload, prev_hash=prev_hash, hash=new_hash)
            prev_hash = new_hash
        assert audit.verify(db).ok
        verdict = audit.verify(db, expected_head=played.published_head)
        assert not verdict.ok
        assert verdict.first_broken_seq == played.published_head[0]
        assert "rewritten" in (verdict.reason or "")

    def test_deleting_a_middle_entry_names_the_missing_number(
        self, db: Session, played: PlayedRound
    ) -> None:
        """Removing the lottery entry leaves a gap that verify reports at its number."""
        seq = played.seq_of("lottery.drawn")
        db.execute(delete(AuditEntry).where(AuditEntry.seq == seq))
        db.expire_all()
        verdict = audit.verify(db)
        assert not verdict.ok
        assert verdict.first_broken_seq == seq
        assert verdict.entries_checked == seq - 1
        assert "deleted" in (verdict.reason or "")

    @pytest.mark.parametrize(
        "columns",
        [("at", "actor", "action", "payload"), ("at", "actor", "action", "payload", "prev_hash")],
        ids=["contents", "contents-and-links"],
    )
    def test_swapping_two_entries_keeping_their_numbers_is_found(
        self, db: Session, played: PlayedRound, columns: tuple[str, ...]
    ) -> None:
        """Exchanging two entries (with their hashes) under the same seqs breaks the earlier one."""
        first, second = played.seq_of("round.created"), played.seq_of("tokens.issued")
        a, b = _entry(db, first), _entry(db, second)
        a_values = {c: getattr(a, c) for c in (*columns, "hash")}
        b_values = {c: getattr(b, c) for c in (*columns, "hash")}
        # Through a placeholder hash: the column is unique, and PostgreSQL checks per row.
        _set(db, first, hash="f" * 64)
        _set(db, second, **a_values)
        _set(db, first, **b_values)
        swapped = list(ROUND_ACTIONS)
        swapped[1], swapped[4] = swapped[4], swapped[1]
        logged = audit.entries(db, after=played.first_seq - 1)
        assert [e.action for e in logged] == swapped
        verdict = audit.verify(db)
        assert not verdict.ok
        assert verdict.first_broken_seq == first
        assert verdict.entries_checked == first - 1

    def test_cutting_off_the_newest_entries_fails_against_the_written_head(
        self, db: Session, played: PlayedRound
    ) -> None:
        """A truncated chain is self-consistent, but the head recorded earlier is missing."""
        head_seq = played.published_head[0]
        db.execute(delete(AuditEntry).where(AuditEntry.seq > head_seq - 2))
        db.expire_all()
        plain = audit.verify(db)
        assert plain.ok
        assert plain.entries_checked == head_seq - 2
        against_head = audit.verify(db, expected_head=played.published_head)
        assert not against_head.ok
        assert against_head.first_broken_seq == head_seq - 1
        assert "cut off" in (against_head.reason or "")


class TestParseHead:
    """Reading the head written on the minutes."""

    def test_a_head_reads_back_as_seq_and_hash(self, db: Session, played: PlayedRound) -> None:
        """'SEQ:HASH' as printed (even in upper case) gives the head verify expects."""
        seq, digest = played.published_head
        assert audit.parse_head(f" {seq}:{digest.upper()} ") == (seq, digest)
        assert audit.verify(db, expected_head=audit.parse_head(f"{seq}:{digest}")).ok


class TestSearch:
    """The audit page's filters: by action and by round, newest first, in pages."""

    def test_filters_by_action_round_and_page(self, db: Session) -> None:
        """Round 1's entries only, one action only, and entries below a seq."""
        for round_id, action in ((1, "round.opened"), (2, "round.opened"), (1, "round.closed")):
            audit.record(db, actor="test", action=action, payload={"round_id": round_id})
        audit.record(db, actor="test", action="user.created", payload={"username": "x"})
        mine = audit.search(db, round_id=1)
        assert [e.action for e in mine] == ["round.closed", "round.opened"]
        assert [e.payload["round_id"] for e in audit.search(db, action="round.opened")] == [2, 1]
        newest = audit.search(db, limit=2)
        assert len(newest) == 2
        older = audit.search(db, before=newest[-1].seq, limit=100)
        assert all(e.seq < newest[-1].seq for e in older)
        assert {"round.opened", "round.closed", "user.created"} <= set(audit.actions(db))
