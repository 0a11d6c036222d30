"""Print-ready QR slips: one A4 PDF holding a batch of tokens, ten slips a page.

Pure rendering: tokens in, PDF bytes out; no database, no files written, nothing
logged. The plain tokens exist only in the returned bytes (DESIGN.md, invariant 2).

Each slip carries the unit's name, the round's title, the heading, two lines of
instructions, where to check the receipt once the round ends, the QR code of
``<BASE URL>/V#<TOKEN>`` and the token's short code for typing by hand. Slips are
shuffled with the operating system's random source so that the order on paper says
nothing about the order in which tokens were issued.

Speed (10,000 slips in under 10 s, docs/PERFORMANCE.md): the text that every slip
shares is drawn once, as a PDF form, and placed on each slip by reference; each QR
code comes from crypto.qr's precomputed tables, packed eight modules to a byte, and
is one filled path of rectangles, one per horizontal run of dark modules, written in
module units under a scaling transform so that its coordinates are small integers.
The render runs in the calling thread: a pool of worker processes was measured and
cost more to start than it saved (docs/PERFORMANCE.md).
"""

from __future__ import annotations

import functools
import io
import re
import secrets
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from crypto.qr import qr_rows, qr_version
from crypto.tokens import format_token

__all__ = ["SLIPS_PER_PAGE", "render_slips_pdf"]

FONTS_DIR = Path(__file__).parent / "fonts"
_SANS = "PhieuKin-DejaVuSans"
_BOLD = "PhieuKin-DejaVuSans-Bold"
_MONO = "PhieuKin-DejaVuSansMono"
# For other printed pages of the project (share sheets) that use the same fonts.
SANS_FONT, BOLD_FONT, MONO_FONT = _SANS, _BOLD, _MONO

HEADING = "Phiếu lấy ý kiến"
SCAN_INSTRUCTION = "Quét mã QR bằng camera điện thoại để mở trang bỏ phiếu."
MANUAL_INSTRUCTION = "Không quét được? Mở trang {url} và nhập mã dưới đây."
RECEIPT_INSTRUCTION = "Khi đợt kết thúc, kiểm tra mã xác nhận tại {url}."
CODE_LABEL = "Mã phiếu:"

PAGE_WIDTH, PAGE_HEIGHT = (float(v) for v in A4)
COLUMNS, ROWS = 2, 5
SLIPS_PER_PAGE = COLUMNS * ROWS
# Most office printers cannot print within about 5 mm of the paper's edge.
PAGE_MARGIN = 8 * mm
SLIP_WIDTH = (PAGE_WIDTH - 2 * PAGE_MARGIN) / COLUMNS  # 97 mm
SLIP_HEIGHT = (PAGE_HEIGHT - 2 * PAGE_MARGIN) / ROWS  # 56.2 mm
PADDING = 3 * mm
# The QR code with its 4-module quiet zone. Phone cameras need the quiet zone to
# find the code, so nothing is printed inside this square but the symbol.
QR_BOX_MAX = 42 * mm
QUIET_MODULES = 4
# A symbol narrower than this is hard to scan from a slip held at arm's length.
QR_SYMBOL_MIN = 28 * mm
CODE_BAND = 12.5  # points below the QR box for the short code
CODE_SIZE = 10.0
LABEL_SIZE = 7.5
LABEL_GAP = 5.0

_RUNS = re.compile(rb"1+")


@dataclass(frozen=True)
class _Line:
    """One line of text that every slip of a batch shares."""

    text: str
    font: str
    size: float
    x: float
    y: float
    gray: float = 0.0


@dataclass(frozen=True)
class _Layout:
    """A batch's slip design, in points from the slip's lower left corner."""

    lines: tuple[_Line, ...]
    module: float
    qr_x: float  # left edge of the symbol
    qr_y: float  # top edge of the symbol: PDF y points up, QR rows run down
    code_x: float
    code_y: float


@functools.cache
def register_fonts() -> None:
    """Register the bundled DejaVu fonts with reportlab once per process."""
    # The standard PDF fonts have no "ế" or "Đ"; DejaVu has every precomposed
    # Vietnamese letter. Parsing the TTF files is slow, so it happens once.
    for name, filename in (
        (_SANS, "DejaVuSans.ttf"),
        (_BOLD, "DejaVuSans-Bold.ttf"),
        (_MONO, "DejaVuSansMono.ttf"),
    ):
        pdfmetrics.registerFont(TTFont(name, str(FONTS_DIR / filename)))


@contextmanager
def _binary_streams() -> Iterator[None]:
    """Write compressed streams as binary, not ASCII85, while a document is built."""
    # reportlab's ASCII85 encoder is pure Python: for 10,000 slips it cost about
    # 1 s and made the file a quarter bigger, for a 7-bit safety no one needs now.
    # The setting is global and read while the PDF is written, so it is set for
    # the duration and put back; a concurrent render that sees either value still
    # writes a valid PDF.
    saved = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = saved


def _width(text: str, font: str, size: float) -> float:
    """Return the printed width of text in points."""
    return float(pdfmetrics.stringWidth(text, font, size))


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Break text into lines no wider than width, splitting over-long words."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if _width(candidate, font, size) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        # A long URL may not fit on a line of its own: break it between characters.
        while _width(word, font, size) > width:
            cut = len(word) - 1
            while cut > 1 and _width(word[:cut], font, size) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines


def _plan(round_title: str, unit_name: str, base: str, version: int) -> _Layout:
    """Lay out a slip: unit name on top, QR code left of the text, short code below."""
    modules = 17 + 4 * version
    # Unit name across the full width, on one line if a size down to 7 pt allows:
    # a name broken over two lines is harder to read and to search for in the PDF.
    header_x = PADDING
    header_width = SLIP_WIDTH - 2 * PADDING
    for unit_size in (10.0, 9.0, 8.0, 7.0):
        unit_lines = _wrap(unit_name, _BOLD, unit_size, header_width)
        if len(unit_lines) == 1:
            break
    unit_leading = unit_size * 1.2
    header_height = len(unit_lines) * unit_leading + 2

    space = SLIP_HEIGHT - 2 * PADDING - header_height - CODE_BAND
    box = min(QR_BOX_MAX, space)
    module = box / (modules + 2 * QUIET_MODULES)
    if module * modules < QR_SYMBOL_MIN:
        raise ValueError(
            "the QR code would print narrower than 28 mm: shorten the unit name or base URL"
        )
    box_top = SLIP_HEIGHT - PADDING - header_height - (space - box) / 2
    qr_x = PADDING + QUIET_MODULES * module
    qr_y = box_top - QUIET_MODULES * module

    lines: list[_Line] = []
    y = SLIP_HEIGHT - PADDING
    for text in unit_lines:
        y -= unit_leading
        lines.append(_Line(text, _BOLD, unit_size, header_x, y + unit_size * 0.22))

    # Beside the code: round title, heading, instructions, top-aligned with the
    # symbol. Long titles shrink the text a step at a time rather than run into the
    # short code; text that still does not fit is an input error.
    column_x = PADDING + box + 1.5 * mm
    column_width = SLIP_WIDTH - column_x - PADDING
    blocks = [
        (round_title, _SANS, 7.5, 9.0, 3.0, 0.25),
        (HEADING, _BOLD, 12.0, 14.5, 2.5, 0.0),
        (SCAN_INSTRUCTION, _SANS, 7.0, 8.6, 1.5, 0.0),
        (MANUAL_INSTRUCTION.format(url=f"{base}/v"), _SANS, 7.0, 8.6, 1.5, 0.0),
        (RECEIPT_INSTRUCTION.format(url=f"{base}/receipt"), _SANS, 6.5, 8.0, 0.0, 0.3),
    ]
    column_top = qr_y + 2
    column_bottom = PADDING + CODE_BAND
    for scale in (1.0, 0.9, 0.8, 0.7):
        column: list[_Line] = []
        y = column_top
        for text, font, size, leading, gap, gray in blocks:
            for line in _wrap(text, font, size * scale, column_width):
                y -= leading * scale
                column.append(
                    _Line(line, font, size * scale, column_x, y + 0.2 * leading * scale, gray)
                )
            y -= gap * scale
        if y >= column_bottom:
            break
    else:
        raise ValueError("round title too long to fit on a slip")
    lines.extend(column)

    # The short code, centred under the slip, monospaced so that its groups line
    # up and are easy to read out and type.
    label_width = _width(CODE_LABEL, _SANS, LABEL_SIZE) + LABEL_GAP
    code_width = _width(format_token("0" * 27), _MONO, CODE_SIZE)
    line_x = (SLIP_WIDTH - label_width - code_width) / 2
    code_y = PADDING + 2
    lines.append(_Line(CODE_LABEL, _SANS, LABEL_SIZE, line_x, code_y, 0.3))
    return _Layout(
        lines=tuple(lines),
        module=module,
        qr_x=qr_x,
        qr_y=qr_y,
        code_x=line_x + label_width,
        code_y=code_y,
    )


def _draw_form(canvas: Canvas, name: str, layout: _Layout) -> None:
    """Draw the text that every slip shares once, as a form placed on each slip."""
    canvas.beginForm(name, 0, 0, SLIP_WIDTH, SLIP_HEIGHT)
    for line in layout.lines:
        canvas.setFillGray(line.gray)
        canvas.setFont(line.font, line.size)
        canvas.drawString(line.x, line.y, line.text)
    canvas.endForm()


def _byte_path(y: int, x0: int, modules: int) -> str:
    """Return one rectangle per run of dark modules in the 8 modules of row y from x0."""
    bits = format(modules, "08b").encode("ascii")
    return "".join(
        f"{x0 + run.start()} {y} {run.end() - run.start()} 1 re\n" for run in _RUNS.finditer(bits)
    )


@functools.cache
def _byte_paths(y: int, index: int) -> tuple[str, ...]:
    """Return the path text of each of the 256 patterns of one byte of a packed row."""
    return tuple(_byte_path(y, index * 8, modules) for modules in range(256))


def _qr_path(size: int, rows: bytes) -> str:
    """Return PDF path operators covering every dark module, one rectangle per run.

    ``rows`` holds the modules packed eight to a byte, each row padded to whole bytes
    (crypto.qr.qr_rows).
    """
    # One rectangle per horizontal run, not per module, cuts the count about
    # fourfold. Runs are found within each byte of a row, 8 modules, whose text is
    # looked up: a byte holds one of only 256 patterns, so a code is 4 look-ups a
    # row instead of a regex match and string formatting (runs are cut at byte
    # edges, 7% more rectangles; the pieces lie in one path and fill as one).
    width = len(rows) // size
    return "".join(
        [
            _byte_paths(y, index)[rows[y * width + index]]
            for y in range(size)
            for index in range(width)
        ]
    )


def _draw_cut_lines(canvas: Canvas, rows_used: int) -> None:
    """Draw dashed cut lines around the slips of a page's used rows."""
    canvas.saveState()
    canvas.setStrokeGray(0.55)
    canvas.setLineWidth(0.4)
    canvas.setDash(3, 3)
    top = PAGE_HEIGHT - PAGE_MARGIN
    bottom = top - rows_used * SLIP_HEIGHT
    for column in range(COLUMNS + 1):
        x = PAGE_MARGIN + column * SLIP_WIDTH
        canvas.line(x, bottom, x, top)
    for row in range(rows_used + 1):
        y = top - row * SLIP_HEIGHT
        canvas.line(PAGE_MARGIN, y, PAGE_WIDTH - PAGE_MARGIN, y)
    canvas.restoreState()


def render_slips_pdf(
    tokens: Sequence[str],
    *,
    round_title: str,
    unit_name: str,
    base_url: str,
) -> bytes:
    """Return an A4 PDF with one shuffled QR slip per canonical token, ten a page."""
    if not tokens:
        raise ValueError("no tokens to print")
    if len(set(tokens)) != len(tokens):
        # Two slips with one token would let two voters share one ballot.
        raise ValueError("duplicate tokens in batch")
    register_fonts()
    # Decomposed input ("e" + combining accents) would print as loose marks;
    # DejaVu has every precomposed Vietnamese letter.
    round_title = unicodedata.normalize("NFC", round_title.strip())
    unit_name = unicodedata.normalize("NFC", unit_name.strip())
    base = base_url.strip().rstrip("/")

    order = list(tokens)
    secrets.SystemRandom().shuffle(order)

    layout = _plan(round_title, unit_name, base, qr_version(base))

    buffer = io.BytesIO()
    with _binary_streams():
        canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
        canvas.setTitle(f"{HEADING} – {unit_name}")
        canvas.setSubject(round_title)
        canvas.setCreator("Phiếu Kín")
        _draw_document(canvas, order, layout, base)
    return buffer.getvalue()


def _draw_document(canvas: Canvas, order: list[str], layout: _Layout, base: str) -> None:
    """Draw every slip, in the given order, ten a page, and finish the document."""
    qr_transform = (
        f"q 0 g {layout.module:.4f} 0 0 {-layout.module:.4f} "
        f"{layout.qr_x:.3f} {layout.qr_y:.3f} cm\n"
    )
    _draw_form(canvas, "slip", layout)
    for page_start in range(0, len(order), SLIPS_PER_PAGE):
        page = order[page_start : page_start + SLIPS_PER_PAGE]
        _draw_cut_lines(canvas, rows_used=(len(page) + COLUMNS - 1) // COLUMNS)
        canvas.setFont(_MONO, CODE_SIZE)
        canvas.setFillGray(0)
        for index, token in enumerate(page):
            row, column = divmod(index, COLUMNS)
            x = PAGE_MARGIN + column * SLIP_WIDTH
            y = PAGE_HEIGHT - PAGE_MARGIN - (row + 1) * SLIP_HEIGHT
            canvas.saveState()
            canvas.translate(x, y)
            canvas.doForm("slip")
            canvas.addLiteral(qr_transform + _qr_path(*qr_rows(base, token)) + "f\nQ")
            canvas.drawString(layout.code_x, layout.code_y, format_token(token))
            canvas.restoreState()
        canvas.showPage()
    canvas.save()
