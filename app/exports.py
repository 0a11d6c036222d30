"""The results aggregates as CSV and Excel (.xlsx): one row per subject, never a ballot.

Vietnamese headers and role names by default, English with ``lang="en"``. Below the
anonymity threshold a row carries no number, as everywhere else (``ballots.reports``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Literal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from app.i18n import N_, translations
from ballots import reports, rounds
from ballots.accounts import User
from ballots.questionnaire import parse_questionnaire

Lang = Literal["vi", "en"]
Cell = str | int | float | None

COLUMNS: dict[str, str] = {
    "unit_code": N_("Unit code"),
    "unit_name": N_("Unit"),
    "role": N_("Head's role"),
    "full_name": N_("Full name"),
    "ballots": N_("Ballots"),
    "mean": N_("Overall mean"),
}
BELOW_K = N_("Not enough ballots to keep answers anonymous (at least {k} needed)")
NOTE = N_("Note")
SHEET = N_("Results")


@dataclass(frozen=True)
class ResultsTable:
    """Headers and rows of a round's results, in one language."""

    title: str
    headers: list[str]
    rows: list[list[Cell]]
    mean_columns: range  # where the means are, to format them as numbers


def results_table(db: Session, round_id: int, *, viewer: User, lang: Lang) -> ResultsTable:
    """Every subject of a closed round (the view is audit-logged by the service)."""
    rows = reports.round_results(db, round_id, viewer=viewer)
    round_ = rounds.get_round(db, round_id)
    q = parse_questionnaire(round_.questionnaire)
    tr = translations(lang).gettext
    criteria = [c.vi if lang == "vi" else c.en for c in q.criteria]
    headers = [tr(COLUMNS[key]) for key in COLUMNS] + criteria + [tr(NOTE)]
    below = tr(BELOW_K).format(k=round_.anonymity_threshold)
    table: list[list[Cell]] = []
    for r in rows:
        label = q.roles[r.role]
        means: list[Cell] = (
            [round(m, 2) if m is not None else None for m in r.criterion_means]
            if r.criterion_means
            else [None] * len(criteria)
        )
        table.append(
            [
                r.unit_code,
                r.unit_name,
                label.vi if lang == "vi" else label.en,
                r.full_name,
                r.ballots if r.enough else None,
                round(r.overall_mean, 2) if r.overall_mean is not None else None,
                *means,
                "" if r.enough else below,
            ]
        )
    first_mean = list(COLUMNS).index("mean")
    return ResultsTable(
        title=round_.title,
        headers=headers,
        rows=table,
        mean_columns=range(first_mean, first_mean + 1 + len(criteria)),
    )


def to_csv(table: ResultsTable) -> str:
    """CSV with a BOM, so spreadsheets read the Vietnamese as UTF-8; means with a dot."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow(
            [
                ""
                if cell is None
                else f"{cell:.2f}"
                if isinstance(cell, float) and i in table.mean_columns
                else cell
                for i, cell in enumerate(row)
            ]
        )
    return "\ufeff" + buffer.getvalue()


def to_xlsx(table: ResultsTable, lang: Lang) -> bytes:
    """One sheet: a bold, frozen header row with filters; numbers stored as numbers."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = translations(lang).gettext(SHEET)
    sheet.append(table.headers)
    for row in table.rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for column in table.mean_columns:
        for (cell,) in sheet.iter_rows(
            min_row=2, min_col=column + 1, max_col=column + 1, max_row=sheet.max_row
        ):
            cell.number_format = "0.00"
    widths = [14, 28, 24, 24, 10] + [14] * len(table.mean_columns) + [40]
    for i, width in enumerate(widths[: len(table.headers)], start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    book.properties.title = table.title
    book.properties.creator = "Phiếu Kín"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
