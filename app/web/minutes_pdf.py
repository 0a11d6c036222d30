"""The round's minutes (biên bản) as an A4 PDF to print, read out and sign."""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, SimpleDocTemplate, Spacer, Table, TableStyle

from app.web.report_pdf import BOLD, MARGIN, SANS, _nfc, _p, _register_fonts, _styles, round_line
from ballots.minutes import Minutes
from ballots.slips import FONTS_DIR

MONO = "PhieuKin-Minutes-Mono"
STATUS_VI = {"draft": "dự thảo", "open": "đang mở", "closed": "đã đóng", "published": "đã công bố"}
LEVEL_VI = {"kindergarten": "Mầm non", "primary": "Tiểu học", "lower_secondary": "THCS"}
STEPS = (
    ("round.opened", "Mở bỏ phiếu"),
    ("round.closed", "Đóng bỏ phiếu"),
    ("round.published", "Công bố kết quả"),
)
GRID = [
    ("FONT", (0, 0), (-1, -1), SANS, 8.5),
    ("FONT", (0, 0), (-1, 0), BOLD, 8.5),
    ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#888888")),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("ALIGN", (2, 1), (-1, -1), "RIGHT"),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
]


def _register_mono() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if MONO not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(MONO, str(FONTS_DIR / "DejaVuSansMono.ttf")))


def _mono_style(base: ParagraphStyle) -> ParagraphStyle:
    return ParagraphStyle("mono", parent=base, fontName=MONO, fontSize=8, leading=11)


def _slips_table(m: Minutes, s: dict[str, ParagraphStyle]) -> Table:
    head = ParagraphStyle("head", parent=s["small"], fontName=BOLD)
    labels = ["Mã", "Đơn vị", "Số người", "Đã phát", "Đã dùng", "Hủy", "Chưa dùng", "Phiếu kiểm"]
    rows: list[list[Any]] = [[_p(label, head) for label in labels]]
    for u in m.units:
        rows.append(
            [
                _p(u.code, s["code"]),
                _p(u.name, s["small"]),
                u.electorate,
                u.issued,
                u.used,
                u.voided,
                u.unused,
                u.ballots,
            ]
        )
    t = m.totals
    rows.append(
        [
            "",
            "Tổng cộng",
            t["electorate"],
            t["issued"],
            t["used"],
            t["voided"],
            t["unused"],
            t["ballots"],
        ]
    )
    table = Table(
        [[str(c) if isinstance(c, int) else c for c in row] for row in rows],
        colWidths=[34 * mm, None, 14 * mm, 13 * mm, 13 * mm, 12 * mm, 14 * mm, 14 * mm],
        repeatRows=1,
    )
    table.setStyle(TableStyle([*GRID, ("FONT", (0, -1), (-1, -1), BOLD, 8.5)]))
    return table


def _lottery(m: Minutes, s: dict[str, ParagraphStyle]) -> list[Flowable]:
    proof = m.lottery_proof
    if proof is None:
        return [_p("Đợt này không bốc thăm trường học.", s["body"])]
    mono = _mono_style(s["body"])
    story: list[Flowable] = [
        _p(f"Cụm từ công khai: «{proof['phrase']}»", s["body"]),
        _p(
            f"Số trường trong danh sách bốc thăm: {len(proof['pool'])}; "
            f"số trường cần bốc: "
            + ", ".join(f"{LEVEL_VI.get(k, k)} {v}" for k, v in proof["counts"].items()),
            s["body"],
        ),
        # Labels in the body font: the bundled monospace font has no Vietnamese letters
        # such as "ố", which it would print as empty boxes.
        _p("Mã băm danh sách (pool digest):", s["body"]),
        _p(proof["pool_digest"], mono),
        _p("Hạt giống (seed):", s["body"]),
        _p(proof["seed"], mono),
        _p(f"Thuật toán: {proof['algorithm_version']}; bốc lúc {proof['drawn_at']}", s["muted"]),
    ]
    if proof["excluded"]:
        story.append(_p("Loại khỏi danh sách: " + ", ".join(proof["excluded"]), s["body"]))
    if proof["reason"]:
        story.append(_p(f"Lý do bốc lại: {proof['reason']}", s["body"]))
    for level, codes in proof["chosen"].items():
        story.append(_p(f"{LEVEL_VI.get(level, level)}: {', '.join(codes)}", s["body"]))
    story.append(
        _p(
            f"Ai cũng kiểm tra lại được: phieukin lottery verify --round {m.round.id} "
            "(đặc tả: docs/LOTTERY.md).",
            s["muted"],
        )
    )
    return story


def _heads(m: Minutes, s: dict[str, ParagraphStyle]) -> list[Flowable]:
    mono = _mono_style(s["body"])
    story: list[Flowable] = []
    for action, label in STEPS:
        head = m.heads.get(action)
        if head is None:
            story.append(_p(f"{label}: chưa thực hiện.", s["body"]))
            continue
        at = head.at.replace("T", " ").split(".")[0].rstrip("Z")
        story.append(_p(f"{label} lúc {at} UTC, mốc nhật ký:", s["body"]))
        story.append(_p(head.written, mono))
    if m.ballots_counted is not None:
        story.append(
            _p(
                f"Số phiếu kiểm khi đóng: {m.ballots_counted}. Mã băm SHA-256 của danh sách "
                "mã xác nhận đã công bố:",
                s["body"],
            )
        )
        story.append(_p(m.receipts_sha256 or "", mono))
    story.append(
        _p(
            "Kiểm tra nhật ký so với một mốc ghi ở đây: phieukin audit verify --head SEQ:HASH, "
            "hoặc trang Nhật ký kiểm tra.",
            s["muted"],
        )
    )
    return story


def _voided(m: Minutes, s: dict[str, ParagraphStyle]) -> list[Flowable]:
    if not m.voided_batches:
        return [_p("Không có lô phiếu nào bị hủy.", s["body"])]
    rows: list[list[Any]] = [["Lô", "Đơn vị", "Số phiếu", "Chưa dùng bị hủy", "Lý do"]]
    rows += [
        [str(b.batch_id), b.unit_code, str(b.size), str(b.unused), _p(b.reason, s["small"])]
        for b in m.voided_batches
    ]
    table = Table(rows, colWidths=[12 * mm, 30 * mm, 18 * mm, 28 * mm, None], repeatRows=1)
    table.setStyle(TableStyle(GRID))
    return [table]


def _signatures(s: dict[str, ParagraphStyle]) -> Flowable:
    cell = ParagraphStyle("sign", parent=s["body"], alignment=1)
    hint = ParagraphStyle("hint", parent=s["muted"], alignment=1)
    table = Table(
        [
            [
                _p("ĐẠI DIỆN BAN THƯỜNG VỤ QUẬN ỦY", cell),
                _p("ĐẠI DIỆN GIÁM SÁT", cell),
            ],
            [_p("(ký, ghi rõ họ tên)", hint), _p("(Ủy ban MTTQ, Ủy ban Kiểm tra)", hint)],
            ["", ""],
            [_p("1. ....................................", s["body"]) for _ in "ab"],
            ["", ""],
            [_p("2. ....................................", s["body"]) for _ in "ab"],
        ],
        colWidths=["50%", "50%"],
        rowHeights=[None, None, 20 * mm, None, 20 * mm, None],
    )
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return KeepTogether([_p("Ký xác nhận", s["h2"]), table])


def _footer(canvas: Any, doc: Any) -> None:
    canvas.saveState()
    canvas.setFont(SANS, 7.5)
    canvas.setFillColor(colors.HexColor("#555555"))
    canvas.drawString(MARGIN, 10 * mm, "Phiếu Kín · biên bản đợt lấy ý kiến, chỉ có số đếm")
    canvas.drawRightString(A4[0] - MARGIN, 10 * mm, f"Trang {doc.page}")
    canvas.restoreState()


def render_minutes_pdf(m: Minutes) -> bytes:
    """The minutes on A4: slips per unit, lottery proof, audit heads, places to sign."""
    _register_fonts()
    _register_mono()
    s = _styles()
    s["small"] = ParagraphStyle("small", parent=s["body"], fontSize=8.5, leading=11)
    s["code"] = ParagraphStyle("code", parent=s["body"], fontSize=7, leading=9)
    s["h2"].keepWithNext = True
    r = m.round
    status = STATUS_VI.get(r.status.value, r.status.value)
    story: list[Flowable] = [
        _p("BIÊN BẢN ĐỢT LẤY Ý KIẾN GÓP Ý BẰNG PHIẾU KÍN", s["kicker"]),
        _p(round_line(r.title, r.year), s["title"]),
        _p(
            f"{r.plan_reference + ' · ' if r.plan_reference else ''}Đợt số {r.id} · "
            f"trạng thái: {status} · ngưỡng ẩn danh k = {r.anonymity_threshold}",
            s["body"],
        ),
        _p(f"Lập lúc {m.generated_at:%Y-%m-%d %H:%M} UTC.", s["muted"]),
    ]
    if not m.closed:
        story.append(_p("Đợt chưa đóng: các số dưới đây chưa phải số cuối cùng.", s["kicker"]))
    story += [
        _p("1. Phiếu theo đơn vị", s["h2"]),
        _slips_table(m, s),
        _p(
            "Đã phát: mã phiếu đã in; đã dùng: mã đã bỏ phiếu; hủy: mã chưa dùng của lô bị hủy; "
            "phiếu kiểm: phiếu trong hòm phiếu.",
            s["muted"],
        ),
        _p("2. Lô phiếu bị hủy", s["h2"]),
        *_voided(m, s),
        _p("3. Bốc thăm trường học", s["h2"]),
        *_lottery(m, s),
        _p("4. Mốc nhật ký kiểm tra", s["h2"]),
        *_heads(m, s),
        Spacer(1, 6 * mm),
        _signatures(s),
    ]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=_nfc(f"Biên bản - {r.title}"),
        author="Phiếu Kín",
    )
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue()
