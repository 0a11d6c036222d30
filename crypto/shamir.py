"""Shamir's secret sharing over a prime field: k of n shares rebuild the secret.

The secret is an integer below :data:`PRIME`. A random polynomial of degree k - 1 whose
constant term is the secret is evaluated at x = 1..n; each (x, f(x)) is a share. Any k
shares give f(0) by Lagrange interpolation; k - 1 shares say nothing about it, since for
every candidate secret exactly one polynomial through them exists (Shamir, "How to share
a secret", CACM 22(11), 1979).

The field is the integers modulo 2**256 - 189, the largest prime below 2**256, so that a
round key's 256-bit seed fits and a share is 256 bits: 52 symbols to type.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

__all__ = ["PRIME", "ShamirError", "combine", "split"]

PRIME = 2**256 - 189


class ShamirError(ValueError):
    """Parameters or shares that cannot work."""


def _evaluate(coefficients: Sequence[int], x: int, prime: int) -> int:
    """Horner's rule, highest degree first."""
    value = 0
    for c in reversed(coefficients):
        value = (value * x + c) % prime
    return value


def split(
    secret: int,
    needed: int,
    shares: int,
    *,
    prime: int = PRIME,
    coefficients: Sequence[int] | None = None,
) -> list[tuple[int, int]]:
    """Split ``secret`` into ``shares`` points (x, y), any ``needed`` of which rebuild it.

    ``coefficients`` (a_1 .. a_{k-1}) are drawn from :mod:`secrets` unless given, which
    only the published test vectors do.
    """
    if not 2 <= needed <= shares:
        raise ShamirError("need 2 <= k <= n")
    if shares >= prime:
        raise ShamirError("more shares than field elements")
    if not 0 <= secret < prime:
        raise ShamirError("the secret must lie in the field")
    if coefficients is None:
        coefficients = [secrets.randbelow(prime) for _ in range(needed - 1)]
    if len(coefficients) != needed - 1:
        raise ShamirError("a polynomial of degree k - 1 has k - 1 random coefficients")
    poly = [secret, *coefficients]
    return [(x, _evaluate(poly, x, prime)) for x in range(1, shares + 1)]


def combine(points: Sequence[tuple[int, int]], *, prime: int = PRIME) -> int:
    """Rebuild f(0) from distinct points; with fewer than k points the result is noise."""
    xs = [x for x, _ in points]
    if len(set(xs)) != len(xs):
        raise ShamirError("the same share twice")
    if any(not 0 < x < prime for x in xs) or any(not 0 <= y < prime for _, y in points):
        raise ShamirError("a share lies outside the field")
    secret = 0
    for i, (xi, yi) in enumerate(points):
        numerator, denominator = 1, 1
        for j, xj in enumerate(xs):
            if i != j:
                numerator = numerator * -xj % prime
                denominator = denominator * (xi - xj) % prime
        secret = (secret + yi * numerator * pow(denominator, -1, prime)) % prime
    return secret
