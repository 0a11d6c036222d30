"""Catalogue upkeep: extract msgids, update the .po files, compile them to .mo.

Imports Babel only, so that ``setup.py`` can compile the catalogues while the package is
being built, before its dependencies are installed. Run as ``python -m app.i18n_catalog
extract|compile`` (``make messages`` / ``make install``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "app" / "locale"
LOCALES = ("vi", "en")
DOMAIN = "messages"
SOURCES = ("app", "ballots")
METHOD_MAP = [
    ("**/templates/**.html", "jinja2"),
    ("**.py", "python"),
]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}}
# ballots/ knows nothing of gettext: its domain errors carry English message templates,
# extracted by the name of the error class they are given to.
ERROR_CLASSES = (
    "DomainError",
    "NotFound",
    "InvalidInput",
    "InvalidFile",
    "InvalidState",
    "AlreadyExists",
    "AuthenticationFailed",
    "TooManyAttempts",
    "PermissionDenied",
    "SharesRefused",
    "BoxesUnopened",
)
KEYWORDS: dict[str, tuple[int, ...] | None] = {
    "_": None,
    "gettext": None,
    "N_": None,
    "ngettext": (1, 2),
    "problem": (2,),  # RowErrors.problem(line, template, ...) and Problem(line, template)
    "Problem": (2,),
    "require_draft": (2,),  # the action named in "Cannot {action}: ..."
    **dict.fromkeys(ERROR_CLASSES, (1,)),
}


def extracted() -> Iterator[tuple[str, str, int]]:
    """(msgid, file, line) for every marked string in the sources."""
    for source in SOURCES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / source,
            method_map=METHOD_MAP,
            options_map=OPTIONS,
            keywords=KEYWORDS,
            comment_tags=("Translators:",),
            strip_comment_tags=True,
        ):
            ids = message if isinstance(message, tuple) else (message,)
            for msgid in ids:
                if msgid:
                    yield msgid, f"{source}/{filename}", lineno


def template() -> Catalog:
    """A fresh catalogue of every msgid in the sources."""
    catalog = Catalog(project="phieukin", domain=DOMAIN)
    for msgid, path, line in extracted():
        catalog.add(msgid, locations=[(path, line)])
    return catalog


def po_path(locale: str) -> Path:
    """Where the catalogue of ``locale`` lives in the repository."""
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(locale: str) -> Catalog:
    """The committed catalogue of ``locale``."""
    with po_path(locale).open("rb") as f:
        return read_po(f, locale=locale, domain=DOMAIN)


def update() -> None:
    """Add new msgids to every catalogue, drop unused ones, keep translations."""
    fresh = template()
    for locale in LOCALES:
        path = po_path(locale)
        if path.exists():
            catalog = read_catalog(locale)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=locale, domain=DOMAIN, project="phieukin")
        created = catalog.creation_date
        catalog.update(fresh, no_fuzzy_matching=True)
        # Keep the header's date and leave line numbers out, so that an extraction only
        # changes the files when a message really came or went.
        catalog.creation_date = created
        catalog.obsolete.clear()
        catalog.fuzzy = False
        with path.open("wb") as f:
            write_po(
                f,
                catalog,
                width=100,
                sort_output=True,
                include_previous=False,
                include_lineno=False,
            )


def compile_all() -> list[Path]:
    """Compile every .po to its .mo beside it; returns the files written."""
    written = []
    for locale in LOCALES:
        catalog = read_catalog(locale)
        mo = po_path(locale).with_suffix(".mo")
        with mo.open("wb") as f:
            write_mo(f, catalog, use_fuzzy=False)
        written.append(mo)
    return written


def main(argv: list[str]) -> int:
    """``extract`` updates the .po files; ``compile`` writes the .mo files."""
    command = argv[1] if len(argv) > 1 else ""
    if command == "extract":
        update()
    elif command == "compile":
        for path in compile_all():
            print(f"compiled {path.relative_to(ROOT)}")
    else:
        print("usage: python -m app.i18n_catalog extract|compile", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
