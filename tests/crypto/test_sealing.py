"""Sealed boxes (HPKE, ML-KEM-768 + X25519) and key shares' text and commitments."""

from __future__ import annotations

import pytest

from crypto import key_shares, sealing, shamir


class TestSealing:
    """A box opens only with its round's key, for its round and unit."""

    def test_box_opens_with_the_key_for_its_round_and_unit_only(self) -> None:
        """Same length for any content; another unit, round or key does not open it."""
        seed = sealing.new_seed()
        public = sealing.load_public_key(sealing.public_key_bytes(seed))
        private = sealing.private_key(seed)
        short = sealing.seal(public, b"{}", size=512, round_id=1, unit_id=2)
        long = sealing.seal(public, "ướ".encode() * 80, size=512, round_id=1, unit_id=2)
        assert len(short) == len(long) == 512 + sealing.BOX_OVERHEAD - 4
        assert sealing.open_box(private, short, round_id=1, unit_id=2) == b"{}"
        for round_id, unit_id in ((1, 3), (2, 2)):
            with pytest.raises(sealing.BoxBroken):
                sealing.open_box(private, short, round_id=round_id, unit_id=unit_id)
        with pytest.raises(sealing.BoxBroken):
            sealing.open_box(sealing.private_key(sealing.new_seed()), short, round_id=1, unit_id=2)
        altered = bytearray(long)
        altered[-1] ^= 1
        with pytest.raises(sealing.BoxBroken):
            sealing.open_box(private, bytes(altered), round_id=1, unit_id=2)

    def test_the_key_is_a_function_of_its_seed(self) -> None:
        """The same seed gives the same public key (so shares rebuild it exactly)."""
        seed = sealing.new_seed()
        assert sealing.public_key_bytes(seed) == sealing.public_key_bytes(seed)
        assert len(sealing.public_key_bytes(seed)) == sealing.PUBLIC_KEY_BYTES
        assert sealing.public_key_bytes(seed) != sealing.public_key_bytes(seed ^ 1)

    def test_too_long_a_ballot_does_not_seal(self) -> None:
        """A plaintext beyond the round's size is refused, never truncated."""
        public = sealing.load_public_key(sealing.public_key_bytes(sealing.new_seed()))
        with pytest.raises(ValueError, match="does not fit"):
            sealing.seal(public, b"x" * 100, size=100, round_id=1, unit_id=1)


class TestKeyShareText:
    """A share survives its file, its QR text and hand typing; commitments catch changes."""

    def test_text_round_trips_and_tolerates_typing(self) -> None:
        """Lower case, O for 0, I/L for 1, dashes for spaces: the same share."""
        seed = sealing.new_seed()
        share = key_shares.Share(12, 4, 3, 5, shamir.split(seed, 3, 5)[3][1])
        text = key_shares.share_text(share)
        assert key_shares.parse_share(text) == share
        head, groups = key_shares.header(share), " ".join(key_shares.typed_groups(share))
        typed_groups = groups.lower().replace("0", "o").replace("1", "l").replace(" ", "-")
        typed = head.lower().replace(" ", "-") + "  " + typed_groups
        assert key_shares.parse_share(typed) == share
        assert "value=<hidden>" in repr(share)
        assert str(share.value) not in repr(share)

    def test_commitment_binds_round_number_and_value(self) -> None:
        """Changing any part of a share changes its commitment."""
        share = key_shares.Share(12, 4, 3, 5, 987654321)
        stored = key_shares.commitment(share)
        assert key_shares.matches(share, stored)
        for other in (
            key_shares.Share(13, 4, 3, 5, 987654321),
            key_shares.Share(12, 3, 3, 5, 987654321),
            key_shares.Share(12, 4, 3, 5, 987654322),
        ):
            assert not key_shares.matches(other, stored)

    @pytest.mark.parametrize(
        "text",
        ["", "hello", "PHIEUKIN KHOA R1 S1/5 K3 ABC", "PHIEUKIN KHOA R1 S9/5 K3", "x" * 5000],
    )
    def test_malformed_text_is_refused(self, text: str) -> None:
        """Not a share: a clear error, never a crash."""
        with pytest.raises(key_shares.InvalidShare):
            key_shares.parse_share(text)
