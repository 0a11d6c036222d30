"""The voting page in a real browser: a phone scans a printed slip, votes once, keeps nothing.

Every test opens the URL decoded from a rendered slip PDF, against the real app served on
loopback, in Debian's headless Chromium (see conftest.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import func, select

from ballots.ballot_box import FreeTextAnswer, Receipt, SealedBox
from ballots.db import make_engine
from ballots.questionnaire import HEAD_TEXT_CHARS
from crypto.tokens import format_token

if TYPE_CHECKING:
    # Types only: importing conftest at run time would load it a second time.
    from tests.web.conftest import Slip, VotingServer

WAIT_MS = 15_000
PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "vi-VN",
}
# Receipts use the token alphabet: digits and capitals without I, L, O, U.
RECEIPT = re.compile(r"^[0-9A-HJKMNP-TV-Z]{10}$")
UNIT = "Phường Bồ Đề"
HEADS = ("Bùi Xuân Sơn", "Vũ Minh Dũng")
COMMENT = "Đồng chí cần lắng nghe ý kiến của cán bộ trẻ hơn; tiếp dân đúng giờ, thái độ niềm nở."
MIN_TARGET_PX = 44
expect.set_options(timeout=WAIT_MS)


def _context(browser: Browser, **options: Any) -> BrowserContext:
    context = browser.new_context(**{**PHONE, **options})
    context.set_default_timeout(WAIT_MS)
    context.set_default_navigation_timeout(WAIT_MS)
    return context


@pytest.fixture
def phone(chromium_browser: Browser, voting_server: VotingServer) -> Iterator[BrowserContext]:
    """A fresh phone-sized browser context (its own storage, cookies and history)."""
    context = _context(chromium_browser)
    yield context
    context.close()


def open_slip(context: BrowserContext, slip: Slip) -> Page:
    """Open the decoded QR URL in a new tab and wait for the ballot form."""
    page = context.new_page()
    page.goto(slip.url)
    page.wait_for_selector("#ballot")
    return page


def radio_groups(page: Page) -> list[str]:
    """The names of the form's radio groups (one per subject and criterion), in order."""
    names: list[str] = page.eval_on_selector_all(
        "#ballot input[type=radio]", "els => [...new Set(els.map(e => e.name))]"
    )
    return names


def choice(page: Page, group: str, value: int) -> Any:
    """The label (tap target) of one option of one radio group."""
    return page.locator(f'label.choice:has(input[name="{group}"][value="{value}"])')


def answer_everything(page: Page, *, comment: str | None = None) -> dict[str, int]:
    """Tap the first option of every criterion, 'no opinion' for the first one; comment."""
    groups = radio_groups(page)
    assert groups, "the ballot has no criteria"
    answers = dict.fromkeys(groups, 4)
    answers[groups[0]] = 0
    for name, value in answers.items():
        choice(page, name, value).click()
    if comment is not None:
        page.locator("details.texts summary").first.click()
        page.locator("details.texts textarea").first.fill(comment)
    return answers


def checked_answers(page: Page) -> dict[str, int]:
    """What the form holds now: group name to checked value."""
    pairs: list[list[str]] = page.eval_on_selector_all(
        "#ballot input[type=radio]:checked", "els => els.map(e => [e.name, e.value])"
    )
    return {name: int(value) for name, value in pairs}


def submit_and_get_receipt(page: Page) -> str:
    """Review the ballot, send it, and return the receipt the page shows."""
    page.click("#submit")
    page.wait_for_selector("#send")
    page.click("#send")
    receipt = page.wait_for_selector("#receipt")
    assert receipt is not None
    return receipt.inner_text().strip()


def stored(database_url: str, receipt: str, comment: str) -> tuple[bool, list[str], int]:
    """Whether the receipt is recorded, the stored comments equal to ``comment``, and how
    many sealed boxes the (sealed) round holds.
    """
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            has_receipt = conn.scalar(select(Receipt.code).where(Receipt.code == receipt))
            texts = list(
                conn.scalars(select(FreeTextAnswer.text).where(FreeTextAnswer.text == comment))
            )
            boxes = int(conn.scalar(select(func.count()).select_from(SealedBox)) or 0)
    finally:
        engine.dispose()
    return has_receipt is not None, texts, boxes


class TestVotingOnAPhone:
    """A voter scans a slip with a 360 px phone, reads the notice and votes."""

    def test_scanned_slip_opens_the_ballot_and_the_vote_is_recorded(
        self,
        phone: BrowserContext,
        slip_urls: dict[str, Slip],
        voting_server: VotingServer,
        screenshot_dir: Path,
    ) -> None:
        """The token leaves the address bar; the form fits the phone; the receipt follows."""
        slip = slip_urls["phone"]
        page = open_slip(phone, slip)

        assert "#" not in page.url
        assert slip.token not in page.url.upper()
        assert page.url.rstrip("/").lower() == voting_server.base_url.lower() + "/v"

        main = page.locator("main")
        expect(main).to_contain_text(UNIT)
        for head in HEADS:
            expect(main).to_contain_text(head)
        notice = page.locator(".notice")
        expect(notice).to_contain_text("Trước khi bỏ phiếu")
        expect(notice).to_contain_text("5 phiếu")

        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"the page scrolls sideways: {width} px wide"

        targets = page.locator("label.choice, #ballot button, details.texts summary")
        assert targets.count() > 0
        for i in range(targets.count()):
            box = targets.nth(i).bounding_box()
            assert box is not None
            assert box["height"] >= MIN_TARGET_PX, (
                f"tap target {i} ({targets.nth(i).inner_text()!r}) is {box['height']} px tall"
            )

        answers = answer_everything(page, comment=COMMENT)
        assert checked_answers(page) == answers
        assert 0 in answers.values()
        # The comments about one head share a budget; the page counts what is left.
        budget = page.locator("details.texts .budget").first
        expect(budget).to_have_text(f"{HEAD_TEXT_CHARS - len(COMMENT)} ký tự còn lại")
        page.screenshot(path=str(screenshot_dir / "filled-form.png"), full_page=True)

        # The review lists each choice, "no opinion" included, and the text; nothing is spent.
        page.click("#submit")
        review = page.locator("main")
        expect(page.locator("#send")).to_be_visible()
        expect(review).to_contain_text("Xem lại trước khi gửi")
        expect(page.locator(".choices dd.none")).to_have_count(1)
        expect(page.locator(".choices dd.none")).to_contain_text("Không đủ thông tin")
        expect(page.locator(".texts-given dd")).to_have_text(COMMENT)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.screenshot(path=str(screenshot_dir / "review.png"), full_page=True)
        assert stored(voting_server.database_url, "", COMMENT)[1] == []
        page.click("#edit")
        page.wait_for_selector("#ballot")
        assert checked_answers(page) == answers
        expect(page.locator("details.texts textarea").first).to_have_value(COMMENT)

        receipt = submit_and_get_receipt(page)
        assert RECEIPT.fullmatch(receipt), receipt
        expect(page.locator("#ballot")).to_have_count(0)
        page.screenshot(path=str(screenshot_dir / "receipt.png"), full_page=True)

        has_receipt, texts, boxes = stored(voting_server.database_url, receipt, COMMENT)
        assert has_receipt
        # The round is sealed: the comment is in a sealed box, nowhere in the clear.
        assert texts == []
        assert boxes >= 1


class TestSlipIsSpentOnce:
    """A slip that has voted cannot open a ballot again, even from a fresh browser."""

    def test_reopening_a_used_slip_shows_already_used_and_no_form(
        self, chromium_browser: Browser, phone: BrowserContext, slip_urls: dict[str, Slip]
    ) -> None:
        """Scanning the same QR again after voting gives the 'already used' error only."""
        slip = slip_urls["reused"]
        page = open_slip(phone, slip)
        answer_everything(page)
        assert RECEIPT.fullmatch(submit_and_get_receipt(page))

        other = _context(chromium_browser)
        try:
            again = other.new_page()
            again.goto(slip.url)
            error = again.locator('.error[data-error="already_used"]')
            expect(error).to_be_visible()
            expect(error).to_have_text("Phiếu này đã được dùng để bỏ phiếu.")
            expect(again.locator("#ballot")).to_have_count(0)
            assert slip.token not in again.url.upper()
        finally:
            other.close()


class TestNetworkDrop:
    """Answers are held in the page when the connection drops, and a retry casts them."""

    def test_lost_connection_keeps_the_answers_and_retry_gives_a_receipt(
        self, phone: BrowserContext, slip_urls: dict[str, Slip]
    ) -> None:
        """Offline submit shows the network error with the form still filled; online works."""
        page = open_slip(phone, slip_urls["network"])
        answers = answer_everything(page, comment="Mất mạng giữa chừng vẫn giữ ý kiến này.")

        phone.set_offline(True)
        page.click("#submit")
        expect(page.locator("#network-error")).to_be_visible()
        expect(page.locator("#submit")).to_be_enabled()
        assert checked_answers(page) == answers
        expect(page.locator("details.texts textarea").first).to_have_value(
            "Mất mạng giữa chừng vẫn giữ ý kiến này."
        )

        # Lost again on the review page's "send": the review stays, sending again works.
        phone.set_offline(False)
        page.click("#submit")
        page.wait_for_selector("#send")
        phone.set_offline(True)
        page.click("#send")
        expect(page.locator("#network-error")).to_be_visible()
        expect(page.locator("#send")).to_be_enabled()
        phone.set_offline(False)
        page.click("#send")
        receipt = page.wait_for_selector("#receipt").inner_text().strip()
        assert RECEIPT.fullmatch(receipt), receipt


class TestNothingKeptOnThePhone:
    """After voting the browser holds no storage, cookie or history entry with the token."""

    def test_no_storage_cookies_or_token_in_history_after_voting(
        self, phone: BrowserContext, slip_urls: dict[str, Slip]
    ) -> None:
        """localStorage, sessionStorage and cookies are empty; no URL ever kept the token."""
        slip = slip_urls["storage"]
        page = open_slip(phone, slip)
        answer_everything(page, comment="Không lưu gì trên máy.")
        assert RECEIPT.fullmatch(submit_and_get_receipt(page))

        assert page.evaluate("localStorage.length") == 0
        assert page.evaluate("sessionStorage.length") == 0
        assert phone.cookies() == []
        assert page.evaluate("history.length") <= 2

        token_spellings = {slip.token, slip.token.lower(), format_token(slip.token)}
        href = page.evaluate("location.href")
        for url in (page.url, href):
            assert "#" not in url
            assert not any(t in url for t in token_spellings)
        cdp = phone.new_cdp_session(page)
        try:
            history = cdp.send("Page.getNavigationHistory")
        finally:
            cdp.detach()
        entries = [entry["url"] for entry in history["entries"]]
        assert len(entries) <= 2, entries
        for url in entries:
            assert not any(t in url.upper() for t in token_spellings), url


class TestWithoutJavaScript:
    """With script off the voter types the printed code and votes with plain forms."""

    def test_typed_lower_case_code_opens_the_ballot_and_votes(
        self,
        chromium_browser: Browser,
        voting_server: VotingServer,
        slip_urls: dict[str, Slip],
    ) -> None:
        """The printed code in lower case is accepted; radios and submit work as plain HTML."""
        context = _context(chromium_browser, java_script_enabled=False)
        try:
            page = context.new_page()
            page.goto(voting_server.base_url + "/v")
            page.fill(
                '#code-form input[name="code"]', format_token(slip_urls["no_js"].token).lower()
            )
            page.click('#code-form button[type="submit"]')
            page.wait_for_selector("#ballot")
            expect(page.locator("main")).to_contain_text(UNIT)

            answers = answer_everything(page, comment="Không có JavaScript vẫn bỏ phiếu được.")
            assert checked_answers(page) == answers
            receipt = submit_and_get_receipt(page)
            assert RECEIPT.fullmatch(receipt), receipt
            assert "/v/cast" in page.url.lower()
            assert slip_urls["no_js"].token not in page.url.upper()
        finally:
            context.close()


class TestLanguageSwitch:
    """The start page switches to English."""

    def test_english_link_shows_the_page_in_english(
        self, phone: BrowserContext, voting_server: VotingServer
    ) -> None:
        """Clicking 'English' on the start page shows 'Feedback ballot'."""
        page = phone.new_page()
        page.goto(voting_server.base_url + "/v")
        switch = page.locator("#lang-switch")
        expect(switch).to_have_text("English")
        switch.click()
        expect(page.locator("h1")).to_have_text("Feedback ballot")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("#lang-switch")).to_have_text("Tiếng Việt")

    def test_switching_language_mid_ballot_keeps_the_answers(
        self, phone: BrowserContext, voting_server: VotingServer, slip_urls: dict[str, Slip]
    ) -> None:
        """Answers given in Vietnamese are still checked after switching to English."""
        page = phone.new_page()
        page.goto(slip_urls["language"].url)
        page.wait_for_selector("#ballot")
        answers = answer_everything(page, comment="Ý kiến viết trước khi đổi ngôn ngữ.")
        page.locator("#lang-switch").click()
        expect(page.locator("h1")).to_have_text("Feedback ballot")
        expect(page.locator("#ballot")).to_contain_text("Not enough information")
        assert checked_answers(page) == answers
        expect(page.locator("details.texts textarea").first).to_have_value(
            "Ý kiến viết trước khi đổi ngôn ngữ."
        )
        receipt = submit_and_get_receipt(page)
        assert RECEIPT.fullmatch(receipt), receipt
        assert page.locator("#lang-switch").count() == 0  # the receipt page keeps the receipt
