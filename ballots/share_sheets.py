"""A key holder's share sheet: one A4 PDF page with the share as a QR code and typed form.

Pure rendering: a share in, PDF bytes out; nothing stored, written or logged. The sheet is
the only paper copy of the share; its holder keeps it sealed until the round's close.
"""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from ballots.slips import BOLD_FONT, MONO_FONT, SANS_FONT, register_fonts
from crypto.key_shares import Share, header, share_text, typed_groups
from crypto.qr import text_matrix

__all__ = ["render_share_sheet"]

TITLE = "Phần khóa mở hòm phiếu"
SUBTITLE = "Key share for opening the sealed ballot box"
INSTRUCTIONS = [
    "Giữ kín tờ này. Không sao chụp, không chụp ảnh, không gửi qua mạng.",
    "Khi đóng đợt lấy ý kiến, mang tờ này (hoặc tệp phần khóa) đến buổi mở hòm phiếu.",
    "Cần {k} trong {n} phần khóa để mở hòm; ít hơn {k} phần không mở được gì.",
    "Mỗi nhóm 5 ký tự có ký tự cuối để kiểm tra lỗi gõ.",
]


def render_share_sheet(share: Share, *, holder: str, round_title: str) -> bytes:
    """The printable sheet of one share, for its named holder."""
    register_fonts()
    out = io.BytesIO()
    height = float(A4[1])
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"{TITLE} {share.number}/{share.holders}")
    margin = 18 * mm
    y = height - margin
    canvas.setFont(BOLD_FONT, 16)
    canvas.drawString(margin, y, TITLE)
    y -= 6 * mm
    canvas.setFont(SANS_FONT, 9)
    canvas.drawString(margin, y, SUBTITLE)
    y -= 10 * mm
    canvas.setFont(SANS_FONT, 11)
    for line in (
        f"Đợt: {round_title} (số {share.round_id})",
        f"Người giữ khóa: {holder}",
        f"Phần khóa số {share.number} / {share.holders}; cần {share.needed} phần để mở hòm.",
    ):
        canvas.drawString(margin, y, line)
        y -= 6 * mm
    matrix = text_matrix(share_text(share))
    size = 70 * mm
    module = size / len(matrix)
    top = y - 6 * mm
    canvas.setFillGray(0)
    path = canvas.beginPath()
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                path.rect(margin + 4 * module + c * module, top - (r + 1) * module, module, module)
    canvas.drawPath(path, stroke=0, fill=1)
    y = top - size - 14 * mm
    canvas.setFont(BOLD_FONT, 10)
    canvas.drawString(margin, y, "Dạng gõ tay:")
    y -= 7 * mm
    canvas.setFont(MONO_FONT, 13)
    canvas.drawString(margin, y, header(share))
    groups = typed_groups(share)
    for start in range(0, len(groups), 5):
        y -= 7 * mm
        canvas.drawString(margin, y, "  ".join(groups[start : start + 5]))
    y -= 12 * mm
    canvas.setFont(SANS_FONT, 9.5)
    for line in INSTRUCTIONS:
        canvas.drawString(margin, y, line.format(k=share.needed, n=share.holders))
        y -= 5.5 * mm
    canvas.showPage()
    canvas.save()
    return out.getvalue()
