"""Reading uploaded CSV files all-or-nothing, with errors that name the line."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from ballots.errors import InvalidInput

# Past this many problems a longer list helps nobody fix the file.
MAX_REPORTED_ERRORS = 50


@dataclass
class RowErrors:
    """Problems found in a file, each tied to a line number (the header is line 1)."""

    items: list[dict[str, object]] = field(default_factory=list)

    def add(self, line: int, message: str, column: str | None = None) -> None:
        """Record one problem."""
        if len(self.items) < MAX_REPORTED_ERRORS:
            entry: dict[str, object] = {"line": line, "message": message}
            if column is not None:
                entry["column"] = column
            self.items.append(entry)

    def raise_if_any(self, what: str) -> None:
        """Refuse the whole file when anything was wrong."""
        if self.items:
            raise InvalidInput(
                f"{what}: {len(self.items)} problem(s) found; nothing was imported.",
                errors=self.items,
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
            f"{what}: the file is not UTF-8 text (byte {exc.start}); save it as CSV UTF-8."
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [clean_text(h) for h in (reader.fieldnames or [])]
    if not header:
        raise InvalidInput(f"{what}: the file is empty.")
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in required and c not in optional]
    if missing or unknown:
        raise InvalidInput(
            f"{what}: line 1 (header) must name the columns {', '.join(required)}"
            + (f" and may name {', '.join(optional)}" if optional else "")
            + ".",
            errors=[{"line": 1, "missing": missing, "unknown": unknown}],
        )
    reader.fieldnames = header
    for raw in reader:
        line = reader.line_num
        if None in raw:  # more cells than header columns
            raise InvalidInput(
                f"{what}: line {line} has more cells than the header.",
                errors=[{"line": line, "message": "more cells than the header"}],
            )
        yield line, {k: clean_text(v) for k, v in raw.items()}
