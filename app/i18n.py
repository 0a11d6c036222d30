"""Translations: the viewer's language per request, gettext for code and templates, Babel formats.

Message ids are English; Vietnamese is the default language. Catalogues live in
``app/locale/<lang>/LC_MESSAGES/messages.po`` and are compiled to ``.mo`` when the package is
installed (``make install``, or the setuptools build step in ``setup.py``); ``make messages``
extracts new strings. See CONTRIBUTING.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel import dates, numbers
from babel.support import NullTranslations, Translations
from starlette.requests import HTTPConnection

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
# Vietnamese first: the order of the switch on every page.
LOCALES: tuple[str, ...] = ("vi", "en")
DEFAULT_LOCALE = "vi"
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
LANG_COOKIE = "phieukin_lang"

_current: ContextVar[str] = ContextVar("phieukin_locale", default=DEFAULT_LOCALE)


class CatalogueMissing(RuntimeError):
    """A compiled catalogue is absent: the package was installed without its build step."""


@cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalogue of ``locale`` (loaded once per process)."""
    mo = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not mo.is_file():
        raise CatalogueMissing(
            f"{mo} is missing: run `make install` (or `pip install .`), which compiles it."
        )
    return Translations.load(str(LOCALE_DIR), [locale], DOMAIN)


def current_locale() -> str:
    """The language of the request being served (Vietnamese outside a request)."""
    return _current.get()


def set_locale(locale: str) -> None:
    """Use ``locale`` for the rest of this context (the CLI, a test, a background task)."""
    _current.set(normalise(locale))


def normalise(value: str | None) -> str:
    """A supported language code, or the default."""
    value = (value or "").strip().lower()[:8]
    return value if value in LOCALES else DEFAULT_LOCALE


def gettext(message: str) -> str:
    """``message`` (an English msgid) in the current language."""
    return translations(current_locale()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, in the current language."""
    return translations(current_locale()).ngettext(singular, plural, n)


def has_translation(message: str) -> bool:
    """Whether the current language has its own text for ``message`` (English always does)."""
    if current_locale() == "en":
        return True
    catalog: Any = translations(current_locale())
    return bool(getattr(catalog, "_catalog", {}).get(message))


_ = gettext


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet (module-level constants)."""
    return message


def format_date(value: date | datetime | None, fmt: str = "medium") -> str:
    """A date in the viewer's locale ('' for None)."""
    if value is None:
        return ""
    return dates.format_date(value, format=fmt, locale=current_locale())


def format_datetime(value: datetime | None, fmt: str = "medium") -> str:
    """A date and time in the viewer's locale ('' for None)."""
    if value is None:
        return ""
    return dates.format_datetime(value, format=fmt, locale=current_locale())


def format_number(value: int | float | None) -> str:
    """An integer or a decimal with the viewer's separators ('' for None)."""
    if value is None:
        return ""
    return numbers.format_decimal(value, locale=current_locale())


def format_percent(value: float | None) -> str:
    """A fraction (0.42) as a percentage in the viewer's locale."""
    if value is None:
        return ""
    return numbers.format_percent(value, locale=current_locale())


def request_locale(conn: HTTPConnection) -> str:
    """The viewer's language: the cookie set by the switch, else Vietnamese."""
    return normalise(conn.cookies.get(LANG_COOKIE))


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class LocaleMiddleware:
    """Sets the request's language for gettext, templates and error handlers."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request with its language in the context."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        token = _current.set(request_locale(HTTPConnection(scope)))
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)
