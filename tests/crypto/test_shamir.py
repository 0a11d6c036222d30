"""Shamir's secret sharing: the published example, the field, and every k of n."""

from __future__ import annotations

import itertools
import random

import pytest

from crypto.shamir import PRIME, ShamirError, combine, split

# Wikipedia, "Shamir's secret sharing", section "Problem of using integer arithmetic" /
# finite field example: p = 1613, secret 1234, a1 = 166, a2 = 94, n = 6, k = 3.
WIKIPEDIA_SHARES = [(1, 1494), (2, 329), (3, 965), (4, 176), (5, 1188), (6, 775)]


def _is_probable_prime(n: int) -> bool:
    """Miller-Rabin with 40 fixed bases: wrong with probability below 4**-40."""
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    bases = random.Random(1).sample(range(2, 10**6), 40)  # noqa: S311 - fixed test bases
    for a in bases:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


class TestShamir:
    """Splitting and combining over a prime field."""

    def test_published_vector_splits_and_combines(self) -> None:
        """The Wikipedia example gives the same six shares, and any three give 1234."""
        assert split(1234, 3, 6, prime=1613, coefficients=[166, 94]) == WIKIPEDIA_SHARES
        for trio in itertools.combinations(WIKIPEDIA_SHARES, 3):
            assert combine(trio, prime=1613) == 1234

    def test_field_is_a_prime_just_below_two_to_the_256(self) -> None:
        """2**256 - 189 is prime (and 2**256 - 187, one off, is not)."""
        assert PRIME == 2**256 - 189
        assert _is_probable_prime(PRIME)
        assert not _is_probable_prime(2**256 - 187)

    def test_every_three_of_five_rebuilds_and_no_two_do(self) -> None:
        """All 10 triples give the secret; all 10 pairs give something else."""
        secret = random.Random(7).randrange(PRIME)  # noqa: S311 - reproducible test secret
        shares = split(secret, 3, 5)
        for trio in itertools.combinations(shares, 3):
            assert combine(trio) == secret
        for pair in itertools.combinations(shares, 2):
            assert combine(pair) != secret

    def test_bad_parameters_and_repeated_shares_are_refused(self) -> None:
        """K < 2, k > n, a secret outside the field, the same share twice."""
        with pytest.raises(ShamirError):
            split(1, 1, 5)
        with pytest.raises(ShamirError):
            split(1, 4, 3)
        with pytest.raises(ShamirError):
            split(PRIME, 2, 3)
        shares = split(5, 2, 3)
        with pytest.raises(ShamirError):
            combine([shares[0], shares[0]])
