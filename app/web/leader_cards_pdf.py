"""The heads' setup codes as an A4 sheet of cut-out cards, one per head, in the viewer's
language. The codes exist only in this PDF: it is handed over in person, never stored.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from datetime import datetime

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.i18n import N_, format_date, gettext
from app.web.report_pdf import BOLD, SANS, _register_fonts
from ballots.leaders import LeaderInvite

COLUMNS, ROWS = 2, 4
MARGIN = 10 * mm
MONO = "Courier-Bold"  # the code is ASCII: the standard font draws it unambiguously


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _fit(canvas: Canvas, text: str, font: str, size: float, width: float) -> str:
    """Shorten ``text`` with an ellipsis until it fits ``width``."""
    text = _nfc(text)
    while text and canvas.stringWidth(text, font, size) > width:
        text = text[:-2] + "…"
    return text


def _group(code: str) -> str:
    """The code in groups of four, as typed from the card."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def render_cards(
    invites: Sequence[LeaderInvite],
    *,
    round_title: str,
    setup_url: str,
    role_label: dict[str, str],
    expires: datetime,
) -> bytes:
    """One card per new account: name, unit, role, username, code, where and until when."""
    _register_fonts()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle(_nfc(f"{gettext(N_('Setup codes'))} – {round_title}"))
    page_w, page_h = A4
    card_w = (page_w - 2 * MARGIN) / COLUMNS
    card_h = (page_h - 2 * MARGIN) / ROWS
    pad = 5 * mm
    text_w = card_w - 2 * pad
    lines = {
        "heading": gettext(N_("Phiếu Kín: your login to read the feedback on you")),
        "username": gettext(N_("Username")),
        "code": gettext(N_("One-time setup code")),
        "where": gettext(N_("Choose your password at")),
        "until": gettext(N_("The code works once, until {day}.")).format(day=format_date(expires)),
        "secret": gettext(N_("Keep this card to yourself. Nobody will ask you for the code.")),
    }
    per_page = COLUMNS * ROWS
    for index, invite in enumerate(invites):
        if index and index % per_page == 0:
            canvas.showPage()
        slot = index % per_page
        x = MARGIN + (slot % COLUMNS) * card_w
        y = page_h - MARGIN - (slot // COLUMNS + 1) * card_h
        canvas.setDash(3, 3)
        canvas.setStrokeColor(colors.HexColor("#888888"))
        canvas.rect(x, y, card_w, card_h)  # the cutting line
        canvas.setDash()
        top = y + card_h - pad
        canvas.setFillColor(colors.HexColor("#8b0000"))
        canvas.setFont(BOLD, 8)
        canvas.drawString(x + pad, top - 8, _fit(canvas, lines["heading"], BOLD, 8, text_w))
        canvas.setFillColor(colors.black)
        canvas.setFont(BOLD, 11)
        canvas.drawString(x + pad, top - 24, _fit(canvas, invite.full_name, BOLD, 11, text_w))
        canvas.setFont(SANS, 8.5)
        who = f"{role_label.get(invite.role, invite.role)} · {invite.unit_name}"
        canvas.drawString(x + pad, top - 36, _fit(canvas, who, SANS, 8.5, text_w))
        canvas.drawString(x + pad, top - 46, _fit(canvas, round_title, SANS, 8.5, text_w))
        canvas.setFont(SANS, 8)
        canvas.drawString(x + pad, top - 64, lines["username"])
        canvas.setFont(MONO, 12)
        canvas.drawString(x + pad, top - 77, invite.username)
        canvas.setFont(SANS, 8)
        canvas.drawString(x + pad, top - 94, lines["code"])
        canvas.setFont(MONO, 14)
        canvas.drawString(x + pad, top - 109, _group(invite.setup_code or ""))
        canvas.setFont(SANS, 7.5)
        canvas.drawString(x + pad, top - 126, _fit(canvas, lines["where"], SANS, 7.5, text_w))
        canvas.setFont(MONO, 9)
        canvas.drawString(x + pad, top - 137, _fit(canvas, setup_url, MONO, 9, text_w))
        canvas.setFont(SANS, 7)
        canvas.drawString(x + pad, top - 152, _fit(canvas, lines["until"], SANS, 7, text_w))
        canvas.drawString(x + pad, top - 162, _fit(canvas, lines["secret"], SANS, 7, text_w))
    if not invites:
        canvas.setFont(SANS, 11)
        canvas.drawString(MARGIN, page_h - MARGIN - 20, gettext(N_("No new account.")))
    canvas.showPage()
    canvas.save()
    return out.getvalue()
