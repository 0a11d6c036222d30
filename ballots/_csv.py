"""Reading uploaded CSV files all-or-nothing, with errors that name the line."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from ballots.errors import InvalidFile, InvalidInput, Problem

# Past this many problems a longer list helps nobody fix the file.
MAX_REPORTED_ERRORS = 50

# No cell of a units or heads file comes near this; a longer one is a wrong file, and the
# csv module's own limit (128 KiB) would otherwise fail without naming the line.
MAX_CELL_CHARS = 1000

# C0 controls other than tab and line breaks: PostgreSQL refuses NUL, SQLite stores it;
# neither belongs in a name. Lone surrogates cannot be stored at all.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


@dataclass
class RowErrors:
    """Problems found in a file, each tied to a line number (the header is line 1)."""

    items: list[Problem] = field(default_factory=list)

    def problem(
        self, line: int, template: str, column: str | None = None, **params: object
    ) -> None:
        """Record one problem: an English template (a msgid) and its fields."""
        if len(self.items) < MAX_REPORTED_ERRORS:
            self.items.append(Problem(line, template, params, column))

    def raise_if_any(self, what: str) -> None:
        """Refuse the whole file when anything was wrong."""
        if self.items:
            raise InvalidFile(
                "{what}: {count} problem(s) found; nothing was imported.",
                params={"what": what, "count": len(self.items)},
                problems=self.items,
            )


def clean_text(value: str | None) -> str:
    """Trim and NFC-normalise, so 'Đức' typed on any keyboard compares equal."""
    return unicodedata.normalize("NFC", (value or "").strip())


def read_rows(
    data: bytes, *, required: Sequence[str], optional: Sequence[str] = (), what: str
) -> Iterator[tuple[int, dict[str, str]]]:
    """Decode ``data`` and yield (line number, row) with cleaned values; checks the header."""
    try:
        text = data.decode("utf-8-sig")  # spreadsheets on Windows add a byte-order mark
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            "{what}: the file is not UTF-8 text (byte {byte}); save it as CSV UTF-8.",
            params={"what": what, "byte": exc.start},
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        fieldnames = reader.fieldnames
    except csv.Error as exc:
        raise _malformed(what, 1, exc) from None
    header = [clean_text(h) for h in (fieldnames or [])]
    if not header:
        raise InvalidInput("{what}: the file is empty.", params={"what": what})
    for column in header:
        _check_cell(what, 1, column, column)
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in required and c not in optional]
    if missing or unknown:
        params = {"what": what, "required": ", ".join(required), "optional": ", ".join(optional)}
        header_errors = [{"line": 1, "missing": missing, "unknown": unknown}]
        if optional:
            raise InvalidInput(
                "{what}: line 1 (header) must name the columns {required} and may name {optional}.",
                params=params,
                errors=header_errors,
            )
        raise InvalidInput(
            "{what}: line 1 (header) must name the columns {required}.",
            params=params,
            errors=header_errors,
        )
    reader.fieldnames = header
    while True:
        # A record may span lines (a quoted line break); one that cannot be read is
        # named by the line it starts on.
        starts_at = reader.line_num + 1
        try:
            raw = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _malformed(what, starts_at, exc) from None
        line = reader.line_num
        if None in raw:  # more cells than header columns
            extra = Problem(line, "more cells than the header")
            raise InvalidFile(
                "{what}: line {line} has more cells than the header.",
                params={"what": what, "line": line},
                problems=[extra],
            )
        for column, value in raw.items():
            _check_cell(what, line, column, value or "")
        yield line, {k: clean_text(v) for k, v in raw.items()}


def _malformed(what: str, line: int, exc: csv.Error) -> InvalidInput:
    if "field larger than field limit" in str(exc):
        problem = Problem(line, "a cell is longer than {n} characters", {"n": MAX_CELL_CHARS})
    else:
        problem = Problem(line, "the line is not valid CSV (quotes or separators)")
    return InvalidFile(
        "{what}: line {line} cannot be read as CSV.",
        params=dict(what=what, line=line),  # noqa: C408 (a dict literal here confuses the extractor)
        problems=[problem],
    )


def _check_cell(what: str, line: int, column: str, value: str) -> None:
    """Refuse a cell that is too long or holds a control character, naming line and column."""
    name = _FORBIDDEN.sub("?", column)[:100]
    problem = None
    if len(value) > MAX_CELL_CHARS:
        problem = Problem(
            line, "the cell is longer than {n} characters", {"n": MAX_CELL_CHARS}, name
        )
    else:
        match = _FORBIDDEN.search(value)
        if match is not None:
            code = f"{ord(match.group()):04X}"
            problem = Problem(
                line, "the cell contains a control character (U+{code})", {"code": code}, name
            )
    if problem is not None:
        raise InvalidFile(
            "{what}: line {line}, column {column}: the cell is refused.",
            params=dict(what=what, line=line, column=name),  # noqa: C408 (as above)
            problems=[problem],
        )
