"""One whole round, walked in a real browser as the district committee's staff would.

From an empty database with one admin account (made as `phieukin admin create` does): log
in, create a round, upload units and heads, draw the school lottery, set electorates, edit
the questionnaire, issue slips for two wards and decode every QR code of the PDF with a real
decoder, open, cast ballots through the voting page on a phone, watch turnout move, close,
publish, create the heads' logins, log in as a head with a setup code and read the report.

Each step is checked (axe-core, no sideways scrolling at 360 px, no console error) and
photographed at 360 and 1280 px into test-output/web/<test>/; steps.txt there lists how
each step was taken. Where the console has no page for a step yet, the same signed-in
browser session calls the JSON API instead, and steps.txt says so (`api`).
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
import zxingcpp
from playwright.sync_api import APIResponse, Browser, BrowserContext, Page, expect

from app import migrations
from app.main import create_app
from app.settings import Settings
from ballots import accounts
from ballots.db import make_engine, make_session_factory, transaction
from ballots.vocabulary import UserRole
from crypto.tokens import normalize_token
from tests.live_server import loopback_socket, serving
from tests.web.checks import (
    PHONE_HEIGHT,
    PHONE_WIDTH,
    ConsoleErrors,
    StepChecker,
    assert_fits_phone,
)

WAIT_MS = 15_000
ADMIN = ("bantochuc", "Ban Tổ chức Quận ủy 2023", "Nguyễn Thị Tổ Chức")
HEAD_PASSWORD = "mật khẩu của bí thư phường"
ROUND_TITLE = "Lấy ý kiến người đứng đầu năm 2023"
PLAN = "Kế hoạch số 104-KH/QU"
PHRASE = "3 5 1 6 2 4 – XSMB 24/11/2023"
ADDED_QUESTION = "Điều đồng chí mong người đứng đầu làm ngay trong năm tới"
# A small district: two wards and three schools per level, of which the lottery draws one
# per level. Only the two wards get slips.
UNITS_CSV = """code,kind,level,name,ward,electorate
PHUONG-BODE,ward,,Phường Bồ Đề,Phường Bồ Đề,94
PHUONG-CUKHOI,ward,,Phường Cự Khối,Phường Cự Khối,128
MN-BODE,school,kindergarten,Trường Mầm non Bồ Đề,Phường Bồ Đề,23
MN-CUKHOI,school,kindergarten,Trường Mầm non Cự Khối,Phường Cự Khối,21
MN-HOASUA,school,kindergarten,Trường Mầm non Hoa Sữa,Phường Bồ Đề,30
TH-BODE,school,primary,Trường Tiểu học Bồ Đề,Phường Bồ Đề,41
TH-CUKHOI,school,primary,Trường Tiểu học Cự Khối,Phường Cự Khối,38
TH-AIMO,school,primary,Trường Tiểu học Ái Mộ,Phường Bồ Đề,45
THCS-BODE,school,lower_secondary,Trường THCS Bồ Đề,Phường Bồ Đề,52
THCS-CUKHOI,school,lower_secondary,Trường THCS Cự Khối,Phường Cự Khối,47
THCS-NGOCLAM,school,lower_secondary,Trường THCS Ngọc Lâm,Phường Bồ Đề,60
"""
HEADS_CSV = """unit_code,role,full_name
PHUONG-BODE,ward_party_secretary,Bùi Xuân Sơn
PHUONG-BODE,ward_chairperson,Vũ Minh Dũng
PHUONG-CUKHOI,ward_party_secretary,Phan Quang Hùng
PHUONG-CUKHOI,ward_chairperson,Lê Hồng Hà
MN-BODE,school_principal,Đặng Thanh Phương
MN-CUKHOI,school_principal,Dương Thanh Hoa
MN-HOASUA,school_principal,Trịnh Thu Trang
TH-BODE,school_principal,Ngô Văn Khải
TH-CUKHOI,school_principal,Hoàng Thị Lan
TH-AIMO,school_principal,Đỗ Minh Châu
THCS-BODE,school_principal,Lương Đức Thắng
THCS-CUKHOI,school_principal,Tạ Thị Hằng
THCS-NGOCLAM,school_principal,Cao Văn Tùng
"""
ELECTORATES = {"PHUONG-BODE": 40, "PHUONG-CUKHOI": 36}
SLIPS = {"PHUONG-BODE": 6, "PHUONG-CUKHOI": 5}  # ballots cast per ward: all of them
HEAD = ("PHUONG-BODE", "Bùi Xuân Sơn")  # the head who logs in at the end
expect.set_options(timeout=WAIT_MS)


@dataclass(frozen=True)
class Server:
    """The running app."""

    base_url: str


@pytest.fixture(scope="module")
def walk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real app under uvicorn on a free port, over an empty database with one admin."""
    url = f"sqlite:///{tmp_path_factory.mktemp('walk') / 'walk.db'}"
    migrations.upgrade(url)
    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine)) as db:
            accounts.create_user(
                db,
                username=ADMIN[0],
                password=ADMIN[1],
                full_name=ADMIN[2],
                role=UserRole.ADMIN,
                actor="cli",
            )
    finally:
        engine.dispose()
    sock = loopback_socket()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = Settings(database_url=url, secret_key="w" * 40, public_base_url=base_url)
    with sock, serving(create_app(settings), sock):
        yield Server(base_url=base_url)


def _context(browser: Browser, base_url: str, width: int, height: int) -> BrowserContext:
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale="vi-VN",
        base_url=base_url,
        accept_downloads=True,
    )
    context.set_default_timeout(WAIT_MS)
    return context


@dataclass
class Walk:
    """The committee member's browser, the step checks, and a record of how each step went."""

    context: BrowserContext
    page: Page
    checker: StepChecker
    folder: Path
    taken: list[str] = field(default_factory=list)
    clock: float = field(default_factory=time.monotonic)

    def done(self, name: str, *, how: str = "page") -> None:
        """Check and photograph the page after a step taken through it; record the step."""
        if how == "page":
            self.checker.step(name)
        now = time.monotonic()
        self.taken.append(f"{how:5} {now - self.clock:5.1f} s  {name}")
        self.clock = now
        (self.folder / "steps.txt").write_text("\n".join(self.taken) + "\n", encoding="utf-8")

    def api(self, method: str, path: str, **kwargs: Any) -> APIResponse:
        """The JSON API with this browser's session: for steps with no page yet."""
        response = self.context.request.fetch(f"/api/v1{path}", method=method, **kwargs)
        assert response.ok, f"{method} {path}: {response.status} {response.text()[:300]}"
        return response


@pytest.fixture
def walk(chromium_browser: Browser, walk_server: Server, screenshot_dir: Path) -> Iterator[Walk]:
    """A desktop-sized browser for the committee member (the checks also lay it out at 360)."""
    context = _context(chromium_browser, walk_server.base_url, 1280, 900)
    page = context.new_page()
    yield Walk(context, page, StepChecker(page, screenshot_dir), screenshot_dir)
    context.close()


def decode_slips(pdf: bytes) -> list[str]:
    """Render each page of the slips PDF and read every QR code with zxing-cpp."""
    found: list[str] = []
    for sheet in pdfium.PdfDocument(io.BytesIO(pdf)):
        image = sheet.render(scale=200 / 72, grayscale=True).to_pil()
        codes = zxingcpp.read_barcodes(
            image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
        )
        found += [code.text for code in codes]
    return found


def _csv_upload(name: str, text: str) -> dict[str, Any]:
    return {"file": {"name": name, "mimeType": "text/csv", "buffer": text.encode()}}


def minutes_text(pdf: bytes) -> str:
    """The text of every page of a PDF, lines joined with newlines."""
    pages = [p.get_textpage().get_text_range() for p in pdfium.PdfDocument(io.BytesIO(pdf))]
    return "\n".join(pages).replace("\r\n", "\n")


def log_in(page: Page, username: str, password: str) -> None:
    """The login form, as a person fills it."""
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def vote_on_phone(phone: BrowserContext, url: str, value: int, checker: StepChecker | None) -> str:
    """Open a scanned slip URL, rate every criterion ``value``, send, return the receipt."""
    page = phone.new_page()
    console = checker.console if checker else ConsoleErrors()
    console.watch(page)
    page.goto(url)
    expect(page.locator("#ballot")).to_be_visible()
    assert "#" not in page.url, "the token stays in the address bar"
    expect(page.locator("#ballot")).to_contain_text(ADDED_QUESTION)
    if checker is not None:
        checker.page = page
        checker.step("ballot on a phone")
    if checker is not None:
        # The first voter taps every answer; the others are filled at once, to keep it fast.
        groups: list[str] = page.eval_on_selector_all(
            "#ballot input[type=radio]", "els => [...new Set(els.map(e => e.name))]"
        )
        for group in groups:
            page.locator(f'label.choice:has(input[name="{group}"][value="{value}"])').click()
    else:
        page.eval_on_selector_all(
            f'#ballot input[type=radio][value="{value}"]', "els => els.forEach(e => e.click())"
        )
    page.click("#submit")  # the review of the choices, then send
    expect(page.locator("#send")).to_be_visible()
    if checker is not None:
        checker.step("review before sending")
    page.click("#send")
    receipt = page.locator("#receipt")
    expect(receipt).to_be_visible()
    if checker is not None:
        checker.step("receipt on a phone")
    else:
        assert_fits_phone(page, "receipt")
        console.assert_none(f"vote at {page.url}")
    text = receipt.inner_text().strip()
    page.close()
    return text


def test_committee_walks_a_whole_round(
    walk: Walk, chromium_browser: Browser, walk_server: Server
) -> None:
    """From an empty database to a head reading their own report, step by step."""
    page = walk.page

    # 1. Log in.
    log_in(page, ADMIN[0], ADMIN[1])
    expect(page.locator("h1")).to_be_visible()
    walk.done("log in")

    # 2. Create a round.
    created = walk.api(
        "POST",
        "/rounds",
        data={"title": ROUND_TITLE, "year": 2023, "plan_reference": PLAN, "anonymity_threshold": 5},
    ).json()
    round_id = created["id"]
    walk.done("create the round", how="api")

    # 3. Units and heads from CSV files.
    imported = walk.api("POST", "/units/import", multipart=_csv_upload("units.csv", UNITS_CSV))
    assert imported.json()["created"] == 11, imported.json()
    walk.done("upload units", how="api")
    walk.api(
        "POST", f"/rounds/{round_id}/subjects/import", multipart=_csv_upload("heads.csv", HEADS_CSV)
    )
    walk.done("upload heads", how="api")

    # 4. The school lottery: one school per level.
    counts = {"kindergarten": 1, "primary": 1, "lower_secondary": 1}
    drawn = walk.api(
        "POST", f"/rounds/{round_id}/lottery", data={"phrase": PHRASE, "counts": counts}
    ).json()
    chosen = [code for codes in drawn["chosen"].values() for code in codes]
    assert len(chosen) == 3, drawn
    assert walk.api("GET", f"/rounds/{round_id}/lottery/verify").json()["matches"] is True
    walk.done("draw the school lottery", how="api")

    # 5. Electorates: both wards, and the drawn schools at their usual size.
    participants = walk.api("GET", f"/rounds/{round_id}/units").json()
    table = [{"unit_code": p["unit"]["code"], "electorate": p["electorate"]} for p in participants]
    table += [{"unit_code": code, "electorate": n} for code, n in ELECTORATES.items()]
    walk.api("PUT", f"/rounds/{round_id}/units", data=table)
    walk.done("set electorates", how="api")

    # 6. The questionnaire: one more free-text question.
    questionnaire = walk.api("GET", f"/rounds/{round_id}/questionnaire").json()
    questionnaire["free_text"].append(
        {"key": "first_year", "vi": ADDED_QUESTION, "en": "What to do first", "max_chars": 500}
    )
    walk.api("PUT", f"/rounds/{round_id}/questionnaire", data=questionnaire)
    walk.done("edit the questionnaire", how="api")

    # 7. Slips for the two wards; every QR code decoded from the rendered PDF.
    slip_urls: dict[str, list[str]] = {}
    for unit, count in SLIPS.items():
        pdf = walk.api(
            "POST", f"/rounds/{round_id}/slips", data={"unit_code": unit, "count": count}
        ).body()
        assert pdf.startswith(b"%PDF")
        urls = decode_slips(pdf)
        assert len(urls) == len(set(urls)) == count
        prefix = walk_server.base_url.upper() + "/V#"
        assert all(u.startswith(prefix) for u in urls), urls
        assert all(normalize_token(u.split("#", 1)[1]) for u in urls)
        slip_urls[unit] = urls
    walk.done("issue and decode slips for two wards", how="api")

    # 8. Open.
    audit_heads = [walk.api("POST", f"/rounds/{round_id}/open").json()["audit_head"]]
    walk.done("open the round", how="api")

    def turnout() -> dict[str, int]:
        rows = walk.api("GET", f"/rounds/{round_id}/turnout").json()
        return {r["unit_code"]: r["used_tokens"] for r in rows}

    assert turnout() == {"PHUONG-BODE": 0, "PHUONG-CUKHOI": 0, **dict.fromkeys(chosen, 0)}

    # 9. Voting on phones: every slip of both wards, through the voting page.
    phone = _context(chromium_browser, walk_server.base_url, PHONE_WIDTH, PHONE_HEIGHT)
    receipts = []
    try:
        for unit, urls in slip_urls.items():
            for i, url in enumerate(urls):
                first = unit == "PHUONG-BODE" and i == 0
                receipts.append(
                    vote_on_phone(phone, url, 4 - i % 2, walk.checker if first else None)
                )
                if first:
                    walk.checker.page = page
                    assert turnout()["PHUONG-BODE"] == 1
    finally:
        phone.close()
    assert len(set(receipts)) == sum(SLIPS.values())
    walk.done("cast ballots on phones", how="page")

    # 10. Turnout moved.
    assert turnout() == {**SLIPS, **dict.fromkeys(chosen, 0)}
    walk.done("watch turnout", how="api")

    # 11. Close and publish.
    audit_heads.append(walk.api("POST", f"/rounds/{round_id}/close").json()["audit_head"])
    walk.done("close the round", how="api")
    page.goto(f"/rounds/{round_id}/results")
    expect(page.locator("main")).to_contain_text(HEAD[1])
    walk.done("read the round's results")
    walk.api("POST", f"/rounds/{round_id}/publish")
    walk.done("publish", how="api")

    # 12. The heads' logins, with one-time setup codes.
    invites = walk.api("POST", f"/rounds/{round_id}/leaders").json()
    invite = next(i for i in invites if i["full_name"] == HEAD[1])
    assert invite["setup_code"]
    walk.done("create the heads' logins", how="api")

    # 13. The head sets a password with the setup code and reads their own report.
    head = _context(chromium_browser, walk_server.base_url, PHONE_WIDTH, PHONE_HEIGHT)
    try:
        head_page = head.new_page()
        walk.checker.page = head_page
        walk.checker.console.watch(head_page)
        head_page.goto("/setup")
        head_page.fill("input[name=username]", invite["username"])
        head_page.fill("input[name=code]", invite["setup_code"].lower())
        head_page.fill("input[name=password]", HEAD_PASSWORD)
        head_page.fill("input[name=password_again]", HEAD_PASSWORD)
        head_page.click("button[type=submit]")
        expect(head_page.locator(".success")).to_be_visible()
        walk.done("a head sets a password with the setup code")
        log_in(head_page, invite["username"], HEAD_PASSWORD)
        head_page.goto("/reports")
        head_page.click(f"a[href='/reports/{invite['subject_id']}']")
        expect(head_page.locator("h1")).to_have_text(HEAD[1])
        expect(head_page.locator("#ballots")).to_have_text(str(SLIPS[HEAD[0]]))
        walk.done("the head reads their report")
    finally:
        head.close()
        walk.checker.page = page

    # 14. The minutes, to print and sign.
    reply = walk.context.request.get(f"/rounds/{round_id}/minutes.pdf")
    assert reply.ok, reply.status
    text = minutes_text(reply.body())
    for unit, count in SLIPS.items():
        # code, name, electorate, issued, used, voided, unused, ballots in the box
        name = "Phường Bồ Đề" if unit == "PHUONG-BODE" else "Phường Cự Khối"
        assert f"{unit} {name} {ELECTORATES[unit]} {count} {count} 0 0 {count}" in text, text
    assert f"Số phiếu kiểm khi đóng: {sum(SLIPS.values())}." in text, text
    assert PHRASE in text
    assert "Hạt giống (seed):" in text, "a Vietnamese letter missing from the minutes' font"
    for audit_head in audit_heads:
        assert audit_head in text, (audit_head, text)
    assert "Ký xác nhận" in text
    walk.done("print the minutes", how="url")  # no page links to it yet
