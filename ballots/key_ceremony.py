"""The key ceremony (lễ tạo khóa) of a sealed round, and rebuilding the key at its close.

When a round opens, the server makes the round's key seed, splits it among the named key
holders (k of n, Shamir), and hands each holder their share once. It keeps the public key
and one commitment per share, and forgets the seed: from then on nobody, the server
included, can open a ballot box until k holders bring their shares to the close.

The shares returned here exist in memory for the length of the request that opened the
round, and in the sheets and files made from them for the holders. They are never stored,
logged, or written to the audit log, which names only who holds which share number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ballots.db import Base, utcnow
from ballots.errors import InvalidInput, SharesRefused
from crypto import key_shares, sealing, shamir

DEFAULT_SHARES_NEEDED = 3
MIN_SHARES_NEEDED = 2
MAX_KEY_HOLDERS = 20
MAX_HOLDER_NAME = 200


class BoxKey(Base):
    """A sealed round's public key, its k of n, and the size of every box."""

    __tablename__ = "box_keys"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True
    )
    suite: Mapped[str] = mapped_column(String(80))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    shares_needed: Mapped[int] = mapped_column(Integer)
    key_holders: Mapped[int] = mapped_column(Integer)
    # Length of every padded plaintext of the round: a box's size says nothing of its content.
    box_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class KeyHolder(Base):
    """Who holds share ``number`` of a round's key, and the commitment to that share."""

    __tablename__ = "key_holders"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    full_name: Mapped[str] = mapped_column(String(MAX_HOLDER_NAME))
    commitment: Mapped[bytes] = mapped_column(LargeBinary(32))


@dataclass(frozen=True)
class IssuedShare:
    """A share handed to its holder once: on a sheet and as a file."""

    holder: str
    share: key_shares.Share

    @property
    def number(self) -> int:
        """The share number (1..n)."""
        return self.share.number

    @property
    def text(self) -> str:
        """The one-line form of the share (file and QR code)."""
        return key_shares.share_text(self.share)

    @property
    def file_name(self) -> str:
        """Where the holder's share file is saved by default."""
        s = self.share
        return f"khoa-dot-{s.round_id}-phan-{s.number}-cua-{s.holders}.txt"


def clean_holders(names: Sequence[str], shares_needed: int | None) -> tuple[list[str], int]:
    """Check the holders' names and k; returns (names, k). Default k: 3, or n if fewer."""
    cleaned = [" ".join(str(n).split()) for n in names]
    if any(not n for n in cleaned):
        raise InvalidInput("Every key holder needs a name.", field="key_holders")
    if any(len(n) > MAX_HOLDER_NAME for n in cleaned):
        raise InvalidInput(
            "A key holder's name has at most {max} characters.",
            params={"max": MAX_HOLDER_NAME},
            field="key_holders",
        )
    if len({n.casefold() for n in cleaned}) != len(cleaned):
        raise InvalidInput("Each key holder is named once.", field="key_holders")
    if len(cleaned) > MAX_KEY_HOLDERS:
        raise InvalidInput(
            "At most {max} key holders.", params={"max": MAX_KEY_HOLDERS}, field="key_holders"
        )
    if len(cleaned) < MIN_SHARES_NEEDED:
        raise InvalidInput(
            "A sealed round needs at least 2 named key holders (default: 5, of whom 3 are "
            "needed to open the box).",
            field="key_holders",
        )
    k = shares_needed if shares_needed is not None else min(DEFAULT_SHARES_NEEDED, len(cleaned))
    if not MIN_SHARES_NEEDED <= k <= len(cleaned):
        raise InvalidInput(
            "The shares needed to open the box must be between {min} and the number of key "
            "holders ({n}).",
            params={"min": MIN_SHARES_NEEDED, "n": len(cleaned)},
            field="shares_needed",
        )
    return cleaned, k


def hold_ceremony(
    session: Session, round_id: int, holders: Sequence[str], shares_needed: int, box_bytes: int
) -> list[IssuedShare]:
    """Make the round's key, store its public half and the commitments, return the shares."""
    seed = sealing.new_seed()
    public = sealing.public_key_bytes(seed)
    n = len(holders)
    points = shamir.split(seed, shares_needed, n)
    del seed  # the seed lives on only in the shares returned to the holders
    issued = [
        IssuedShare(name, key_shares.Share(round_id, x, shares_needed, n, y))
        for name, (x, y) in zip(holders, points, strict=True)
    ]
    session.add(
        BoxKey(
            round_id=round_id,
            suite=sealing.SUITE_NAME,
            public_key=public,
            shares_needed=shares_needed,
            key_holders=n,
            box_bytes=box_bytes,
        )
    )
    session.add_all(
        KeyHolder(
            round_id=round_id,
            number=s.number,
            full_name=s.holder,
            commitment=key_shares.commitment(s.share),
        )
        for s in issued
    )
    session.flush()
    return issued


def box_key(session: Session, round_id: int) -> BoxKey | None:
    """The round's key record, or None for a round opened without a ceremony."""
    return session.get(BoxKey, round_id)


def holders(session: Session, round_id: int) -> list[KeyHolder]:
    """The round's key holders by share number."""
    return list(
        session.scalars(
            select(KeyHolder).where(KeyHolder.round_id == round_id).order_by(KeyHolder.number)
        )
    )


@dataclass(frozen=True)
class RebuiltKey:
    """The round key, in memory for the close only, and which shares rebuilt it."""

    shares_used: list[int]
    # The secret the private key is derived from (crypto.sealing.private_key): the close
    # opens boxes with keys made from it, in its own process or in worker processes.
    seed: int = field(repr=False)


def _refuse(key: BoxKey, valid: list[int], rejected: list[dict[str, object]]) -> SharesRefused:
    missing = max(0, key.shares_needed - len(valid))
    details: dict[str, object] = {
        "shares_needed": key.shares_needed,
        "valid": valid,
        "missing": missing,
        "rejected": rejected,
    }
    if rejected:
        return SharesRefused(
            "{count} share(s) refused ({which}): altered, mistyped, or not from this round's "
            "ceremony (each share is checked against its commitment). Nothing was changed.",
            params={"count": len(rejected), "which": ", ".join(str(r["share"]) for r in rejected)},
            **details,
        )
    return SharesRefused(
        "{valid} valid share(s) of the {needed} needed: {missing} more needed to open the "
        "ballot box. Nothing was changed.",
        params={"valid": len(valid), "needed": key.shares_needed, "missing": missing},
        **details,
    )


def rebuild(session: Session, round_id: int, texts: Sequence[str]) -> RebuiltKey:
    """Check every presented share against its commitment and rebuild the round key.

    Any malformed or altered share refuses the whole close, naming it; so do fewer than k
    valid shares, naming how many more are needed. The same share twice counts once.
    """
    key = box_key(session, round_id)
    if key is None:
        raise InvalidInput("This round was opened without a key ceremony: it needs no shares.")
    stored = {h.number: h.commitment for h in holders(session, round_id)}
    valid: dict[int, key_shares.Share] = {}
    rejected: list[dict[str, object]] = []
    for position, text in enumerate(texts, start=1):
        label = f"presented {position}"
        try:
            share = key_shares.parse_share(text)
        except key_shares.InvalidShare as exc:
            rejected.append({"share": label, "reason": str(exc)})
            continue
        label = f"share {share.number}"
        if share.round_id != round_id:
            reason = f"it belongs to round {share.round_id}, not round {round_id}"
            rejected.append({"share": label, "reason": reason})
        elif share.number not in stored or not key_shares.matches(share, stored[share.number]):
            reason = "it does not match the commitment made at the ceremony (altered or forged)"
            rejected.append({"share": label, "reason": reason})
        else:
            valid[share.number] = share
    numbers = sorted(valid)
    if rejected or len(valid) < key.shares_needed:
        raise _refuse(key, numbers, rejected)
    chosen = [valid[n] for n in numbers[: key.shares_needed]]
    seed = shamir.combine([(s.number, s.value) for s in chosen])
    if sealing.public_key_bytes(seed) != key.public_key:  # pragma: no cover - commitments hold
        raise SharesRefused(
            "The shares fit their commitments but do not rebuild the round's key.",
            shares_needed=key.shares_needed,
            valid=numbers,
            missing=0,
            rejected=[],
        )
    return RebuiltKey(shares_used=numbers[: key.shares_needed], seed=seed)
