"""Ballot tokens and receipts: generation, typed-input normalisation and hashing.

A token is the one-time credential printed on a voter's slip. It is 130 random bits
from :mod:`secrets`, written as 26 symbols of Crockford's base32 alphabet
``0123456789ABCDEFGHJKMNPQRSTVWXYZ`` (no I, L, O or U, so a printed code cannot be
misread as a look-alike), followed by one check symbol: 27 symbols in all. Every
symbol is a digit or an upper-case letter, so a token also fits the QR code's
compact alphanumeric mode.

Check symbol: Luhn mod N with N = 32, over the same alphabet
(https://en.wikipedia.org/wiki/Luhn_mod_N_algorithm). Each symbol stands for its
index in the alphabet. Walking from the rightmost data symbol to the left, every
other value is doubled, starting with the rightmost; a doubled value ``v`` counts as
``v // 32 + v % 32``. The check symbol is the one that brings the sum of all counted
values to a multiple of 32. To verify, walk the whole 27-symbol token the same way,
doubling every other value starting with the symbol just left of the check symbol:
the sum must be a multiple of 32.

Why this algorithm: doubling-and-folding is a permutation of 0..31, so any single
mistyped symbol changes the sum and is caught. Swapping two different adjacent
symbols is caught unless they are ``0`` and ``Z``, the one pair whose doubled and
plain values collide (1 of the 496 unordered pairs). Both hold without a server
lookup, so a typing mistake is reported on the voter's phone before anything is sent.

The database keeps only :func:`token_hash` of a token, never the token itself.
A receipt is a shorter code in the same alphabet, shown to a voter after voting.
"""

from __future__ import annotations

import hashlib
import secrets

__all__ = [
    "ALPHABET",
    "RECEIPT_LENGTH",
    "TOKEN_BITS",
    "TOKEN_LENGTH",
    "InvalidToken",
    "check_symbol",
    "format_token",
    "is_canonical",
    "new_receipt",
    "new_token",
    "normalize_receipt",
    "normalize_token",
    "token_hash",
    "typed_groups",
]

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_BASE = len(ALPHABET)  # 32: one symbol carries exactly 5 bits
_BITS_PER_SYMBOL = 5

TOKEN_BITS = 130
_DATA_LENGTH = TOKEN_BITS // _BITS_PER_SYMBOL  # 26 random symbols
TOKEN_LENGTH = _DATA_LENGTH + 1  # plus the check symbol

RECEIPT_BITS = 50
RECEIPT_LENGTH = RECEIPT_BITS // _BITS_PER_SYMBOL

# Printed as 5-5-5-4-4-4: short groups are easier to copy by hand, and the
# hyphens are dropped again by normalize_token.
_GROUPS = (5, 5, 5, 4, 4, 4)

_VALUE = {symbol: index for index, symbol in enumerate(ALPHABET)}
# Luhn mod N folds a doubled value back into 0..31 by adding its base-32 digits.
_DOUBLED = tuple((2 * v) // _BASE + (2 * v) % _BASE for v in range(_BASE))

# What a person may type for each symbol. Crockford's decoding rules: case does
# not matter, O reads as 0, I and L read as 1. U has no meaning and is rejected.
_TYPED: dict[str, str] = {}
for _symbol in ALPHABET:
    _TYPED[_symbol] = _symbol
    _TYPED[_symbol.lower()] = _symbol
for _typed, _symbol in (("O", "0"), ("o", "0"), ("I", "1"), ("i", "1"), ("L", "1"), ("l", "1")):
    _TYPED[_typed] = _symbol
del _symbol, _typed

# Dashes that word processors and phone keyboards substitute for a hyphen.
_DASHES = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2212")

# Bound the work done on hostile input long before any real token could be that long.
_MAX_INPUT = 200


class InvalidToken(ValueError):
    """A typed or scanned token that is not a well-formed token."""


def _luhn_sum(values: list[int], double_first: bool) -> int:
    """Sum values right to left, doubling alternately as Luhn mod N prescribes."""
    total = 0
    double = double_first
    for v in reversed(values):
        total += _DOUBLED[v] if double else v
        double = not double
    return total


def _check_symbol(data: str) -> str:
    """Return the Luhn mod 32 check symbol for the given data symbols."""
    total = _luhn_sum([_VALUE[c] for c in data], double_first=True)
    return ALPHABET[(-total) % _BASE]


def check_symbol(data: str) -> str:
    """Return the Luhn mod 32 check symbol for canonical symbols (used by key shares too)."""
    if any(c not in _VALUE for c in data):
        raise InvalidToken("not canonical symbols")
    return _check_symbol(data)


def _random_symbols(count: int) -> str:
    """Return count symbols carrying 5 * count uniformly random bits."""
    value = secrets.randbits(count * _BITS_PER_SYMBOL)
    out = []
    for _ in range(count):
        out.append(ALPHABET[value & 31])
        value >>= _BITS_PER_SYMBOL
    out.reverse()
    return "".join(out)


def new_token() -> str:
    """Return a fresh canonical token: 26 random symbols (130 bits) and a check symbol."""
    data = _random_symbols(_DATA_LENGTH)
    return data + _check_symbol(data)


def is_canonical(text: str) -> bool:
    """Return True if text is a token in canonical form with a valid check symbol."""
    if len(text) != TOKEN_LENGTH:
        return False
    values = []
    for c in text:
        v = _VALUE.get(c)
        if v is None:
            return False
        values.append(v)
    return _luhn_sum(values, double_first=False) % _BASE == 0


def normalize_token(text: str) -> str:
    """Return the canonical token for what a person typed, or raise InvalidToken."""
    # Messages never echo the input: callers may log them, and a token must never
    # reach a log line.
    if len(text) > _MAX_INPUT:
        raise InvalidToken(f"wrong length: a token has {TOKEN_LENGTH} characters")
    symbols = []
    for position, c in enumerate(text, start=1):
        if c in _DASHES or c.isspace():
            continue
        symbol = _TYPED.get(c)
        if symbol is None:
            raise InvalidToken(f"bad character at position {position}")
        symbols.append(symbol)
    if len(symbols) != TOKEN_LENGTH:
        raise InvalidToken(
            f"wrong length: a token has {TOKEN_LENGTH} characters, got {len(symbols)}"
        )
    canonical = "".join(symbols)
    if not is_canonical(canonical):
        raise InvalidToken("check character mismatch: the code was mistyped")
    return canonical


def _require_canonical(canonical: str) -> None:
    """Raise InvalidToken unless canonical is a canonical token."""
    if not is_canonical(canonical):
        raise InvalidToken("not a canonical token; pass it through normalize_token first")


def token_hash(canonical: str) -> bytes:
    """Return the SHA-256 digest (32 bytes) of a canonical token's ASCII bytes."""
    # Refuse other spellings: hashing "abcd-..." would give a digest that never
    # matches the stored one, and the voter would be told a valid slip is unknown.
    _require_canonical(canonical)
    return hashlib.sha256(canonical.encode("ascii")).digest()


def format_token(canonical: str) -> str:
    """Return a canonical token grouped 5-5-5-4-4-4 with hyphens, for printing."""
    _require_canonical(canonical)
    parts = []
    start = 0
    for size in _GROUPS:
        parts.append(canonical[start : start + size])
        start += size
    return "-".join(parts)


def typed_groups(text: str) -> list[tuple[str, bool]]:
    """Cut what was typed into the printed groups (5-5-5-4-4-4), each with whether it is
    surely wrong: a character outside the alphabet, too few characters, or extra ones.

    A code whose groups all look right but whose check symbol fails has one wrong
    character that cannot be located: every group comes back unflagged.
    """
    symbols = [c for c in text[:_MAX_INPUT] if not (c in _DASHES or c.isspace())]
    groups: list[tuple[str, bool]] = []
    start = 0
    for size in _GROUPS:
        part = symbols[start : start + size]
        start += size
        shown = "".join(_TYPED.get(c, c) for c in part)
        groups.append((shown, len(part) < size or any(c not in _TYPED for c in part)))
    if start < len(symbols):
        groups.append(("".join(symbols[start:]), True))
    return groups


def new_receipt() -> str:
    """Return a fresh 10-symbol receipt code carrying 50 random bits."""
    return _random_symbols(RECEIPT_LENGTH)


def normalize_receipt(text: str) -> str:
    """Return the canonical receipt for what a voter typed, or raise InvalidToken.

    The same reading rules as for slip codes: case, spaces and dashes do not matter,
    O reads as 0, I and L as 1.
    """
    if len(text) > _MAX_INPUT:
        raise InvalidToken(f"wrong length: a receipt has {RECEIPT_LENGTH} characters")
    symbols = []
    for position, c in enumerate(text, start=1):
        if c in _DASHES or c.isspace():
            continue
        symbol = _TYPED.get(c)
        if symbol is None:
            raise InvalidToken(f"bad character at position {position}")
        symbols.append(symbol)
    if len(symbols) != RECEIPT_LENGTH:
        raise InvalidToken(f"wrong length: a receipt has {RECEIPT_LENGTH} characters")
    return "".join(symbols)
