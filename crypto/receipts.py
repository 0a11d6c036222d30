"""Receipts (mã xác nhận) and sealing one under the token that cast it.

A voter whose reply was lost on the way retries with the same slip; the server must show
the same receipt again without keeping anything that links the token to it in the clear.
The receipt is sealed with AES-GCM under a key derived from the token itself (HKDF-SHA256),
so only the slip's holder can open it; the database holds just the token's SHA-256.
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"phieukin receipt seal v1"
_NONCE_BYTES = 12


class SealBroken(ValueError):
    """The sealed receipt does not open with this token."""


def _key(canonical_token: str) -> bytes:
    # The token carries 130 random bits, so a plain HKDF (no password stretching) suffices.
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        canonical_token.encode("ascii")
    )


def seal_receipt(canonical_token: str, receipt: str) -> bytes:
    """Encrypt ``receipt`` so that only ``canonical_token`` opens it (nonce || ciphertext)."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    return nonce + AESGCM(_key(canonical_token)).encrypt(nonce, receipt.encode("ascii"), None)


def open_receipt(canonical_token: str, sealed: bytes) -> str:
    """Decrypt a sealed receipt with the token that cast it."""
    try:
        plain = AESGCM(_key(canonical_token)).decrypt(
            sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], None
        )
    except (InvalidTag, ValueError):
        raise SealBroken("the receipt does not open with this token") from None
    return plain.decode("ascii")
