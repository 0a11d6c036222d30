"""Hash chain for the admin audit log, format ``phieukin-audit-v1``.

Every admin action becomes one entry whose hash covers its own fields and the hash of
the entry before it, so an observer holding the log (and a head written down on paper)
can detect any edit, deletion, reordering or truncation. The format is specified in
docs/AUDIT_LOG.md so it can be checked without this code.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

AUDIT_FORMAT = "phieukin-audit-v1"

# The "previous hash" of entry 1: 64 zeros, a value no real SHA-256 will produce
# in practice, so the start of the chain is explicit rather than missing.
GENESIS_HASH = "0" * 64

# Integers are limited to the range a JavaScript or JSON-in-double reader keeps
# exactly (I-JSON, RFC 7493), so every verifier parses the same numbers.
MAX_SAFE_INTEGER = 2**53 - 1

# ISO-8601 in UTC only, with an explicit zone: a local time would make the hashed
# text depend on the server's clock settings. ASCII digits only ([0-9], not \d,
# which in Python also matches other scripts' digits).
_UTC_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|\+00:00)"
)
_HASH = re.compile(r"[0-9a-f]{64}")


class AuditRecordLike(Protocol):
    """Read-only shape of a stored entry; ORM rows with these attributes fit it."""

    @property
    def seq(self) -> int:
        """Position in the chain, from 1."""

    @property
    def at(self) -> str:
        """The time as hashed."""

    @property
    def actor(self) -> str:
        """Who acted."""

    @property
    def action(self) -> str:
        """What was done."""

    @property
    def payload(self) -> Mapping[str, object]:
        """The action's details."""

    @property
    def prev_hash(self) -> str:
        """The hash of the entry before."""

    @property
    def hash(self) -> str:
        """This entry's hash."""


@dataclass(frozen=True)
class AuditRecord:
    """One audit log entry with its link to the previous entry and its own hash."""

    seq: int
    at: str
    actor: str
    action: str
    payload: Mapping[str, object]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainVerdict:
    """Outcome of verify_chain; on failure, where and why the chain broke."""

    ok: bool
    entries_checked: int
    head: tuple[int, str] | None
    first_broken_seq: int | None
    reason: str | None


def _encode(value: object, out: list[str]) -> None:
    # bool before int: in Python True is an int and would otherwise print as 1.
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise ValueError(f"integer {value} is outside ±(2**53-1) and cannot be encoded exactly")
        out.append(str(int(value)))
    elif isinstance(value, float):
        # Floats have several textual forms across languages (and NaN/Infinity
        # none in JSON); payloads carry integers or strings instead.
        raise TypeError(f"floats are not allowed in audit payloads, got {value!r}")
    elif isinstance(value, str):
        out.append(_encode_string(value))
    elif isinstance(value, Mapping):
        items: list[tuple[str, object]] = []
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"object keys must be strings, got {key!r}")
            items.append((key, item))
        # RFC 8785 orders keys by their UTF-16 code units; comparing UTF-16-BE
        # bytes does exactly that (it differs from code point order only for
        # characters beyond U+FFFF).
        items.sort(key=lambda pair: pair[0].encode("utf-16-be", "surrogatepass"))
        out.append("{")
        for index, (key, item) in enumerate(items):
            if index:
                out.append(",")
            out.append(_encode_string(key))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"{type(value).__name__} is not a JSON type: {value!r}")


def _encode_string(text: str) -> str:
    # A lone surrogate has no UTF-8 form; refuse it instead of guessing.
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        raise ValueError(f"string {text!r} contains a lone surrogate")
    # With ensure_ascii=False, json.dumps escapes exactly '"', '\\' and U+0000-U+001F
    # (as \b \t \n \f \r or lowercase \u00xx), the same rule as RFC 8785.
    return json.dumps(text, ensure_ascii=False)


def canonical_json(value: object) -> bytes:
    """Return the canonical UTF-8 JSON bytes of value (sorted keys, no spaces)."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out).encode("utf-8")


def utc_timestamp(moment: datetime) -> str:
    """Format an aware datetime as the entry time, e.g. 2023-05-12T08:30:00.000000Z."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("audit times must be timezone-aware datetimes")
    utc = moment.astimezone(UTC)
    # Fixed width (always microseconds, always Z) so one instant has one spelling.
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond:06d}Z"


def entry_object(
    seq: int,
    at: str,
    actor: str,
    action: str,
    payload: Mapping[str, object],
    prev_hash: str,
) -> dict[str, object]:
    """Validate the fields and return the object whose canonical JSON is hashed."""
    if isinstance(seq, bool) or not isinstance(seq, int):
        raise TypeError(f"seq must be an int, got {type(seq).__name__}")
    if not 1 <= seq <= MAX_SAFE_INTEGER:
        raise ValueError(f"seq must be between 1 and 2**53-1, got {seq}")
    if not isinstance(at, str) or not _UTC_TIMESTAMP.fullmatch(at):
        raise ValueError(f"at must be an ISO-8601 UTC timestamp string, got {at!r}")
    for name, text in (("actor", actor), ("action", action)):
        if not isinstance(text, str) or not text:
            raise ValueError(f"{name} must be a non-empty string, got {text!r}")
    if not isinstance(payload, Mapping):
        raise TypeError(f"payload must be a JSON object, got {type(payload).__name__}")
    if not isinstance(prev_hash, str) or not _HASH.fullmatch(prev_hash):
        raise ValueError(f"prev_hash must be 64 lowercase hex characters, got {prev_hash!r}")
    return {
        "format": AUDIT_FORMAT,
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "payload": payload,
        "prev_hash": prev_hash,
    }


def entry_hash(
    seq: int,
    at: str,
    actor: str,
    action: str,
    payload: Mapping[str, object],
    prev_hash: str,
) -> str:
    """Return the lowercase hex SHA-256 of the entry's canonical JSON."""
    obj = entry_object(seq, at, actor, action, payload, prev_hash)
    return hashlib.sha256(canonical_json(obj)).hexdigest()


def make_record(
    seq: int,
    at: str,
    actor: str,
    action: str,
    payload: Mapping[str, object],
    prev_hash: str,
) -> AuditRecord:
    """Build an AuditRecord with its hash computed from the given fields."""
    digest = entry_hash(seq, at, actor, action, payload, prev_hash)
    return AuditRecord(seq, at, actor, action, payload, prev_hash, digest)


def next_record(
    previous: AuditRecordLike | None,
    *,
    at: str,
    actor: str,
    action: str,
    payload: Mapping[str, object],
) -> AuditRecord:
    """Build the entry that follows previous (or the first entry when None)."""
    if previous is None:
        return make_record(1, at, actor, action, payload, GENESIS_HASH)
    return make_record(previous.seq + 1, at, actor, action, payload, previous.hash)


def _broken(checked: int, head: tuple[int, str] | None, seq: int, reason: str) -> ChainVerdict:
    return ChainVerdict(
        ok=False,
        entries_checked=checked,
        head=head,
        first_broken_seq=seq,
        reason=reason,
    )


def verify_chain(
    records: Iterable[AuditRecordLike],
    *,
    expected_head: tuple[int, str] | None = None,
) -> ChainVerdict:
    """Check numbering, links and hashes in order, then the recorded head if given."""
    if expected_head is not None:
        head_seq, head_hash = expected_head
        if isinstance(head_seq, bool) or not isinstance(head_seq, int) or head_seq < 1:
            raise ValueError(f"expected head seq must be an int >= 1, got {head_seq!r}")
        if not isinstance(head_hash, str) or not _HASH.fullmatch(head_hash):
            raise ValueError(f"expected head hash must be 64 lowercase hex, got {head_hash!r}")

    checked = 0
    head: tuple[int, str] | None = None
    prev_hash = GENESIS_HASH
    hash_at_head: str | None = None

    for index, record in enumerate(records):
        expected_seq = index + 1
        seq = record.seq
        if seq != expected_seq:
            # Numbering is dense from 1, so any gap or step back means an entry was
            # deleted, inserted or moved; report the first number that is not there.
            return _broken(
                checked,
                head,
                expected_seq,
                f"expected entry {expected_seq} but found seq {seq!r}: "
                "an entry was deleted, inserted or moved",
            )
        if record.prev_hash != prev_hash:
            return _broken(
                checked,
                head,
                seq,
                f"entry {seq} does not link to the hash of entry {seq - 1}: "
                "an earlier entry was replaced or this entry was moved",
            )
        try:
            recomputed = entry_hash(
                seq,
                record.at,
                record.actor,
                record.action,
                record.payload,
                record.prev_hash,
            )
        except (TypeError, ValueError) as exc:
            return _broken(checked, head, seq, f"entry {seq} cannot be hashed: {exc}")
        if recomputed != record.hash:
            return _broken(
                checked,
                head,
                seq,
                f"entry {seq} was altered: its content does not match its stored hash",
            )
        prev_hash = record.hash
        head = (seq, record.hash)
        checked += 1
        if expected_head is not None and seq == expected_head[0]:
            hash_at_head = record.hash

    if expected_head is not None:
        head_seq, head_hash = expected_head
        if hash_at_head is None:
            last = head[0] if head is not None else 0
            return _broken(
                checked,
                head,
                last + 1,
                f"the chain ends at entry {last} but entry {head_seq} was recorded "
                "as the head earlier: the newest entries were cut off",
            )
        if hash_at_head != head_hash:
            return _broken(
                checked,
                head,
                head_seq,
                f"entry {head_seq} has hash {hash_at_head} but the recorded head says "
                f"{head_hash}: the chain was rewritten at or before entry {head_seq}",
            )

    return ChainVerdict(
        ok=True,
        entries_checked=checked,
        head=head,
        first_broken_seq=None,
        reason=None,
    )
