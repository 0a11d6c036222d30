"""The anonymity thresholds: the one place their values are defined (invariant 6).

The round's k is chosen when it is created and frozen when it opens; these are its floor,
its usual value, and the stricter bar free-text comments must clear.
"""

from __future__ import annotations

# Below three ballots a "summary" is one person's answers; a round's k never goes lower.
MIN_ANONYMITY_THRESHOLD = 3

# The k a round gets when nobody chooses another.
DEFAULT_ANONYMITY_THRESHOLD = 5

# A comment can give its writer away by its wording, so comments need at least this many
# ballots even when k is lower.
MIN_COMMENT_BALLOTS = 5


def comment_threshold(k: int) -> int:
    """Ballots a subject needs before its comments are shown: max(k, 5)."""
    return max(k, MIN_COMMENT_BALLOTS)
