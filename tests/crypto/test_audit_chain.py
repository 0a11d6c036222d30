"""Tests for the audit log hash chain (crypto/audit_chain.py)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from crypto.audit_chain import (
    AUDIT_FORMAT,
    GENESIS_HASH,
    AuditRecord,
    canonical_json,
    entry_hash,
    entry_object,
    make_record,
    next_record,
    utc_timestamp,
    verify_chain,
)

START = datetime(2023, 5, 12, 8, 0, tzinfo=UTC)
ACTIONS = ["round.create", "lottery.draw", "tokens.batch", "round.open", "report.view"]

# Known answer for KAT_FIELDS, also computed independently (JSON.stringify over sorted
# keys, SHA-256) when the format was fixed. If this changes, every published head
# becomes unverifiable: change the format version instead.
KAT_HASH = "fd224306eecbfeab25988e710d56bb3226f8b464dc422d7212f61a15f8e24bef"
KAT_PAYLOAD: dict[str, object] = {
    "round_id": 1,
    "name": "Đợt lấy ý kiến 2023",
    "wards": 14,
    "schools": 15,
    "levels": ["kindergarten", "primary", "lower_secondary"],
    "note": None,
    "frozen": False,
}
KAT_FIELDS: dict[str, object] = {
    "seq": 1,
    "at": "2023-05-12T08:30:00.000000Z",
    "actor": "admin:ban-to-chuc",
    "action": "round.create",
    "payload": KAT_PAYLOAD,
    "prev_hash": GENESIS_HASH,
}


def build_chain(length: int = 50) -> list[AuditRecord]:
    """Return a valid chain of length entries with varied actors and Vietnamese text."""
    records: list[AuditRecord] = []
    previous: AuditRecord | None = None
    for index in range(length):
        previous = next_record(
            previous,
            at=utc_timestamp(START + timedelta(minutes=7 * index)),
            actor=f"admin:{index % 3}",
            action=ACTIONS[index % len(ACTIONS)],
            payload={
                "round_id": 1,
                "index": index,
                "unit": "Phường Bồ Đề" if index % 2 else "Trường THCS Ngọc Lâm",
                "tags": ["đợt 2023", index],
            },
        )
        records.append(previous)
    return records


def rehash_from(records: list[AuditRecord], start: int) -> list[AuditRecord]:
    """Recompute hashes and links from list index start onward, as a forger would."""
    out = list(records[:start])
    for record in records[start:]:
        prev_hash = out[-1].hash if out else GENESIS_HASH
        out.append(
            make_record(
                record.seq,
                record.at,
                record.actor,
                record.action,
                record.payload,
                prev_hash,
            )
        )
    return out


class TestCanonicalJson:
    """canonical_json gives one byte string per JSON value."""

    def test_key_order_does_not_matter(self) -> None:
        """Objects with the same members in any insertion order encode identically."""
        one = {"b": 1, "a": {"y": [1, 2], "x": "é"}, "c": None}
        two = {"c": None, "a": {"x": "é", "y": [1, 2]}, "b": 1}
        assert canonical_json(one) == canonical_json(two)

    def test_exact_bytes_have_no_whitespace_and_raw_utf8(self) -> None:
        """Output is compact, sorted and writes Vietnamese as UTF-8, not escapes."""
        value = {"z": [True, False, None, -7], "a": "Phường Gia Thụy", "m": {}}
        expected = '{"a":"Phường Gia Thụy","m":{},"z":[true,false,null,-7]}'
        assert canonical_json(value) == expected.encode("utf-8")

    def test_matches_standard_json_for_ordinary_values(self) -> None:
        """For BMP keys it equals json.dumps with sorted keys and no spaces."""
        value = {"Đề xuất": ["ưu điểm", 3], "b\n": {"k": '\x01\t"\\'}, "a": 0}
        standard = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert canonical_json(value) == standard.encode("utf-8")

    def test_control_characters_are_escaped_like_rfc_8785(self) -> None:
        """Only quote, backslash and U+0000-U+001F are escaped, in the short forms."""
        text = '\x00\x08\t\n\x0b\x0c\r\x1f\x7f\u2028"\\/'
        expected = '"\\u0000\\b\\t\\n\\u000b\\f\\r\\u001f\x7f\u2028\\"\\\\/"'
        assert canonical_json(text) == expected.encode("utf-8")

    def test_keys_sort_by_utf16_code_units(self) -> None:
        """A key beyond U+FFFF sorts before U+FF01, as RFC 8785 requires."""
        value = {"\uff01": 1, "\U0001f600": 2}
        assert canonical_json(value) == '{"\U0001f600":2,"\uff01":1}'.encode()

    def test_tuples_encode_as_arrays(self) -> None:
        """A tuple is written as a JSON array."""
        assert canonical_json({"a": (1, "b")}) == b'{"a":[1,"b"]}'

    @pytest.mark.parametrize("number", [1.5, 0.0, math.nan, math.inf, -math.inf])
    def test_rejects_floats_including_nan_and_infinity(self, number: float) -> None:
        """Floats have no single textual form, so none is accepted."""
        with pytest.raises(TypeError, match="floats are not allowed"):
            canonical_json({"x": [number]})

    @pytest.mark.parametrize("number", [2**53, -(2**53), 10**20])
    def test_rejects_integers_beyond_the_exact_double_range(self, number: int) -> None:
        """Integers outside ±(2**53-1) are refused; other readers would round them."""
        with pytest.raises(ValueError, match="outside"):
            canonical_json(number)

    def test_accepts_integers_at_the_edge_of_the_range(self) -> None:
        """±(2**53-1) are encoded as plain digits."""
        assert canonical_json([2**53 - 1, -(2**53 - 1)]) == (
            b"[9007199254740991,-9007199254740991]"
        )

    @pytest.mark.parametrize("value", [{1, 2}, b"bytes", object(), datetime.now(UTC)])
    def test_rejects_non_json_types(self, value: object) -> None:
        """Sets, bytes, datetimes and other objects are not JSON."""
        with pytest.raises(TypeError, match="not a JSON type"):
            canonical_json({"v": value})

    def test_rejects_non_string_keys(self) -> None:
        """An integer key is refused instead of silently becoming a string."""
        with pytest.raises(TypeError, match="keys must be strings"):
            canonical_json({1: "a"})

    def test_rejects_lone_surrogates(self) -> None:
        """A string that cannot be UTF-8 encoded is refused."""
        with pytest.raises(ValueError, match="surrogate"):
            canonical_json("\ud800")

    def test_vietnamese_text_round_trips(self) -> None:
        """Decoding the bytes gives back the same Vietnamese payload."""
        payload = {
            "ưu điểm": "Gương mẫu, gần gũi cán bộ",
            "hạn chế": ["Chưa sâu sát", "Chậm đổi mới"],
            "đề xuất": "Tăng cường đối thoại",
        }
        assert json.loads(canonical_json(payload).decode("utf-8")) == payload


class TestEntryHash:
    """entry_hash covers every field in a fixed, documented format."""

    def test_known_answer(self) -> None:
        """The committed entry hashes to the committed hex."""
        assert entry_hash(**KAT_FIELDS) == KAT_HASH  # type: ignore[arg-type]

    def test_is_sha256_of_canonical_entry_object(self) -> None:
        """The hash is SHA-256 over canonical_json of the object with all fields."""
        obj = entry_object(**KAT_FIELDS)  # type: ignore[arg-type]
        assert obj == {"format": AUDIT_FORMAT, **KAT_FIELDS}
        assert hashlib.sha256(canonical_json(obj)).hexdigest() == KAT_HASH

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("seq", 2),
            ("at", "2023-05-12T08:30:00.000001Z"),
            ("actor", "admin:ban-to-chuc2"),
            ("action", "round.open"),
            ("payload", {**KAT_PAYLOAD, "wards": 13}),
            ("prev_hash", "1" * 64),
        ],
    )
    def test_every_field_changes_the_hash(self, field: str, value: object) -> None:
        """Changing any single field changes the hash."""
        changed = {**KAT_FIELDS, field: value}
        assert entry_hash(**changed) != KAT_HASH  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "at",
        [
            "2023-05-12T15:30:00+07:00",
            "2023-05-12 08:30:00Z",
            "2023-05-12T08:30:00",
            "12/05/2023 08:30",
            "",
            "２０２３-05-12T08:30:00Z",
        ],
    )
    def test_rejects_times_that_are_not_iso_utc(self, at: str) -> None:
        """Only ISO-8601 timestamps in UTC with ASCII digits are accepted."""
        with pytest.raises(ValueError, match="ISO-8601 UTC"):
            entry_hash(**{**KAT_FIELDS, "at": at})  # type: ignore[arg-type]

    @pytest.mark.parametrize("at", ["2023-05-12T08:30:00Z", "2023-05-12T08:30:00+00:00"])
    def test_accepts_other_utc_spellings_as_written(self, at: str) -> None:
        """Other UTC spellings are accepted and hashed exactly as written."""
        assert entry_hash(**{**KAT_FIELDS, "at": at}) != KAT_HASH  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("field", "value", "error"),
        [
            ("seq", 0, ValueError),
            ("seq", True, TypeError),
            ("actor", "", ValueError),
            ("action", "", ValueError),
            ("prev_hash", "A" * 64, ValueError),
            ("prev_hash", "0" * 63, ValueError),
            ("payload", ["not", "an", "object"], TypeError),
        ],
    )
    def test_rejects_malformed_fields(
        self, field: str, value: object, error: type[Exception]
    ) -> None:
        """Out-of-range, empty or wrongly typed fields are refused."""
        with pytest.raises(error):
            entry_hash(**{**KAT_FIELDS, field: value})  # type: ignore[arg-type]


class TestUtcTimestamp:
    """utc_timestamp gives one fixed-width UTC spelling per instant."""

    def test_converts_local_time_to_utc(self) -> None:
        """A Hà Nội time (UTC+7) is written as the same instant in UTC."""
        hanoi = timezone(timedelta(hours=7))
        moment = datetime(2023, 5, 12, 15, 30, 0, 120, tzinfo=hanoi)
        assert utc_timestamp(moment) == "2023-05-12T08:30:00.000120Z"

    def test_rejects_naive_datetime(self) -> None:
        """A datetime without a zone is ambiguous and refused."""
        with pytest.raises(ValueError, match="timezone-aware"):
            utc_timestamp(datetime(2023, 5, 12, 8, 30))

    def test_output_is_accepted_by_entry_hash(self) -> None:
        """The formatted time is a valid entry time."""
        at = utc_timestamp(START)
        assert entry_hash(1, at, "a", "b", {}, GENESIS_HASH)


class TestRecords:
    """make_record and next_record build linked entries."""

    def test_first_record_links_to_genesis(self) -> None:
        """The first entry has seq 1 and prev_hash of 64 zeros."""
        first = next_record(None, at=utc_timestamp(START), actor="a", action="b", payload={})
        assert first.seq == 1
        assert first.prev_hash == GENESIS_HASH == "0" * 64
        assert first.hash == entry_hash(1, first.at, "a", "b", {}, GENESIS_HASH)

    def test_next_record_links_to_previous(self) -> None:
        """Each following entry takes the next seq and the previous hash."""
        first, second = build_chain(2)
        assert second.seq == 2
        assert second.prev_hash == first.hash

    def test_records_are_frozen(self) -> None:
        """An AuditRecord cannot be altered in place."""
        record = build_chain(1)[0]
        with pytest.raises(dataclasses.FrozenInstanceError):
            record.actor = "someone else"  # type: ignore[misc]


class TestVerifyChain:
    """verify_chain detects edits, deletions, reordering and truncation."""

    def test_intact_chain_of_fifty_verifies(self) -> None:
        """A freshly built chain of 50 entries verifies end to end."""
        chain = build_chain(50)
        verdict = verify_chain(chain)
        assert verdict.ok
        assert verdict.entries_checked == 50
        assert verdict.head == (50, chain[-1].hash)
        assert verdict.first_broken_seq is None
        assert verdict.reason is None

    def test_empty_chain_verifies_with_no_head(self) -> None:
        """No entries is a valid (empty) log."""
        verdict = verify_chain([])
        assert verdict.ok
        assert verdict.entries_checked == 0
        assert verdict.head is None

    def test_accepts_any_iterable_of_row_like_objects(self) -> None:
        """A generator of objects with the right attributes is verified like records."""

        class Row:
            """Stand-in for a database row with the audit columns."""

            def __init__(self, record: AuditRecord) -> None:
                """Copy the columns from a record."""
                self.seq = record.seq
                self.at = record.at
                self.actor = record.actor
                self.action = record.action
                self.payload: Mapping[str, object] = dict(record.payload)
                self.prev_hash = record.prev_hash
                self.hash = record.hash

        verdict = verify_chain(Row(record) for record in build_chain(10))
        assert verdict.ok
        assert verdict.entries_checked == 10

    @pytest.mark.parametrize("seq", [1, 2, 25, 49, 50])
    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("payload", {"round_id": 2}),
            ("actor", "admin:intruder"),
            ("at", "2023-05-13T00:00:00.000000Z"),
            ("action", "round.void"),
        ],
    )
    def test_editing_one_field_of_any_entry_names_that_entry(
        self, seq: int, field: str, value: object
    ) -> None:
        """An edited payload, actor, time or action is caught at the edited seq."""
        chain = build_chain(50)
        changes: dict[str, Any] = {field: value}
        chain[seq - 1] = dataclasses.replace(chain[seq - 1], **changes)
        verdict = verify_chain(chain)
        assert not verdict.ok
        assert verdict.first_broken_seq == seq
        assert verdict.entries_checked == seq - 1
        assert verdict.reason is not None
        assert f"entry {seq} was altered" in verdict.reason

    def test_editing_an_entry_and_its_own_hash_breaks_the_next_link(self) -> None:
        """Recomputing only the edited entry's hash is caught by the following entry."""
        chain = build_chain(50)
        edited = chain[19]
        chain[19] = make_record(
            edited.seq,
            edited.at,
            "admin:intruder",
            edited.action,
            edited.payload,
            edited.prev_hash,
        )
        verdict = verify_chain(chain)
        assert not verdict.ok
        assert verdict.first_broken_seq == 21
        assert verdict.reason is not None
        assert "does not link" in verdict.reason

    def test_deleting_a_middle_entry_is_detected(self) -> None:
        """Removing entry 25 leaves a gap that names seq 25."""
        chain = build_chain(50)
        del chain[24]
        verdict = verify_chain(chain)
        assert not verdict.ok
        assert verdict.first_broken_seq == 25
        assert verdict.reason is not None
        assert "found seq 26" in verdict.reason
        assert "deleted" in verdict.reason

    def test_deleting_and_renumbering_is_detected(self) -> None:
        """Closing the gap by renumbering later entries still breaks the hashes."""
        chain = build_chain(50)
        del chain[24]
        renumbered = [
            dataclasses.replace(record, seq=index + 1) for index, record in enumerate(chain)
        ]
        verdict = verify_chain(renumbered)
        assert not verdict.ok
        assert verdict.first_broken_seq == 25

    def test_swapping_two_entries_is_detected(self) -> None:
        """Two entries exchanged in order are caught at the first displaced seq."""
        chain = build_chain(50)
        chain[9], chain[30] = chain[30], chain[9]
        verdict = verify_chain(chain)
        assert not verdict.ok
        assert verdict.first_broken_seq == 10

    def test_swapping_contents_but_keeping_numbers_is_detected(self) -> None:
        """Exchanging two entries' contents while keeping seq order is caught."""
        chain = build_chain(50)
        a, b = chain[9], chain[10]
        chain[9] = dataclasses.replace(b, seq=10)
        chain[10] = dataclasses.replace(a, seq=11)
        verdict = verify_chain(chain)
        assert not verdict.ok
        assert verdict.first_broken_seq == 10

    def test_chain_must_start_at_one_from_genesis(self) -> None:
        """A chain starting at seq 2, or with a non-zero first link, is broken at 1."""
        chain = build_chain(5)
        assert verify_chain(chain[1:]).first_broken_seq == 1
        forged = [make_record(1, chain[0].at, "a", "b", {}, "f" * 64), *chain[1:]]
        verdict = verify_chain(forged)
        assert not verdict.ok
        assert verdict.first_broken_seq == 1

    def test_unhashable_entry_is_reported_not_raised(self) -> None:
        """A stored row that breaks the format gives a failing verdict, not an error."""
        chain = build_chain(5)
        chain[2] = dataclasses.replace(chain[2], payload={"score": 3.5})
        verdict = verify_chain(chain)
        assert not verdict.ok
        assert verdict.first_broken_seq == 3
        assert verdict.reason is not None
        assert "cannot be hashed" in verdict.reason

    def test_matching_expected_head_verifies(self) -> None:
        """The current head, or an earlier head still in the chain, is confirmed."""
        chain = build_chain(50)
        assert verify_chain(chain, expected_head=(50, chain[49].hash)).ok
        assert verify_chain(chain, expected_head=(30, chain[29].hash)).ok

    def test_truncation_passes_alone_but_fails_against_recorded_head(self) -> None:
        """Cutting off the newest entries is only visible against a written-down head."""
        chain = build_chain(50)
        recorded_head = (50, chain[49].hash)
        truncated = chain[:45]
        assert verify_chain(truncated).ok
        verdict = verify_chain(truncated, expected_head=recorded_head)
        assert not verdict.ok
        assert verdict.entries_checked == 45
        assert verdict.head == (45, chain[44].hash)
        assert verdict.first_broken_seq == 46
        assert verdict.reason is not None
        assert "cut off" in verdict.reason

    def test_rewritten_tail_is_caught_by_the_head(self) -> None:
        """A tail rewritten with recomputed hashes verifies alone but not against the head."""
        chain = build_chain(50)
        recorded_head = (50, chain[49].hash)
        forged = list(chain)
        forged[39] = dataclasses.replace(forged[39], payload={"round_id": 1, "index": -1})
        forged = rehash_from(forged, 39)
        assert verify_chain(forged).ok
        verdict = verify_chain(forged, expected_head=recorded_head)
        assert not verdict.ok
        assert verdict.first_broken_seq == 50
        assert verdict.reason is not None
        assert "rewritten" in verdict.reason

    def test_empty_chain_fails_against_a_recorded_head(self) -> None:
        """Deleting the whole log is caught by any recorded head."""
        verdict = verify_chain([], expected_head=(3, "a" * 64))
        assert not verdict.ok
        assert verdict.first_broken_seq == 1

    @pytest.mark.parametrize("head", [(0, "a" * 64), (1, "A" * 64), (1, "abc")])
    def test_malformed_expected_head_is_a_caller_error(self, head: tuple[int, str]) -> None:
        """A head that could never match is refused up front."""
        with pytest.raises(ValueError, match="expected head"):
            verify_chain(build_chain(2), expected_head=head)

    def test_vietnamese_payload_verifies_and_round_trips(self) -> None:
        """Entries with Vietnamese text verify and their payload decodes unchanged."""
        payload = {"ghi chú": "Ủy ban MTTQ phường Thượng Thanh chứng kiến bốc thăm"}
        record = next_record(
            None,
            at=utc_timestamp(START),
            actor="quan-sat-vien",
            action="lottery.draw",
            payload=payload,
        )
        assert verify_chain([record]).ok
        assert json.loads(canonical_json(record.payload)) == payload
