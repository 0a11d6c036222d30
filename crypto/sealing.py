"""Sealing ballots: HPKE (RFC 9180) to a round key, ML-KEM-768 + X25519 hybrid.

The suite is the hybrid KEM ``MLKEM768-X25519`` with HKDF-SHA256 and ChaCha20-Poly1305,
as ``cryptography``'s hpke module offers it. A box copied today stays shut even to a later
quantum computer (ML-KEM), and as long as X25519 holds, a flaw found in the young ML-KEM
does not open it either. docs/THREAT_MODEL.md says why.

The round key is derived from one 256-bit seed, the only secret the key holders share
(:mod:`crypto.shamir`): HKDF-SHA256 expands it into the 64-byte ML-KEM seed and the X25519
private key. The public key is kept as the ML-KEM public key (1,184 bytes) followed by the
X25519 public key (32 bytes).

A box is ``HPKE.Seal`` of a padded plaintext: 4 bytes of length, the ballot, zeros up to
the round's fixed size, so every box of a round has the same length. The HPKE ``info``
names the round and the unit, so a box copied into another round or unit does not open.
"""

from __future__ import annotations

import hashlib
import secrets
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto.shamir import PRIME

__all__ = [
    "BOX_OVERHEAD",
    "PUBLIC_KEY_BYTES",
    "SUITE_NAME",
    "BoxBroken",
    "PrivateKey",
    "PublicKey",
    "box_info",
    "load_public_key",
    "new_seed",
    "open_box",
    "private_key",
    "public_key_bytes",
    "public_key_fingerprint",
    "seal",
]

SUITE_NAME = "HPKE MLKEM768-X25519 HKDF-SHA256 ChaCha20-Poly1305"
_SUITE = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
_MLKEM_PUBLIC = 1184
PUBLIC_KEY_BYTES = _MLKEM_PUBLIC + 32
_TAG = 16
_LENGTH = struct.Struct(">I")
# What a box adds to its padded plaintext: the KEM's encapsulated key and the AEAD tag.
BOX_OVERHEAD = hpke.KEM.MLKEM768_X25519.enc_length() + _TAG + _LENGTH.size
_KEY_INFO = b"phieukin round key v1"

PrivateKey = hpke.MLKEM768X25519PrivateKey
PublicKey = hpke.MLKEM768X25519PublicKey


class BoxBroken(ValueError):
    """A box that does not open with this key for this round and unit."""


def new_seed() -> int:
    """A fresh uniformly random seed below the sharing field's prime (256 bits)."""
    return secrets.randbelow(PRIME)


def _parts(seed: int) -> tuple[mlkem.MLKEM768PrivateKey, x25519.X25519PrivateKey]:
    if not 0 <= seed < PRIME:
        raise ValueError("seed out of range")
    material = HKDF(algorithm=hashes.SHA256(), length=96, salt=None, info=_KEY_INFO).derive(
        seed.to_bytes(32, "big")
    )
    return (
        mlkem.MLKEM768PrivateKey.from_seed_bytes(material[:64]),
        x25519.X25519PrivateKey.from_private_bytes(material[64:]),
    )


def private_key(seed: int) -> PrivateKey:
    """The round's private key, rebuilt from its seed (in memory only)."""
    return PrivateKey(*_parts(seed))


def public_key_bytes(seed: int) -> bytes:
    """The public half to store: ML-KEM-768 public key then X25519 public key."""
    kem, dh = _parts(seed)
    return kem.public_key().public_bytes_raw() + dh.public_key().public_bytes_raw()


def public_key_fingerprint(public: bytes) -> str:
    """SHA-256 of the stored public key, hex: short enough for the audit log and minutes."""
    return hashlib.sha256(public).hexdigest()


def load_public_key(public: bytes) -> PublicKey:
    """The public key object for stored public bytes."""
    if len(public) != PUBLIC_KEY_BYTES:
        raise ValueError("not a round public key")
    return PublicKey(
        mlkem.MLKEM768PublicKey.from_public_bytes(public[:_MLKEM_PUBLIC]),
        x25519.X25519PublicKey.from_public_bytes(public[_MLKEM_PUBLIC:]),
    )


def box_info(round_id: int, unit_id: int) -> bytes:
    """HPKE info binding a box to its round and unit."""
    return b"phieukin ballot box v1 round=%d unit=%d" % (round_id, unit_id)


def seal(public: PublicKey, plaintext: bytes, *, size: int, round_id: int, unit_id: int) -> bytes:
    """Pad ``plaintext`` to ``size`` bytes and seal it; every box of a size has one length."""
    if len(plaintext) + _LENGTH.size > size:
        raise ValueError("the ballot does not fit the round's box size")
    padded = _LENGTH.pack(len(plaintext)) + plaintext
    padded += bytes(size - len(padded))
    return _SUITE.encrypt(padded, public, info=box_info(round_id, unit_id))


def open_box(private: PrivateKey, box: bytes, *, round_id: int, unit_id: int) -> bytes:
    """Open one box sealed for this round and unit, or raise BoxBroken."""
    try:
        padded = _SUITE.decrypt(box, private, info=box_info(round_id, unit_id))
    except (InvalidTag, ValueError):
        raise BoxBroken("the box does not open for this round and unit") from None
    (length,) = _LENGTH.unpack_from(padded)
    # The tag already proves that sealing wrote these bytes; the length is checked so that a
    # box sealed by a faulty writer fails here rather than as a short read later.
    if length > len(padded) - _LENGTH.size:
        raise BoxBroken("the box's length field is out of range")
    return padded[_LENGTH.size : _LENGTH.size + length]
