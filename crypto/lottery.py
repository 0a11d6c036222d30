"""Verifiable stratified school lottery (bốc thăm), version ``phieukin-lottery-v1``.

The draw is a pure function of published inputs: the pool of schools, the round id,
the phrase read out at the meeting and the number of schools wanted per level. Anyone
can re-run it from docs/LOTTERY.md alone; nothing here may depend on Python specifics
that the document does not spell out byte by byte.

Pipeline: ``pool_digest(pool)`` -> ``derive_seed(round_id, digest, phrase)`` ->
``draw(pool, counts, seed)``.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

ALGORITHM_VERSION = "phieukin-lottery-v1"

# The order of levels is part of the spec: it fixes the canonical pool order, the
# order of lines hashed into the pool digest and the order of levels in results.
LEVELS: tuple[str, ...] = ("kindergarten", "primary", "lower_secondary")

# The 2023 plan drew 15 schools: five per level. Read-only so no caller can change
# the default for everyone else.
DEFAULT_COUNTS: Mapping[str, int] = MappingProxyType(
    {"kindergarten": 5, "primary": 5, "lower_secondary": 5}
)

# Whitespace for phrase normalisation, listed explicitly rather than taken from the
# runtime so every language (and every Unicode version) collapses the same set.
# It is exactly what Python 3.11's str.split() treats as whitespace.
PHRASE_WHITESPACE: frozenset[str] = frozenset(
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)

_LEVEL_INDEX = {level: index for index, level in enumerate(LEVELS)}
_HEX_DIGITS = frozenset("0123456789abcdef")
_MAX_ROUND_ID = 2**64 - 1


@dataclass(frozen=True)
class PoolSchool:
    """One school in the lottery pool: its published code and its level."""

    code: str
    level: str


@dataclass(frozen=True)
class LotteryResult:
    """Everything needed to check a draw: inputs' fingerprints and the chosen codes."""

    algorithm_version: str
    seed: str
    pool_digest: str
    counts: dict[str, int]
    chosen: dict[str, tuple[str, ...]]

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict: levels in LEVELS order, codes in draw order."""
        return {
            "algorithm_version": self.algorithm_version,
            "seed": self.seed,
            "pool_digest": self.pool_digest,
            "counts": {level: self.counts[level] for level in LEVELS},
            "chosen": {level: list(self.chosen[level]) for level in LEVELS},
        }


def _check_code(code: object) -> str:
    # Codes end up in a tab/newline separated encoding, so they must not contain
    # whitespace or control characters; NFC is required so that two visually
    # identical codes cannot hash differently. The rule uses fixed code point sets,
    # not the runtime's Unicode tables, so every implementation agrees on it.
    if not isinstance(code, str) or not code:
        raise ValueError(f"school code must be a non-empty string, got {code!r}")
    for ch in code:
        if ord(ch) <= 0x20 or 0x7F <= ord(ch) <= 0x9F or ch in PHRASE_WHITESPACE:
            raise ValueError(f"school code {code!r} contains whitespace or a control character")
    if unicodedata.normalize("NFC", code) != code:
        raise ValueError(f"school code {code!r} is not in Unicode NFC form")
    return code


def canonical_pool(pool: Iterable[PoolSchool]) -> tuple[PoolSchool, ...]:
    """Validate the pool and return it sorted by (level order, UTF-8 bytes of code)."""
    schools = list(pool)
    seen: set[str] = set()
    for school in schools:
        if school.level not in _LEVEL_INDEX:
            raise ValueError(
                f"school {school.code!r} has unknown level {school.level!r}; "
                f"expected one of {', '.join(LEVELS)}"
            )
        _check_code(school.code)
        # A code names one school across the whole pool, whatever its level, so a
        # school cannot be entered twice (even under two levels) to double its odds.
        if school.code in seen:
            raise ValueError(f"duplicate school code {school.code!r} in pool")
        seen.add(school.code)
    # UTF-8 byte order equals code point order, which is what Python compares;
    # sorting on the bytes states the rule the way other languages can copy.
    return tuple(sorted(schools, key=lambda s: (_LEVEL_INDEX[s.level], s.code.encode("utf-8"))))


def pool_encoding(pool: Iterable[PoolSchool]) -> bytes:
    """Return the bytes pool_digest hashes: UTF-8 lines "level TAB code LF"."""
    return b"".join(f"{school.level}\t{school.code}\n".encode() for school in canonical_pool(pool))


def pool_digest(pool: Iterable[PoolSchool]) -> str:
    """Return the lowercase hex SHA-256 of the canonical pool encoding."""
    return hashlib.sha256(pool_encoding(pool)).hexdigest()


def normalize_phrase(phrase: str) -> str:
    """Return the phrase in NFC with ends trimmed and whitespace runs made one space."""
    if not isinstance(phrase, str):
        raise TypeError(f"phrase must be a string, got {type(phrase).__name__}")
    # NFC first: typed Vietnamese arrives both precomposed and with combining marks,
    # and the committee must get one seed whichever keyboard was used.
    text = unicodedata.normalize("NFC", phrase)
    words: list[str] = []
    current: list[str] = []
    for ch in text:
        if ch in PHRASE_WHITESPACE:
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(ch)
    if current:
        words.append("".join(current))
    normalized = " ".join(words)
    if not normalized:
        raise ValueError("phrase is empty after normalisation")
    return normalized


def _hex32(value: str, what: str) -> bytes:
    # Only lowercase is accepted so that one digest has exactly one printed form.
    if not isinstance(value, str) or len(value) != 64 or not set(value) <= _HEX_DIGITS:
        raise ValueError(f"{what} must be 64 lowercase hex characters, got {value!r}")
    return bytes.fromhex(value)


def _field(data: bytes) -> bytes:
    # A 4-byte length in front of each field makes the concatenation unambiguous.
    return len(data).to_bytes(4, "big") + data


def seed_material(round_id: int, pool_digest_hex: str, phrase: str) -> bytes:
    """Return the exact bytes whose SHA-256 is the seed (for audits and vectors)."""
    if isinstance(round_id, bool) or not isinstance(round_id, int):
        raise TypeError(f"round_id must be an int, got {type(round_id).__name__}")
    if not 0 <= round_id <= _MAX_ROUND_ID:
        raise ValueError(f"round_id must be in 0..2**64-1, got {round_id}")
    digest = _hex32(pool_digest_hex, "pool digest")
    return b"".join(
        [
            _field(ALGORITHM_VERSION.encode("ascii")),
            _field(round_id.to_bytes(8, "big")),
            _field(digest),
            _field(normalize_phrase(phrase).encode("utf-8")),
        ]
    )


def derive_seed(round_id: int, pool_digest_hex: str, phrase: str) -> str:
    """Return the hex SHA-256 of seed_material: the seed, fixed before the draw."""
    return hashlib.sha256(seed_material(round_id, pool_digest_hex, phrase)).hexdigest()


class DrawStream:
    """Byte stream of blocks SHA-256(seed || label || uint64_be(i)), i = 0, 1, ..."""

    def __init__(self, seed_hex: str, label: str) -> None:
        """Start the stream for one label (a level name) at block 0, byte 0."""
        self._prefix = _hex32(seed_hex, "seed") + label.encode("utf-8")
        self._counter = 0
        self._buffer = b""

    def take(self, k: int) -> bytes:
        """Return the next k bytes of the stream; reads may span block boundaries."""
        if k < 0:
            raise ValueError(f"cannot take {k} bytes")
        while len(self._buffer) < k:
            block = hashlib.sha256(self._prefix + self._counter.to_bytes(8, "big")).digest()
            self._buffer += block
            self._counter += 1
        out, self._buffer = self._buffer[:k], self._buffer[k:]
        return out

    def uniform_below(self, n: int) -> int:
        """Return an integer uniform in [0, n) by masked rejection sampling."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"uniform_below needs an integer n >= 1, got {n!r}")
        if n == 1:
            # Only one answer is possible, so the spec consumes no bytes.
            return 0
        bits = (n - 1).bit_length()
        width = (bits + 7) // 8
        mask = (1 << bits) - 1
        # Masking to the bit length of n-1 keeps the rejection chance below 1/2;
        # rejecting (instead of reducing mod n) keeps every value equally likely.
        while True:
            candidate = int.from_bytes(self.take(width), "big") & mask
            if candidate < n:
                return candidate


def shuffle(items: Iterable[str], stream: DrawStream) -> tuple[str, ...]:
    """Return a Fisher-Yates shuffle of items, from the last index down to 1."""
    order = list(items)
    for i in range(len(order) - 1, 0, -1):
        j = stream.uniform_below(i + 1)
        order[i], order[j] = order[j], order[i]
    return tuple(order)


def level_order(pool: Iterable[PoolSchool], level: str, seed_hex: str) -> tuple[str, ...]:
    """Return every code of one level in shuffled order; the draw takes a prefix."""
    if level not in _LEVEL_INDEX:
        raise ValueError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    codes = [school.code for school in canonical_pool(pool) if school.level == level]
    # One stream per level, labelled by its name, so the shuffle of one level does
    # not depend on how many schools the other levels have or how many are drawn.
    return shuffle(codes, DrawStream(seed_hex, level))


def draw(pool: Iterable[PoolSchool], counts: Mapping[str, int], seed_hex: str) -> LotteryResult:
    """Draw counts[level] schools per level from the pool with the given seed."""
    schools = canonical_pool(pool)
    _hex32(seed_hex, "seed")
    unknown = sorted(set(counts) - set(LEVELS))
    if unknown:
        raise ValueError(
            f"unknown level(s) in counts: {', '.join(map(repr, unknown))}; "
            f"expected {', '.join(LEVELS)}"
        )
    available = {level: sum(1 for school in schools if school.level == level) for level in LEVELS}
    full_counts: dict[str, int] = {}
    for level in LEVELS:
        # A level left out of counts is drawn zero times, and the result says so.
        wanted = counts.get(level, 0)
        if isinstance(wanted, bool) or not isinstance(wanted, int):
            raise TypeError(f"count for {level} must be an integer, got {wanted!r}")
        if wanted < 0:
            raise ValueError(f"count for {level} must be >= 0, got {wanted}")
        if wanted > available[level]:
            raise ValueError(
                f"count for {level} is {wanted} but the pool has only "
                f"{available[level]} {level} school(s)"
            )
        full_counts[level] = wanted
    chosen = {
        level: level_order(schools, level, seed_hex)[: full_counts[level]] for level in LEVELS
    }
    return LotteryResult(
        algorithm_version=ALGORITHM_VERSION,
        seed=seed_hex,
        pool_digest=pool_digest(schools),
        counts=full_counts,
        chosen=chosen,
    )
