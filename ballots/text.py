"""A marker for English text that the web edge translates (ballots/ knows nothing of gettext)."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark ``message`` for the translation catalogues; returns it unchanged."""
    return message
