"""The QR code printed on a voter's slip.

The code holds ``<PUBLIC BASE URL>/V#<TOKEN>``. The token sits in the URL fragment,
which a browser never sends to the server (DESIGN.md, invariant 4); the voting page
reads it in the browser and posts it in a request body.

The base URL is upper-cased because scheme and host are case-insensitive, and an
upper-case URL fits the QR alphanumeric mode (5.5 bits a character instead of 8):
every character but ``#`` does, so the code stays a small version that prints large
enough to scan at arm's length. The server routes ``/V`` and ``/v`` alike. A base URL
with a path prefix only works if that prefix is routed case-insensitively too.

The mask pattern is fixed rather than chosen by scoring all eight, which would cost
eight encodings per slip; any mask gives a valid, decodable code.

Speed: with the version, error correction level, mask and segments fixed, a slip
code is an affine function of the token's bits over GF(2). The data codewords are
those bits at fixed places among fixed ones, Reed-Solomon error correction is linear,
and placing the codewords and applying the mask flip fixed modules. So the code of
any token is the code of the all-zero token with, for each pair of token symbols,
a precomputed set of modules flipped. The qrcode library encodes the all-zero token
and one token per data bit (150 codes, under 0.1 s, once per base URL and process);
after that a slip code costs 14 table look-ups and XORs (5 µs) instead of a full
encoding (0.44 ms of pure Python, most of it Reed-Solomon). The tables take about
2.4 MB a base URL, and are checked against the library on two probe tokens before
they are used.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import urlsplit

import qrcode
from qrcode.util import MODE_8BIT_BYTE, MODE_ALPHA_NUM, QRData

from crypto.tokens import ALPHABET, TOKEN_LENGTH, InvalidToken, is_canonical

__all__ = [
    "QR_ERROR_CORRECTION",
    "QR_MASK_PATTERN",
    "Matrix",
    "qr_matrix",
    "qr_rows",
    "qr_version",
    "slip_url",
    "text_matrix",
]

# A dark module is True. Rows top to bottom, columns left to right, no quiet zone.
Matrix = tuple[tuple[bool, ...], ...]

# Level M survives about 15% damage: a creased or smudged slip still scans.
QR_ERROR_CORRECTION: int = qrcode.constants.ERROR_CORRECT_M
# Mask 0 ((row + column) % 2 == 0) is the cheapest to apply, and over a sample of
# slip codes its penalty score was within 6% of the best fixed mask.
QR_MASK_PATTERN = 0

# Characters of the QR alphanumeric mode, in the order of their values (ISO/IEC
# 18004, table 5): a pair of characters is written as 45 * first + second in 11 bits,
# an odd last character as its value in 6 bits.
_ALPHANUMERIC_ORDER = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_QR_ALPHANUMERIC = frozenset(_ALPHANUMERIC_ORDER)
_PAIR_BITS, _SINGLE_BITS = 11, 6
# A canonical token that stands in for any token when sizing the code: all tokens
# have the same length and are alphanumeric, so they all need the same version.
# Its pairs all have the value 0, so its code is also the base the tables flip.
_SIZING_TOKEN = "0" * TOKEN_LENGTH


def _url_prefix(base_url: str) -> str:
    """Return the upper-cased base URL followed by "/V", after checking its shape."""
    base = base_url.strip().rstrip("/")
    parts = urlsplit(base)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError("base URL must be an absolute http:// or https:// URL")
    if parts.query or parts.fragment or "#" in base:
        raise ValueError("base URL must not carry a query or a fragment")
    return base.upper() + "/V"


def _require_token(token: str) -> None:
    """Refuse anything but a canonical token, so a slip never carries a dead code."""
    if not is_canonical(token):
        raise InvalidToken("not a canonical token")


def slip_url(base_url: str, token: str) -> str:
    """Return the text of a slip's QR code: the upper-cased base URL, "/V#" and the token."""
    _require_token(token)
    return f"{_url_prefix(base_url)}#{token}"


@functools.lru_cache(maxsize=32)
def _segments_for(base_url: str) -> tuple[bytes, int, int]:
    """Return the encoded URL prefix, its QR mode and the version every slip code needs."""
    prefix = _url_prefix(base_url)
    # A base URL with characters outside the alphanumeric set (say "_" or "~")
    # still works, in the larger byte mode.
    mode = MODE_ALPHA_NUM if set(prefix) <= _QR_ALPHANUMERIC else MODE_8BIT_BYTE
    encoded = prefix.encode("utf-8")
    code = _new_code(encoded, mode, _SIZING_TOKEN, version=None)
    version: int = code.best_fit()
    return encoded, mode, version


def _new_code(prefix: bytes, mode: int, token: str, version: int | None) -> qrcode.QRCode:
    """Return a QRCode holding prefix, "#" and token as three explicit segments."""
    code = qrcode.QRCode(
        version=version,
        error_correction=QR_ERROR_CORRECTION,
        border=0,
        mask_pattern=QR_MASK_PATTERN,
    )
    code.add_data(QRData(prefix, mode=mode))
    # "#" has no alphanumeric code; a one-byte segment costs 20 bits, far less
    # than putting the whole URL in byte mode.
    code.add_data(QRData(b"#", mode=MODE_8BIT_BYTE))
    code.add_data(QRData(token.encode("ascii"), mode=MODE_ALPHA_NUM))
    return code


def qr_version(base_url: str) -> int:
    """Return the QR version (size) of every slip code for this base URL."""
    return _segments_for(base_url)[2]


def _library_matrix(base_url: str, token: str) -> Matrix:
    """Return the slip code's modules as the qrcode library encodes them, for any symbols."""
    prefix, mode, version = _segments_for(base_url)
    code = _new_code(prefix, mode, token, version)
    # The version is known, so skip best_fit: it would encode the data a second time.
    code.make(fit=False)
    rows: list[list[bool]] = code.get_matrix()
    return tuple(tuple(row) for row in rows)


def _pack(matrix: Matrix, stride: int) -> int:
    """Return a matrix as one integer, row 0 first, each row padded to stride bits."""
    packed = 0
    for row in matrix:
        bits = 0
        for dark in row:
            bits = bits << 1 | dark
        packed = packed << stride | bits << (stride - len(row))
    return packed


@dataclass(frozen=True)
class _SlipCoder:
    """What a base URL's slip codes share, for building one from a token by XOR."""

    size: int  # modules a side
    stride: int  # bits a packed row: size rounded up to whole bytes
    zero: int  # the packed code of the all-"0" token
    pairs: tuple[dict[str, int], ...]  # per pair of token symbols: the modules it flips
    single: dict[str, int]  # the same for the odd last symbol

    def encode(self, token: str) -> int:
        """Return the packed code of a token of Crockford symbols."""
        packed = self.zero
        for index, flips in enumerate(self.pairs):
            packed ^= flips[token[2 * index : 2 * index + 2]]
        return packed ^ self.single[token[-1]] if self.single else packed


def _with_bit(position: int, bit: int) -> str:
    """Return the all-"0" token with one bit of one pair (or of the odd last symbol) set."""
    # Any value of 11 (6) bits is a valid pair (single) of alphanumeric characters,
    # though not of token symbols: the library encodes them all the same.
    value = 1 << bit
    symbols = ["0"] * TOKEN_LENGTH
    if 2 * position + 1 < TOKEN_LENGTH:
        first, second = divmod(value, 45)
        symbols[2 * position] = _ALPHANUMERIC_ORDER[first]
        symbols[2 * position + 1] = _ALPHANUMERIC_ORDER[second]
    else:
        symbols[2 * position] = _ALPHANUMERIC_ORDER[value]
    return "".join(symbols)


@functools.lru_cache(maxsize=4)
def _slip_coder(base_url: str) -> _SlipCoder:
    """Build the flip tables for a base URL from 150 codes made by the qrcode library."""
    zero_matrix = _library_matrix(base_url, _SIZING_TOKEN)
    size = len(zero_matrix)
    stride = -(-size // 8) * 8
    zero = _pack(zero_matrix, stride)

    def table(position: int, bits: int, symbols: list[str]) -> dict[str, int]:
        """Return, for each symbol string a token may hold there, the modules it flips."""
        basis = [
            _pack(_library_matrix(base_url, _with_bit(position, bit)), stride) ^ zero
            for bit in range(bits)
        ]
        flips: dict[str, int] = {}
        for text in symbols:
            value = 0
            for symbol in text:
                value = value * 45 + _ALPHANUMERIC_ORDER.index(symbol)
            combined = 0
            for bit, flip in enumerate(basis):
                if value >> bit & 1:
                    combined ^= flip
            flips[text] = combined
        return flips

    pair_symbols = [a + b for a in ALPHABET for b in ALPHABET]
    coder = _SlipCoder(
        size=size,
        stride=stride,
        zero=zero,
        pairs=tuple(
            table(position, _PAIR_BITS, pair_symbols) for position in range(TOKEN_LENGTH // 2)
        ),
        single=(table(TOKEN_LENGTH // 2, _SINGLE_BITS, list(ALPHABET)) if TOKEN_LENGTH % 2 else {}),
    )
    # The tables rest on the code being affine in the token's bits, which holds for
    # any correct QR encoder. Check it on two tokens that set many bits of every pair
    # before any slip relies on the tables, so that a library upgrade that broke it
    # would stop here rather than print unreadable slips.
    mixed = "".join(ALPHABET[(7 * i + 29) % len(ALPHABET)] for i in range(TOKEN_LENGTH))
    for probe in (mixed, ALPHABET[-1] * TOKEN_LENGTH):
        if coder.encode(probe) != _pack(_library_matrix(base_url, probe), stride):
            raise RuntimeError("slip QR tables disagree with the qrcode library")
    return coder


def qr_rows(base_url: str, token: str) -> tuple[int, bytes]:
    """Return the slip code's size and its modules packed eight to a byte, a dark one 1.

    Row 0 comes first; each row is padded with light modules to whole bytes, the
    leftmost module in the high bit of its byte.
    """
    _require_token(token)
    coder = _slip_coder(base_url)
    return coder.size, coder.encode(token).to_bytes(coder.size * coder.stride // 8, "big")


def qr_matrix(base_url: str, token: str) -> Matrix:
    """Return the modules of the QR code for slip_url(base_url, token), without quiet zone."""
    size, rows = qr_rows(base_url, token)
    width = len(rows) // size
    return tuple(
        tuple(bool(rows[y * width + x // 8] >> (7 - x % 8) & 1) for x in range(size))
        for y in range(size)
    )


def text_matrix(text: str) -> Matrix:
    """Return the modules of a QR code holding ``text`` (level M, smallest version).

    For short texts other than slip URLs, such as a key holder's share: letters, digits,
    spaces and '/' only keep it in the compact alphanumeric mode.
    """
    mode = MODE_ALPHA_NUM if set(text) <= _QR_ALPHANUMERIC else MODE_8BIT_BYTE
    code = qrcode.QRCode(error_correction=QR_ERROR_CORRECTION, border=0)
    code.add_data(QRData(text.encode("utf-8"), mode=mode))
    code.make(fit=True)
    rows: list[list[bool]] = code.get_matrix()
    return tuple(tuple(row) for row in rows)
