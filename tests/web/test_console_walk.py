"""One whole round, walked in a real browser as the district committee's staff would.

From an empty database with one admin account (made as `phieukin admin create` does), through
pages only: log in, create a round, upload units (a bad file first) and heads with a preview
before importing, draw the school lottery and print its proof, set electorates, add a
question to the questionnaire, issue slips for two wards and decode every QR code of each
downloaded PDF with a real decoder, open (confirmed), cast every slip through the voting page
on a phone while the turnout page refreshes itself, close, read the results, publish, make
the heads' accounts and read their setup codes from the printed cards, then log in as a
head with a setup code and read the report.

Each step is checked (axe-core, no sideways scrolling at 360 px, no English on a Vietnamese
page, no console error) and photographed at 360 and 1280 px into test-output/web/<test>/;
steps.txt there lists the steps with their times.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from playwright.sync_api import Browser, BrowserContext, Page, expect

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
    StepChecker,
    assert_fits_phone,
)

WAIT_MS = 15_000
ADMIN = ("bantochuc", "Ban Tổ chức Quận ủy 2023", "Nguyễn Thị Tổ Chức")
OBSERVER = ("mttq.longbien", "Trần Văn Giám Sát", "mật khẩu của giám sát viên")
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


def pdf_text(pdf: bytes) -> str:
    """The text of every page of a PDF, lines joined with newlines."""
    pages = [p.get_textpage().get_text_range() for p in pdfium.PdfDocument(io.BytesIO(pdf))]
    return "\n".join(pages).replace("\r\n", "\n")


def set_password(page: Page, username: str, code: str, password: str) -> None:
    """The first-login page: username, the one-time setup code, a new password twice."""
    page.goto("/setup")
    page.fill("input[name=username]", username)
    page.fill("input[name=code]", code)
    page.fill("input[name=password]", password)
    page.fill("input[name=password_again]", password)
    page.click("button[type=submit]")
    expect(page.locator(".success")).to_be_visible()


def log_in(page: Page, username: str, password: str) -> None:
    """The login form, as a person fills it."""
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def vote_on_phone(page: Page, url: str, value: int, checker: StepChecker | None) -> str:
    """Open a scanned slip URL, rate every criterion ``value``, send, return the receipt.

    With ``checker`` (the first voter), the ballot and the receipt are checked steps and
    every answer is tapped; the other voters' answers are filled in one go, to keep it fast.
    """
    page.goto("about:blank")  # a fresh load, as a camera app opening the link would do
    page.goto(url)
    expect(page.locator("#ballot")).to_be_visible()
    assert "#" not in page.url, "the token stays in the address bar"
    expect(page.locator("#ballot")).to_contain_text(ADDED_QUESTION)
    if checker is not None:
        checker.step("ballot on a phone")
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
    return receipt.inner_text().strip()


def setup_codes(pdf: bytes) -> dict[str, tuple[str, str]]:
    """From the sheet of cut-out cards: full name -> (username, setup code), read as text.

    A card reads: name, role and unit, round, "Tên đăng nhập", username, the code's label,
    the code. Text extraction may split the spaced-out code; its letters are what count.
    """
    found: dict[str, tuple[str, str]] = {}
    for sheet in pdfium.PdfDocument(io.BytesIO(pdf)):
        lines = [ln.strip() for ln in sheet.get_textpage().get_text_range().splitlines()]
        for i, line in enumerate(lines):
            if line == "Tên đăng nhập":
                code = re.sub(r"[^0-9A-Z]", "", lines[i + 3])
                assert len(code) == 16, lines[i + 3]
                found[lines[i - 3]] = (lines[i + 1], code)
    return found


def checklist_state(page: Page, key: str) -> str:
    """done, missing or blocked: the class of a step on the round's checklist."""
    classes = page.locator(f"#step-{key}").get_attribute("class") or ""
    return next(c for c in ("done", "missing", "blocked") if c in classes.split())


def go_to_step(walk: Walk, round_id: int, key: str) -> None:
    """From the round's page, follow the checklist link of a step."""
    walk.page.goto(f"/rounds/{round_id}")
    walk.page.locator(f"#step-{key} a").first.click()
    walk.page.wait_for_load_state()


def upload(page: Page, name: str, text: str) -> None:
    """Choose a CSV file in the page's file field and press the check button."""
    page.set_input_files(
        "input[type=file][name=file]",
        files=[{"name": name, "mimeType": "text/csv", "buffer": text.encode()}],
    )
    page.locator("form:has(input[type=file]) button[type=submit]").click()
    page.wait_for_load_state()


def confirm(walk: Walk, round_id: int, action: str) -> str:
    """Follow a lifecycle step to its confirmation page, say yes; the audit head after it."""
    go_to_step(walk, round_id, action)
    expect(walk.page).to_have_url(re.compile(rf"/rounds/{round_id}/{action}$"))
    expect(walk.page.locator(".warning")).to_be_visible()
    walk.done(f"confirm: {action}")
    walk.page.locator(f"form[action='/rounds/{round_id}/{action}'] button[type=submit]").click()
    expect(walk.page).to_have_url(re.compile(rf"/rounds/{round_id}\?done={action}$"))
    assert checklist_state(walk.page, action) == "done"
    return walk.page.locator("dl.facts dd.mono").first.inner_text().strip()


HOLDERS = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Hoàng Văn Em"]


def open_sealed(walk: Walk, round_id: int) -> tuple[str, list[Path]]:
    """Open with the key ceremony on its page; download each holder's sheet and file once."""
    go_to_step(walk, round_id, "open")
    expect(walk.page).to_have_url(re.compile(rf"/rounds/{round_id}/open$"))
    fields = walk.page.locator("input[name=holder]")
    expect(fields).to_have_count(len(HOLDERS))
    for i, name in enumerate(HOLDERS):
        fields.nth(i).fill(name)
    walk.done("confirm: open, naming the five key holders")
    walk.page.locator(f"form[action='/rounds/{round_id}/open'] button[type=submit]").click()
    expect(walk.page.locator("main h1")).to_contain_text("niêm phong")
    walk.done("key ceremony: the shares, shown once")
    files = []
    for kind in ("txt", "pdf"):
        links = walk.page.locator(f"a[download$='.{kind}']")
        expect(links).to_have_count(len(HOLDERS))
        for i in range(len(HOLDERS)):
            with walk.page.expect_download() as download:
                links.nth(i).click()
            path = walk.folder / download.value.suggested_filename
            download.value.save_as(path)
            if kind == "txt":
                files.append(path)
            else:
                assert path.read_bytes().startswith(b"%PDF")
    assert all(f.read_text().startswith("PHIEUKIN KHOA") for f in files)
    walk.page.goto(f"/rounds/{round_id}")
    assert checklist_state(walk.page, "open") == "done"
    return walk.page.locator("dl.facts dd.mono").first.inner_text().strip(), files


def close_with_shares(walk: Walk, round_id: int, files: list[Path]) -> str:
    """Close on its page: two shares typed as printed, a third uploaded as its file."""
    go_to_step(walk, round_id, "close")
    expect(walk.page).to_have_url(re.compile(rf"/rounds/{round_id}/close$"))
    typed = walk.page.locator("textarea[name=share]")
    expect(typed).to_have_count(3)
    typed.nth(0).fill(files[0].read_text())
    walk.page.locator("input[name=share_file]").set_input_files(str(files[3]))
    walk.checker.console.expect("status of 422")  # the page answers too few shares with 422
    walk.page.locator(f"form[action='/rounds/{round_id}/close'] button[type=submit]").click()
    expect(walk.page.locator(".error, [role=alert]").first).to_contain_text("cần thêm 1 phần")
    walk.done("close refused: one share short, nothing changed")
    walk.page.locator("textarea[name=share]").nth(0).fill(files[0].read_text())
    walk.page.locator("textarea[name=share]").nth(1).fill(files[2].read_text())
    walk.page.locator("input[name=share_file]").set_input_files(str(files[3]))
    walk.done("confirm: close, with three key shares")
    walk.page.locator(f"form[action='/rounds/{round_id}/close'] button[type=submit]").click()
    expect(walk.page).to_have_url(re.compile(rf"/rounds/{round_id}\?done=close$"))
    assert checklist_state(walk.page, "close") == "done"
    return walk.page.locator("dl.facts dd.mono").first.inner_text().strip()


def test_committee_walks_a_whole_round(
    walk: Walk, chromium_browser: Browser, walk_server: Server
) -> None:
    """From an empty database to a head reading their own report, step by step."""
    page = walk.page

    # 1. Log in.
    log_in(page, ADMIN[0], ADMIN[1])
    walk.done("log in")

    # 2. Create a round.
    page.locator("main a[href='/rounds#new']").click()
    expect(page).to_have_url(re.compile(r"/rounds#new$"))
    walk.done("rounds list")
    page.fill("input[name=title]", ROUND_TITLE)
    page.fill("input[name=plan_reference]", PLAN)
    page.fill("input[name=year]", "2023")
    page.fill("input[name=anonymity_threshold]", "5")
    page.locator("form[action='/rounds'] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/rounds/\d+\?done=created$"))
    round_id = int(re.search(r"/rounds/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    expect(page.locator("h1")).to_have_text(ROUND_TITLE)
    assert checklist_state(page, "units") == "missing"
    walk.done("create the round")

    # 3. Units: a bad file is refused with its line numbers and imports nothing; then the
    # good one, previewed before it is imported.
    go_to_step(walk, round_id, "units")
    bad = UNITS_CSV.replace("MN-HOASUA,school,kindergarten", "MN-HOASUA,school,nursery")
    walk.checker.console.expect("status of 422")  # the page answers a bad file with 422
    upload(page, "units.csv", bad)
    problems = page.locator(".problems li")
    expect(problems).to_have_count(1)
    expect(problems).to_contain_text("Dòng 6")  # the header is line 1
    expect(page.locator("main")).to_contain_text("Đã có 0 phường và 0 trường.")
    walk.done("a bad units file is refused")
    upload(page, "units.csv", UNITS_CSV)
    expect(page.locator("main table tbody tr")).to_have_count(11)
    walk.done("units file preview")
    page.locator("form:has(input[name=data]) button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("Đã có 2 phường và 9 trường.")
    walk.done("import units")

    # 4. Heads, the same way.
    go_to_step(walk, round_id, "heads")
    upload(page, "heads.csv", HEADS_CSV)
    walk.done("heads file preview")
    page.locator("form:has(input[name=data]) button[type=submit]").click()
    expect(page.locator("main table tbody tr")).to_have_count(13)
    walk.done("import heads")

    # 5. The school lottery, one school per level; the proof, printable.
    go_to_step(walk, round_id, "lottery")
    expect(page.locator(".digest")).to_be_visible()
    page.fill("input[name=phrase]", PHRASE)
    for level in ("kindergarten", "primary", "lower_secondary"):
        page.fill(f"input[name=count_{level}]", "1")
    page.locator(f"form[method=post][action='/rounds/{round_id}/lottery'] button").click()
    expect(page.locator("#drawn + .success, .success").first).to_be_visible()
    drawn = page.locator("h2#drawn ~ ul").first.locator("li")
    expect(drawn).to_have_count(3)
    walk.done("draw the school lottery")
    page.locator(f"a[href='/rounds/{round_id}/lottery/proof']").click()
    expect(page.locator("main")).to_contain_text(PHRASE)
    walk.done("the lottery's printable proof")

    # 6. Electorates: both wards join, then the table is edited.
    go_to_step(walk, round_id, "electorate")
    page.locator(f"form[action='/rounds/{round_id}/wards'] button").click()
    for code, n in ELECTORATES.items():
        page.fill(f"input[name='electorate:{code}']", str(n))
    page.locator(f"form[action='/rounds/{round_id}/electorate'] button[type=submit]").click()
    for code, n in ELECTORATES.items():
        expect(page.locator(f"input[name='electorate:{code}']")).to_have_value(str(n))
    expect(page.locator("input[name^='electorate:']")).to_have_count(2 + 3)
    walk.done("set electorates")

    # 7. The questionnaire: one more free-text question, in both languages.
    go_to_step(walk, round_id, "questionnaire")
    n = page.locator("input[name$='-vi'][name^='free_text-']").count() - 1  # the blank row
    page.fill(f"input[name='free_text-{n}-vi']", ADDED_QUESTION)
    page.fill(f"input[name='free_text-{n}-en']", "What to do first")
    page.fill(f"input[name='free_text-{n}-key']", "first_year")
    page.fill(f"input[name='free_text-{n}-max_chars']", "500")
    page.locator(f"form[action='/rounds/{round_id}/questionnaire'] button[type=submit]").click()
    expect(page.locator(f"input[name='free_text-{n}-vi']")).to_have_value(ADDED_QUESTION)
    walk.done("edit the questionnaire")

    # 8. Slips for the two wards: each PDF downloaded once, every QR code decoded.
    go_to_step(walk, round_id, "slips")
    slip_urls: dict[str, list[str]] = {}
    for unit, count in SLIPS.items():
        page.select_option("select[name=unit_code]", unit)
        page.fill("input[name=count]", str(count))
        with page.expect_download() as download:
            page.locator(f"form[action='/rounds/{round_id}/slips'] button[type=submit]").click()
        pdf = Path(download.value.path()).read_bytes()
        assert pdf.startswith(b"%PDF")
        urls = decode_slips(pdf)
        assert len(urls) == len(set(urls)) == count
        prefix = walk_server.base_url.upper() + "/V#"
        assert all(u.startswith(prefix) for u in urls), urls
        assert all(normalize_token(u.split("#", 1)[1]) for u in urls)
        slip_urls[unit] = urls
    page.reload()
    expect(page.locator("#batches + .scroll tbody tr")).to_have_count(2)
    walk.done("issue slips for two wards")

    # 9. Open, confirmed on a page that says what cannot be undone.
    head, share_files = open_sealed(walk, round_id)
    audit_heads = [head]
    walk.done("the round is open, its ballot box sealed")

    # 10. Turnout, refreshing itself while phones vote.
    go_to_step(walk, round_id, "turnout")
    page.clock.install()
    page.reload()
    expect(page.locator("#turnout-total")).to_have_text("0")
    walk.done("turnout before voting")
    phone = _context(chromium_browser, walk_server.base_url, PHONE_WIDTH, PHONE_HEIGHT)
    voter = phone.new_page()
    (walk.folder / "phone").mkdir(exist_ok=True)
    votes = StepChecker(voter, walk.folder / "phone")
    receipts = []
    try:
        for unit, urls in slip_urls.items():
            for i, url in enumerate(urls):
                first = unit == "PHUONG-BODE" and i == 0
                receipts.append(vote_on_phone(voter, url, 4 - i % 2, votes if first else None))
                assert_fits_phone(voter, "receipt")
                votes.console.assert_none(f"ballot {len(receipts)}")
    finally:
        phone.close()
    assert len(set(receipts)) == sum(SLIPS.values())
    walk.done("cast ballots on phones", how="phone")
    page.clock.run_for(10_000)  # the page's own refresh timer, not a reload
    expect(page.locator("#turnout-total")).to_have_text(str(sum(SLIPS.values())))
    for unit, count in SLIPS.items():
        expect(page.locator(f"tr[data-unit='{unit}'] [data-field=ballots]")).to_have_text(
            str(count)
        )
    walk.done("turnout moved by itself")

    # The round's own page counts the ballots too.
    page.goto(f"/rounds/{round_id}")
    expect(page.locator("#step-turnout")).to_contain_text(f"Đã có {sum(SLIPS.values())} phiếu")

    # 11. Close, read the results, publish.
    audit_heads.append(close_with_shares(walk, round_id, share_files))
    go_to_step(walk, round_id, "results")
    expect(page.locator("main")).to_contain_text(HEAD[1])
    walk.done("read the round's results")
    confirm(walk, round_id, "publish")

    # 12. The heads' logins: a sheet of cards with one-time setup codes.
    go_to_step(walk, round_id, "leaders")
    walk.done("heads' accounts page")
    with page.expect_download() as download:
        page.locator(f"form[action='/rounds/{round_id}/leaders'] button[type=submit]").click()
    codes = setup_codes(Path(download.value.path()).read_bytes())
    ward_heads = {line.split(",")[2] for line in HEADS_CSV.splitlines()[1:5]}
    assert len(codes) == 4 + 3, codes  # both wards' heads and the drawn schools' principals
    assert ward_heads <= set(codes), codes
    username, code = codes[HEAD[1]]
    page.reload()
    expect(page.locator("main")).to_contain_text(username)
    walk.done("create the heads' logins")

    # 13. The head sets a password with the setup code and reads their own report.
    head = _context(chromium_browser, walk_server.base_url, PHONE_WIDTH, PHONE_HEIGHT)
    try:
        head_page = head.new_page()
        walk.checker.page = head_page
        walk.checker.console.watch(head_page)
        set_password(head_page, username, code.lower(), HEAD_PASSWORD)
        walk.done("a head sets a password with the setup code")
        log_in(head_page, username, HEAD_PASSWORD)
        head_page.goto("/reports")
        head_page.locator("main a[href^='/reports/']").first.click()
        expect(head_page.locator("h1")).to_have_text(HEAD[1])
        expect(head_page.locator("#ballots")).to_have_text(str(SLIPS[HEAD[0]]))
        walk.done("the head reads their report")
    finally:
        head.close()
        walk.checker.page = page

    # 14. The minutes, to print and sign.
    page.goto(f"/rounds/{round_id}")
    with page.expect_download() as download:
        page.locator(f"a[href='/rounds/{round_id}/minutes.pdf']").click()
    text = pdf_text(Path(download.value.path()).read_bytes())
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
    walk.done("print the minutes")

    # 15. The audit log, verified against the head written on the minutes at the close.
    page.locator("nav.staff-nav a[href='/audit']").click()
    page.fill("input[name=head]", audit_heads[-1])
    page.locator("form:has(input[name=head]) button[type=submit]").click()
    expect(page.locator("[data-verdict=ok]")).to_be_visible()
    walk.done("verify the audit log against the minutes")

    # 16. An observer's account, with a setup code to hand over.
    page.locator("nav.staff-nav a[href='/accounts']").click()
    page.fill("input[name=username]", OBSERVER[0])
    page.fill("input[name=full_name]", OBSERVER[1])
    page.select_option("select[name=role]", "observer")
    page.locator("form[action='/accounts'] button[type=submit]").click()
    observer_code = page.locator("#setup-code").inner_text().strip()
    walk.done("create an observer's account")

    # 17. The observer reads the round: every page, and no control that changes anything.
    observer = _context(chromium_browser, walk_server.base_url, PHONE_WIDTH, PHONE_HEIGHT)
    try:
        observer_page = observer.new_page()
        walk.checker.page = observer_page
        walk.checker.console.watch(observer_page)
        set_password(observer_page, OBSERVER[0], observer_code, OBSERVER[2])
        log_in(observer_page, OBSERVER[0], OBSERVER[2])
        observer_page.locator(f"main a[href='/rounds/{round_id}']").click()
        expect(observer_page.locator("h1")).to_have_text(ROUND_TITLE)
        for path in ("", "/units", "/lottery", "/slips", "/leaders"):
            observer_page.goto(f"/rounds/{round_id}{path}")
            # Only the logout form posts: write controls are absent, not greyed out.
            expect(observer_page.locator("main form[method=post]")).to_have_count(0)
        walk.done("an observer reads the round")
    finally:
        observer.close()
        walk.checker.page = page
