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
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

import qrcode
from qrcode.util import MODE_8BIT_BYTE, MODE_ALPHA_NUM, QRData

from crypto.tokens import InvalidToken, is_canonical

__all__ = [
    "QR_ERROR_CORRECTION",
    "QR_MASK_PATTERN",
    "Matrix",
    "qr_matrix",
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

# Characters of the QR alphanumeric mode (ISO/IEC 18004, table 5).
_QR_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
# A canonical token that stands in for any token when sizing the code: all tokens
# have the same length and are alphanumeric, so they all need the same version.
_SIZING_TOKEN = "0" * 27


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


def qr_matrix(base_url: str, token: str) -> Matrix:
    """Return the modules of the QR code for slip_url(base_url, token), without quiet zone."""
    _require_token(token)
    prefix, mode, version = _segments_for(base_url)
    code = _new_code(prefix, mode, token, version)
    # The version is known, so skip best_fit: it would encode the data a second time.
    code.make(fit=False)
    rows: list[list[bool]] = code.get_matrix()
    return tuple(tuple(row) for row in rows)


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
