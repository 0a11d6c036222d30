"""A key holder's share: its text (file, QR code, typed form) and its commitment.

A share is written on one line, the same in the share file, in the QR code and on the
sheet::

    PHIEUKIN KHOA R12 S3/5 K3 0A1B2 C3D4E ... (13 groups)

R is the round, S the share number out of the n handed out, K how many are needed. The
share's 256-bit value follows as 52 symbols of the slips' base32 alphabet in 13 groups of
four, each group closed by a Luhn mod 32 check symbol (:func:`crypto.tokens.check_symbol`)
computed over the group's position and its four symbols: a mistyped symbol is caught in
its group, and two groups typed in the wrong order are caught too. Letters and digits,
spaces and '/' only, so the QR code uses its compact alphanumeric mode.

The commitment stored at the ceremony is SHA-256 over a label, the round, the share number,
k, n and the value: the server can tell a share that was handed out from one that was
altered or made up, without keeping anything that helps rebuild the key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from crypto.shamir import PRIME
from crypto.tokens import ALPHABET, InvalidToken, check_symbol

__all__ = [
    "GROUPS",
    "InvalidShare",
    "Share",
    "commitment",
    "matches",
    "parse_share",
    "share_text",
    "typed_groups",
]

GROUPS = 13
_GROUP = 4
_VALUE_SYMBOLS = GROUPS * _GROUP  # 52 symbols, 260 bits, the top 4 always zero
_LABEL = "PHIEUKIN KHOA"
_HEADER = re.compile(
    r"PHIEUKIN[\s-]*KHOA[\s-]*R(\d{1,9})[\s-]*S(\d{1,3})\s*/\s*(\d{1,3})[\s-]*K(\d{1,3})"
)
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2014\u2212]+")
# Crockford's reading of look-alikes, as for slips: O is 0, I and L are 1.
_TYPED = {**{c: c for c in ALPHABET}, "O": "0", "I": "1", "L": "1"}
_COMMITMENT_LABEL = b"phieukin key share commitment v1"
_MAX_TEXT = 2000


class InvalidShare(ValueError):
    """Text that is not a well-formed share; the message says where, never the value."""


@dataclass(frozen=True)
class Share:
    """One point of the round key's sharing polynomial, with what it belongs to."""

    round_id: int
    number: int
    needed: int
    holders: int
    value: int

    def __post_init__(self) -> None:
        if not 2 <= self.needed <= self.holders or not 1 <= self.number <= self.holders:
            raise InvalidShare("share number, k and n do not fit together")
        if not 0 <= self.value < PRIME:
            raise InvalidShare("the share's value lies outside the field")

    def __repr__(self) -> str:
        # Never print the value: a repr ends up in tracebacks and logs.
        return f"Share(round_id={self.round_id}, number={self.number}, value=<hidden>)"


def _symbols(value: int) -> str:
    out = []
    for _ in range(_VALUE_SYMBOLS):
        out.append(ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def typed_groups(share: Share) -> list[str]:
    """The 13 five-symbol groups as printed: four value symbols and their check symbol."""
    symbols = _symbols(share.value)
    groups = []
    for i in range(GROUPS):
        chunk = symbols[i * _GROUP : (i + 1) * _GROUP]
        groups.append(chunk + check_symbol(ALPHABET[i] + chunk))
    return groups


def header(share: Share) -> str:
    """'PHIEUKIN KHOA R12 S3/5 K3': what the share belongs to."""
    return f"{_LABEL} R{share.round_id} S{share.number}/{share.holders} K{share.needed}"


def share_text(share: Share) -> str:
    """The one-line form used in the share file and the QR code."""
    return " ".join([header(share), *typed_groups(share)])


def parse_share(text: str) -> Share:
    """Read a share as typed, scanned or read from its file; raise InvalidShare if malformed."""
    if len(text) > _MAX_TEXT:
        raise InvalidShare("too long to be a share")
    found = _HEADER.search(text.upper())
    if found is None:
        raise InvalidShare("no 'PHIEUKIN KHOA R.. S../.. K..' header: not a share")
    round_id, number, holders, needed = (int(g) for g in found.groups())
    body = _SEPARATORS.sub("", text.upper()[found.end() :])
    symbols = []
    for position, c in enumerate(body, start=1):
        symbol = _TYPED.get(c)
        if symbol is None:
            raise InvalidShare(f"character {position} after the header is not a share symbol")
        symbols.append(symbol)
    if len(symbols) != GROUPS * (_GROUP + 1):
        raise InvalidShare(
            f"a share has {GROUPS} groups of {_GROUP + 1} symbols, "
            f"got {len(symbols)} symbols ({len(symbols) / (_GROUP + 1):.1f} groups)"
        )
    value_symbols = []
    for i in range(GROUPS):
        group = "".join(symbols[i * (_GROUP + 1) : (i + 1) * (_GROUP + 1)])
        try:
            ok = check_symbol(ALPHABET[i] + group[:_GROUP]) == group[_GROUP]
        except InvalidToken:
            ok = False
        if not ok:
            raise InvalidShare(f"group {i + 1} has a typo (its check symbol does not match)")
        value_symbols.append(group[:_GROUP])
    value = 0
    for c in "".join(value_symbols):
        value = value * 32 + ALPHABET.index(c)
    if value >= PRIME:
        raise InvalidShare("the share's value lies outside the field")
    try:
        return Share(round_id, number, needed, holders, value)
    except InvalidShare:
        raise
    except ValueError as exc:  # pragma: no cover - __post_init__ raises InvalidShare
        raise InvalidShare(str(exc)) from None


def commitment(share: Share) -> bytes:
    """SHA-256 commitment to a share, stored at the ceremony in place of the share."""
    return hashlib.sha256(
        _COMMITMENT_LABEL
        + share.round_id.to_bytes(8, "big")
        + share.number.to_bytes(2, "big")
        + share.needed.to_bytes(2, "big")
        + share.holders.to_bytes(2, "big")
        + share.value.to_bytes(32, "big")
    ).digest()


def matches(share: Share, stored: bytes) -> bool:
    """Whether ``share`` is the one whose commitment was stored (constant time)."""
    return hmac.compare_digest(commitment(share), stored)
