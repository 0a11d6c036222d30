"""Every page a voter, a head or the committee sees, checked in a real browser.

One live server holds a published round (with heads' logins) and an open round with slips.
Each page is visited in Debian's headless Chromium and must: have no serious or critical
axe-core violation, not scroll sideways at 360 px, log no console error; each is
photographed at 360 and 1280 px into test-output/web/<test>/ (see checks.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from app import migrations
from app.main import create_app
from app.settings import Settings
from ballots import accounts, casting, leaders, lifecycle, participants, rounds, subjects, tokens
from ballots.db import make_engine, make_session_factory, transaction, utcnow
from ballots.vocabulary import UserRole
from tests.ballot_helpers import answers_for, open_round_with_slips
from tests.live_server import loopback_socket, serving
from tests.web.checks import (
    PHONE_HEIGHT,
    PHONE_WIDTH,
    ConsoleErrors,
    StepChecker,
    assert_fits_phone,
    axe_violations,
    english_on_vietnamese_page,
    require_axe,
)

WAIT_MS = 15_000
ADMIN = ("quantri", "quản trị viên 2023")
LEADER_PASSWORD = "mật khẩu của bí thư"
PUBLISHED_BALLOTS = {"PHUONG-BODE": 6, "MN-BODE": 3}
expect.set_options(timeout=WAIT_MS)


@dataclass(frozen=True)
class Site:
    """The running app and what is in it."""

    base_url: str
    published_id: int
    subject_id: int  # a head of the published round with a report above k
    leader: str
    setup_code: str
    tokens: list[str]  # unused slips of the open round, Phường Bồ Đề


def _build(database_url: str, sample_data: Path) -> dict[str, Any]:
    engine = make_engine(database_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            round_id, slips = open_round_with_slips(db, sample_data, PUBLISHED_BALLOTS)
            for i, token in enumerate(t for batch in slips.values() for t in batch):
                texts = {"strengths": "Đồng chí gần gũi, tiếp dân đúng giờ"} if i < 5 else {}
                casting.cast(db, token, answers_for(casting.preview(db, token), 4 - i % 2, **texts))
            lifecycle.close_round(db, round_id, actor="t")
            lifecycle.publish_round(db, round_id, actor="t")
            invites = leaders.create_leader_accounts(db, round_id, actor="t", now=utcnow())
            invite = next(i for i in invites if i.setup_code is not None)
            accounts.create_user(
                db,
                username=ADMIN[0],
                full_name="Nguyễn Văn Quản",
                role=UserRole.ADMIN,
                password=ADMIN[1],
                actor="t",
            )
            open_id = rounds.create_round(
                db, title="Lấy ý kiến năm 2024", year=2024, anonymity_threshold=5, actor="t"
            ).id
            subjects.import_subjects(
                db, open_id, (sample_data / "long_bien_subjects.csv").read_bytes(), actor="t"
            )
            participants.set_round_units(db, open_id, [("PHUONG-BODE", None)], actor="t")
            plain = tokens.issue_tokens(db, open_id, "PHUONG-BODE", 3, actor="t").tokens
            lifecycle.open_round(db, open_id, actor="t", key_holders=None)
            return {
                "published_id": round_id,
                "subject_id": invite.subject_id,
                "leader": invite.username,
                "setup_code": invite.setup_code,
                "tokens": list(plain),
            }
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, sample_data: Path) -> Iterator[Site]:
    """The real app under uvicorn on a free loopback port, over its own SQLite file."""
    url = f"sqlite:///{tmp_path_factory.mktemp('a11y') / 'a11y.db'}"
    migrations.upgrade(url)
    built = _build(url, sample_data)
    sock = loopback_socket()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = Settings(database_url=url, secret_key="a" * 40, public_base_url=base_url)
    with sock, serving(create_app(settings), sock):
        yield Site(base_url=base_url, **built)


@pytest.fixture
def browser_page(chromium_browser: Browser, site: Site) -> Iterator[Page]:
    """A fresh 360 px browser context and page."""
    context: BrowserContext = chromium_browser.new_context(
        viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT},
        locale="vi-VN",
        base_url=site.base_url,
    )
    context.set_default_timeout(WAIT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def checker(browser_page: Page, screenshot_dir: Path) -> StepChecker:
    """The per-step checks (axe-core, 360 px width, console) for this test's page."""
    return StepChecker(browser_page, screenshot_dir)


def _log_in(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


class TestAxeCore:
    """The accessibility checks are really running."""

    def test_axe_core_is_installed(self) -> None:
        """axe-core is present (skipped, visibly, only on a machine without npm)."""
        require_axe()

    def test_axe_reports_a_serious_violation(self, browser_page: Page) -> None:
        """An unlabelled field and an empty button are found, under a no-inline-script CSP."""
        require_axe()
        browser_page.set_content(
            '<!doctype html><html lang="vi"><meta http-equiv="Content-Security-Policy" '
            "content=\"default-src 'self'; script-src 'self'\"><title>x</title><main><h1>x</h1>"
            "<form><input name=q><button></button></form></main></html>"
        )
        ids = {v["id"] for v in axe_violations(browser_page)}
        assert {"label", "button-name"} <= ids


class TestChecksCanFail:
    """The width, language and console checks catch what they are meant to catch."""

    def test_a_wide_page_fails_the_phone_check(self, browser_page: Page) -> None:
        """A 500 px wide table makes a 360 px page scroll sideways."""
        browser_page.set_content('<html lang="vi"><table style="width:500px"><td>x</table>')
        with pytest.raises(pytest.fail.Exception, match="on a 360 px phone"):
            assert_fits_phone(browser_page, "wide")

    def test_english_on_a_vietnamese_page_is_found(self, browser_page: Page) -> None:
        """English text is reported; Vietnamese text and a lang="en" link are not."""
        browser_page.set_content(
            '<html lang="vi"><title>Đăng nhập</title><p>Chưa có đợt nào.</p>'
            '<a lang="en" href="?lang=en">English</a><p>Wrong username or password.</p>'
            '<input placeholder="Tên đăng nhập"><button aria-label="Submit the form">x</button>'
            '<code>{"round_id": 1}</code><p>round.opened</p><p>Hành động round.opened: the end</p>'
        )
        assert english_on_vietnamese_page(browser_page) == [
            "Wrong username or password.",
            "Hành động round.opened: the end",
            "Submit the form",
        ]

    def test_a_console_error_fails_unless_expected(self, browser_page: Page) -> None:
        """An uncaught exception fails the step; a named, expected error does not."""
        console = ConsoleErrors()
        console.watch(browser_page)
        browser_page.set_content("<html><p>x</p></html>")
        browser_page.evaluate("setTimeout(() => { throw new Error('hỏng'); }, 0)")
        browser_page.wait_for_timeout(100)
        with pytest.raises(AssertionError, match="uncaught: hỏng"):
            console.assert_none("x")
        browser_page.evaluate("console.error('đã biết')")
        browser_page.wait_for_timeout(100)
        console.expect("đã biết")
        console.assert_none("x")


class TestVotingPagesAreAccessible:
    """The voting page's steps pass the checks on a phone."""

    def test_start_form_receipt_and_errors(
        self, browser_page: Page, checker: StepChecker, site: Site
    ) -> None:
        """Code entry, the ballot, the receipt, a used slip, a mistyped code, English."""
        page = browser_page
        page.goto("/v")
        expect(page.locator("#code-form")).to_be_visible()
        checker.step("code entry")

        page.goto("about:blank")  # from /v, only the fragment would change: no new load
        page.goto(f"/v#{site.tokens[0]}")
        expect(page.locator("#ballot")).to_be_visible()
        checker.step("ballot form")

        for group in page.eval_on_selector_all(
            "#ballot input[type=radio]", "els => [...new Set(els.map(e => e.name))]"
        ):
            page.locator(f'label.choice:has(input[name="{group}"][value="4"])').click()
        page.click("#submit")
        expect(page.locator("#send")).to_be_visible()
        checker.step("review before sending")
        page.click("#send")
        expect(page.locator("#receipt")).to_be_visible()
        checker.step("receipt")

        page.goto("/v")
        page.fill("input[name=code]", site.tokens[0])
        checker.console.expect("status of 409")
        page.click("#code-form button[type=submit]")
        expect(page.locator('.error[data-error="already_used"]')).to_be_visible()
        checker.step("slip already used")

        page.goto("/v")
        page.fill(
            "input[name=code]", site.tokens[1][:-1] + ("A" if site.tokens[1][-1] != "A" else "B")
        )
        checker.console.expect("status of 422")
        page.click("#code-form button[type=submit]")
        expect(page.locator(".error")).to_be_visible()
        checker.step("mistyped code")

        page.goto("about:blank")
        page.goto(f"/v?lang=en#{site.tokens[2]}")
        expect(page.locator("#ballot")).to_be_visible()
        checker.step("ballot in English")

        page.goto("/receipt")
        expect(page.locator("h1")).to_be_visible()
        checker.step("receipt check")


class TestStaffPagesAreAccessible:
    """Login, home, a round's results and the error page pass the checks."""

    def test_login_home_results(self, browser_page: Page, checker: StepChecker, site: Site) -> None:
        """What an admin sees from logging in to reading a published round's results."""
        page = browser_page
        page.goto("/login")
        checker.step("login")

        page.fill("input[name=username]", ADMIN[0])
        page.fill("input[name=password]", "sai mật khẩu")
        checker.console.expect("status of 401")
        page.click("button[type=submit]")
        expect(page.locator(".error")).to_be_visible()
        expect(page.locator(".error")).not_to_contain_text("password")
        checker.step("login refused")

        _log_in(page, *ADMIN)
        checker.step("home")

        page.goto(f"/rounds/{site.published_id}/results")
        expect(page.locator("h1")).to_be_visible()
        checker.step("round results")

        page.goto(f"/reports/{site.subject_id}")
        expect(page.locator("h1")).to_be_visible()
        checker.step("a head's report, as admin")

        page.goto("/audit?verify=1")
        expect(page.locator("[data-verdict=ok]")).to_be_visible()
        checker.step("audit log")
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < 12_000, f"the audit log is {height} px tall on a phone"

        page.goto("/accounts")
        checker.step("accounts")
        page.fill("input[name=username]", "ubkt-moi")
        page.fill("input[name=full_name]", "Ủy ban Kiểm tra")
        page.click("form[action='/accounts'] button[type=submit]")
        expect(page.locator("#setup-code")).to_be_visible()
        checker.step("new account's setup code")
        page.goto("/accounts")
        page.locator("a[href$='/disable']").first.click()
        expect(page.locator("#cannot-undo")).to_be_visible()
        checker.step("confirm disabling an account")
        page.goto("/account/password")
        checker.step("change my password")

        checker.console.expect("status of 404")
        page.goto("/rounds/999999/results")
        checker.step("not found")


class TestLeaderPagesAreAccessible:
    """A head's first login and their report pass the checks."""

    def test_setup_login_report(self, browser_page: Page, checker: StepChecker, site: Site) -> None:
        """Setup code, password, the list of one's reports, the report itself."""
        page = browser_page
        page.goto("/setup")
        checker.step("setup")
        page.fill("input[name=username]", site.leader)
        page.fill("input[name=code]", site.setup_code)
        page.fill("input[name=password]", LEADER_PASSWORD)
        page.fill("input[name=password_again]", LEADER_PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator(".success")).to_be_visible()
        checker.step("setup done")

        _log_in(page, site.leader, LEADER_PASSWORD)
        checker.step("leader home")
        page.goto("/reports")
        checker.step("my reports")
        page.goto(f"/reports/{site.subject_id}")
        expect(page.locator("h1")).to_be_visible()
        checker.step("my report")
