"""Checks shared by page tests: no English on a Vietnamese page."""

from __future__ import annotations

import html
import re
from functools import cache

from app.i18n_catalog import read_catalog

_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S)
_FIELD = re.compile(r"\{[^}]*\}|%\([a-z_]+\)s")


@cache
def english_phrases() -> tuple[str, ...]:
    """Fixed English stretches (3+ words) of every msgid whose Vietnamese text differs."""
    phrases: set[str] = set()
    for message in read_catalog("vi"):
        if not message.id or not isinstance(message.id, str) or message.string == message.id:
            continue
        for part in _FIELD.split(message.id):
            part = part.strip(" .,:;?!'\"-")
            if len(part.split()) >= 3:
                phrases.add(part)
    return tuple(sorted(phrases))


def page_text(markup: str) -> str:
    """What a reader sees: tags dropped, entities decoded, spaces folded."""
    return " ".join(html.unescape(_TAGS.sub(" ", markup)).split())


def english_on_page(markup: str) -> list[str]:
    """The catalogue's English phrases that a Vietnamese page still shows."""
    text = page_text(markup)
    return [p for p in english_phrases() if p in text]
