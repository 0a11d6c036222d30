"""A subject's report as an A4 PDF: reportlab platypus, DejaVu fonts, vector bars."""

from __future__ import annotations

import functools
import io
import unicodedata
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from app.i18n import gettext
from app.web.charts import FILLS, NO_OPINION_FILL, fmt_mean
from ballots.reports import CriterionResult, SubjectReport
from ballots.slips import FONTS_DIR

SANS, BOLD = "PhieuKin-Report-Sans", "PhieuKin-Report-Bold"
MARGIN = 18 * mm
DARK = ("#1b5e20", "#c62828")


@functools.cache
def _register_fonts() -> None:
    """DejaVu has every precomposed Vietnamese letter; the standard PDF fonts do not."""
    pdfmetrics.registerFont(TTFont(SANS, str(FONTS_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONTS_DIR / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(SANS, normal=SANS, bold=BOLD, italic=SANS, boldItalic=BOLD)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text (escaped; line breaks kept)."""
    return Paragraph(escape(_nfc(text)).replace("\n", "<br/>"), style)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=SANS, fontSize=10, leading=14)
    return {
        "body": base,
        "muted": ParagraphStyle(
            "muted", parent=base, fontSize=8.5, leading=12, textColor=colors.HexColor("#555555")
        ),
        "kicker": ParagraphStyle(
            "kicker", parent=base, fontSize=9, textColor=colors.HexColor("#8b0000")
        ),
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=17, leading=22),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=BOLD,
            fontSize=12.5,
            leading=17,
            spaceBefore=10,
            spaceAfter=4,
        ),
        "h3": ParagraphStyle(
            "h3", parent=base, fontName=BOLD, fontSize=10, leading=13, spaceBefore=6, spaceAfter=2
        ),
        "comment": ParagraphStyle(
            "comment", parent=base, leftIndent=10, bulletIndent=0, spaceAfter=3
        ),
    }


class _CriterionBars(Flowable):  # type: ignore[misc]
    """Stacked bar with counts and legend, then the head's and the district's mean in lanes."""

    def __init__(self, c: CriterionResult, scale: dict[int, str], no_opinion: str) -> None:
        super().__init__()
        self.scale = scale
        self.segments = [
            (scale[v], c.counts.get(v, 0), FILLS.get(v, "#888888"))
            for v in sorted(scale, reverse=True)
        ] + [(no_opinion, c.no_opinion, NO_OPINION_FILL)]
        self.mean, self.district = c.mean, c.district_mean
        self.width, self.height = 0.0, 33 * mm

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:  # noqa: ARG002 - reportlab's signature
        self.width = avail_width
        return self.width, self.height

    def _x(self, value: float) -> float:
        left, right = 24 * mm, float(self.width) - 6 * mm
        return float(left + (min(max(value, 1.0), 4.0) - 1) * (right - left) / 3)

    def draw(self) -> None:
        top = self.height
        self._bar(top - 6 * mm, 6 * mm)
        self._legend(top - 10.5 * mm)
        self._scale(top - 16 * mm, top - 32 * mm)
        self._lane("Đồng chí", self.mean, top - 21 * mm, filled=True)
        self._lane("TB quận", self.district, top - 28 * mm, filled=False)

    def _bar(self, y: float, h: float) -> None:
        canvas, x = self.canv, 0.0
        total = sum(n for _, n, _ in self.segments) or 1
        canvas.setStrokeColor(colors.HexColor("#666666"))
        canvas.rect(0, y, self.width, h, stroke=1, fill=0)
        for _, n, fill in self.segments:
            if not n:
                continue
            w = self.width * n / total
            canvas.setFillColor(colors.HexColor(fill))
            canvas.setStrokeColor(colors.white)
            canvas.rect(x, y, w, h, stroke=1, fill=1)
            if w >= 5 * mm:
                canvas.setFillColor(colors.white if fill in DARK else colors.black)
                canvas.setFont(BOLD, 8)
                canvas.drawCentredString(x + w / 2, y + 2 * mm, str(n))
            x += w

    def _legend(self, y: float) -> None:
        canvas, x = self.canv, 0.0
        for label, n, fill in self.segments:
            text = _nfc(f"{label}: {n}")
            canvas.setFillColor(colors.HexColor(fill))
            canvas.setStrokeColor(colors.HexColor("#666666"))
            canvas.rect(x, y - 0.3 * mm, 2.6 * mm, 2.6 * mm, stroke=1, fill=1)
            canvas.setFillColor(colors.black)
            canvas.setFont(SANS, 7.5)
            canvas.drawString(x + 3.6 * mm, y, text)
            x += 3.6 * mm + pdfmetrics.stringWidth(text, SANS, 7.5) + 4 * mm

    def _scale(self, y: float, bottom: float) -> None:
        canvas = self.canv
        canvas.setFont(SANS, 7)
        for v in (1, 2, 3, 4):
            x = self._x(v)
            canvas.setStrokeColor(colors.HexColor("#cccccc"))
            canvas.line(x, y - 1.5 * mm, x, bottom)
            canvas.setFillColor(colors.HexColor("#444444"))
            canvas.drawCentredString(x, y, _nfc(f"{v} {self.scale.get(v, '')}"))

    def _lane(self, name: str, value: float | None, y: float, *, filled: bool) -> None:
        canvas, font = self.canv, BOLD if filled else SANS
        canvas.setFillColor(colors.black)
        canvas.setFont(font, 8)
        canvas.drawString(0, y - 1 * mm, _nfc(name))
        canvas.setStrokeColor(colors.HexColor("#999999"))
        canvas.line(self._x(1), y, self._x(4), y)
        if value is None:
            canvas.drawString(self._x(1) + 1 * mm, y + 1 * mm, "chưa có")
            return
        x, d = self._x(value), 1.8 * mm
        if filled:
            canvas.setFillColor(colors.HexColor("#8b0000"))
            canvas.circle(x, y, d, stroke=0, fill=1)
        else:
            path = canvas.beginPath()
            path.moveTo(x, y + d)
            path.lineTo(x + d, y)
            path.lineTo(x, y - d)
            path.lineTo(x - d, y)
            path.close()
            canvas.setFillColor(colors.white)
            canvas.setStrokeColor(colors.black)
            canvas.drawPath(path, stroke=1, fill=1)
        text = fmt_mean(value)
        w = pdfmetrics.stringWidth(text, font, 8)
        start = x - 3 * mm - w if x > self._x(4) - 12 * mm else x + 3 * mm
        canvas.setFillColor(colors.white)  # a halo, so the lane line does not cross the digits
        canvas.rect(start - 0.5 * mm, y - 1.6 * mm, w + 1 * mm, 3.4 * mm, stroke=0, fill=1)
        canvas.setFillColor(colors.black)
        canvas.setFont(font, 8)
        canvas.drawString(start, y - 1 * mm, text)


def _footer(canvas: Any, doc: Any) -> None:
    canvas.saveState()
    canvas.setFont(SANS, 7.5)
    canvas.setFillColor(colors.HexColor("#555555"))
    canvas.drawString(MARGIN, 10 * mm, "Phiếu Kín · kết quả tổng hợp, không chứa phiếu riêng lẻ")
    canvas.drawRightString(A4[0] - MARGIN, 10 * mm, f"Trang {doc.page}")
    canvas.restoreState()


def render_report_pdf(
    report: SubjectReport,
    *,
    role_label: str,
    no_opinion_label: str,
    comment_groups: Sequence[tuple[str, Sequence[str]]],
    trend: Sequence[tuple[int, str, float | None]],
) -> bytes:
    """The report on A4; below the threshold, only the "not enough ballots" sentence."""
    _register_fonts()
    s = _styles()
    story: list[Flowable] = [
        _p("KẾT QUẢ TỔNG HỢP Ý KIẾN GÓP Ý BẰNG PHIẾU KÍN", s["kicker"]),
        _p(report.full_name, s["title"]),
        _p(f"{role_label} · {report.unit_name}", s["body"]),
        _p(round_line(report.round_title, report.year), s["muted"]),
        Spacer(1, 5 * mm),
    ]
    if not report.enough:
        story.append(_p(not_enough_sentence(report.threshold), s["body"]))
    else:
        story += _results(report, s, no_opinion_label, comment_groups, trend)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=_nfc(f"Kết quả tổng hợp - {report.full_name}"),
        author="Phiếu Kín",
    )
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue()


def round_line(title: str, year: int) -> str:
    """The round's title, with its year unless the title already says it."""
    return (
        title
        if str(year) in title
        else gettext("{title} (year {year})").format(title=title, year=year)
    )


def not_enough_sentence(k: int) -> str:
    """What a report below the threshold says, and all it says."""
    return gettext("Not enough ballots to keep them anonymous (at least {k} are needed).").format(
        k=k
    )


def comments_withheld_sentence(c: int) -> str:
    """Why comments are not shown."""
    return gettext("Written comments are shown only from {c} ballots up.").format(c=c)


def _results(
    report: SubjectReport,
    s: dict[str, ParagraphStyle],
    no_opinion_label: str,
    comment_groups: Sequence[tuple[str, Sequence[str]]],
    trend: Sequence[tuple[int, str, float | None]],
) -> list[Flowable]:
    district = fmt_mean(report.district_overall_mean) or "chưa có"
    story: list[Flowable] = [
        _p(f"Số phiếu: {report.ballots}", s["body"]),
        _p(
            f"Điểm trung bình chung: {fmt_mean(report.overall_mean) or 'chưa có'} "
            f"(trung bình của quận, cùng chức danh: {district})",
            s["body"],
        ),
        _p(
            "Thang điểm: "
            + ", ".join(f"{v} = {label}" for v, label in report.scale.items())
            + f". «{no_opinion_label}» không tính vào điểm trung bình. Trên mỗi biểu đồ: "
            "chấm đỏ là điểm của đồng chí, hình thoi là trung bình của quận, cùng chức danh.",
            s["muted"],
        ),
        _p("Theo từng tiêu chí", s["h2"]),
    ]
    for i, c in enumerate(report.criteria or [], start=1):
        story.append(
            KeepTogether(
                [
                    _p(f"{i}. {c.label_vi}", s["h3"]),
                    _CriterionBars(c, report.scale, no_opinion_label),
                ]
            )
        )
    story.append(_p("Ý kiến viết", s["h2"]))
    if report.comments is None:
        story.append(_p(comments_withheld_sentence(report.comment_threshold), s["body"]))
    elif not comment_groups:
        story.append(_p("Không có ý kiến viết.", s["body"]))
    for label, texts in comment_groups:
        story.append(_p(label, s["h3"]))
        story += [
            Paragraph(escape(_nfc(t)).replace("\n", "<br/>"), s["comment"], bulletText="•")
            for t in texts
        ]
    story.append(_p("Qua các đợt", s["h2"]))
    rows = [["Năm", "Đợt lấy ý kiến", "Điểm TB chung"]] + [
        [str(year), _p(title, s["body"]), fmt_mean(mean) if mean is not None else "chưa đủ phiếu"]
        for year, title, mean in trend
    ]
    table = Table(rows, colWidths=[18 * mm, None, 32 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), SANS, 9.5),
                ("FONT", (0, 0), (-1, 0), BOLD, 9.5),
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, colors.HexColor("#cccccc")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story.append(table)
    return story
