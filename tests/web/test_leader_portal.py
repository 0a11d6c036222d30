"""The leader portal in a real browser at 360 px: set a password, log in, read one's report.

A published round is built in a committed SQLite file of its own and served by the real app
on loopback (fixtures below, with names distinct from conftest.py's voting server), then
driven with Debian's headless Chromium.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy.orm import Session

from app import migrations
from app.main import create_app
from app.settings import Settings
from ballots import accounts, casting, leaders, lifecycle, participants, rounds, subjects, tokens
from ballots.db import make_engine, make_session_factory, transaction, utcnow
from ballots.vocabulary import Role, UserRole
from tests.ballot_helpers import answers_for, open_round_with_slips
from tests.live_server import loopback_socket, serving

WAIT_MS = 15_000
PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "vi-VN",
}
PASSWORD = "mật khẩu của bí thư"
ADMIN_PASSWORD = "quản trị viên 2023"
BALLOTS = {
    "PHUONG-BODE": [4, 3, 4, 4, 2, 3, 4],
    "PHUONG-CUKHOI": [3, 2, 3, 3, 2],
    "MN-BODE": [4, 4, 3],
}
COMMENTS = [
    "Đồng chí gần gũi, tiếp dân đúng giờ và giải quyết dứt điểm các kiến nghị của người dân",
    "Cần quyết liệt hơn trong xử lý vi phạm trật tự xây dựng trên địa bàn",
    "Nên tổ chức đối thoại định kỳ với cán bộ trẻ",
]
expect.set_options(timeout=WAIT_MS)


@dataclass(frozen=True)
class Portal:
    """The running app and the people in its published round."""

    base_url: str
    round_id: int
    subject_id: int  # the head who logs in: Bí thư Đảng ủy phường Bồ Đề, in 2023
    earlier_id: int  # the same head in the 2022 round
    username: str
    setup_code: str
    others: list[int]  # every other subject of both rounds


@pytest.fixture(scope="session")
def portal_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite file used by no other test."""
    url = f"sqlite:///{tmp_path_factory.mktemp('portal') / 'portal.db'}"
    migrations.upgrade(url)
    return url


def _earlier_round(db: Session, sample_data: Path) -> int:
    """A published 2022 round of Phường Bồ Đề alone, all rated Khá: the trend's first point."""
    round_id = rounds.create_round(
        db, title="Lấy ý kiến năm 2022", year=2022, anonymity_threshold=5, actor="t"
    ).id
    subjects.import_subjects(
        db, round_id, (sample_data / "long_bien_subjects.csv").read_bytes(), actor="t"
    )
    participants.set_round_units(db, round_id, [("PHUONG-BODE", None)], actor="t")
    plain = tokens.issue_tokens(db, round_id, "PHUONG-BODE", 6, actor="t").tokens
    lifecycle.open_round(db, round_id, actor="t", key_holders=None)
    for token in plain:
        casting.cast(db, token, answers_for(casting.preview(db, token), value=3))
    lifecycle.close_round(db, round_id, actor="t")
    lifecycle.publish_round(db, round_id, actor="t")
    return round_id


@pytest.fixture(scope="session")
def portal_round(portal_database_url: str, sample_data: Path) -> dict[str, Any]:
    """Cast ballots, close, publish, make the heads' logins and an admin; committed."""
    engine = make_engine(portal_database_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            round_id, slips = open_round_with_slips(
                db, sample_data, {u: len(v) for u, v in BALLOTS.items()}, threshold=5
            )
            for unit, tokens in slips.items():
                for i, token in enumerate(tokens):
                    form = casting.preview(db, token)
                    texts = {"strengths": COMMENTS[i % 3]} if unit == "PHUONG-BODE" else {}
                    casting.cast(db, token, answers_for(form, value=BALLOTS[unit][i], **texts))
            lifecycle.close_round(db, round_id, actor="t")
            lifecycle.publish_round(db, round_id, actor="t")
            invites = leaders.create_leader_accounts(db, round_id, actor="t", now=utcnow())
            earlier = _earlier_round(db, sample_data)
            linked = leaders.create_leader_accounts(db, earlier, actor="t", now=utcnow())
            accounts.create_user(
                db,
                username="quantri",
                full_name="Quản trị",
                role=UserRole.ADMIN,
                password=ADMIN_PASSWORD,
                actor="t",
            )
            heads = subjects.list_subjects(db, round_id) + subjects.list_subjects(db, earlier)
            mine, then = (
                s.id
                for s in heads
                if s.unit.code == "PHUONG-BODE" and s.role is Role.WARD_PARTY_SECRETARY
            )
            invite = next(i for i in invites if i.subject_id == mine)
            assert invite.setup_code is not None
            assert next(i for i in linked if i.subject_id == then).username == invite.username
            return {
                "round_id": round_id,
                "subject_id": mine,
                "earlier_id": then,
                "username": invite.username,
                "setup_code": invite.setup_code,
                "others": [s.id for s in heads if s.id not in (mine, then)],
            }
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def portal_server(portal_database_url: str, portal_round: dict[str, Any]) -> Iterator[Portal]:
    """The real app under uvicorn in a background thread on a free loopback port."""
    sock = loopback_socket()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = Settings(
        database_url=portal_database_url, secret_key="p" * 40, public_base_url=base_url
    )
    with sock, serving(create_app(settings), sock):
        yield Portal(base_url=base_url, **portal_round)


@pytest.fixture
def portal_phone(chromium_browser: Browser, portal_server: Portal) -> Iterator[BrowserContext]:
    """A fresh phone-sized browser context."""
    context = chromium_browser.new_context(**PHONE, base_url=portal_server.base_url)
    context.set_default_timeout(WAIT_MS)
    context.set_default_navigation_timeout(WAIT_MS)
    yield context
    context.close()


def _no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width} px wide on a 360 px screen"


def _report_ids(page: Page) -> set[int]:
    hrefs: list[str] = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    return {int(m.group(1)) for h in hrefs if (m := re.search(r"/reports/(\d+)", h))}


def _log_in(page: Page, username: str, password: str) -> None:
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]:has-text('Đăng nhập')")
    page.wait_for_url("**/")


def test_leader_reads_own_report_on_a_phone(
    portal_phone: BrowserContext, portal_server: Portal, screenshot_dir: Path
) -> None:
    """Setup code, password, login, the report at 360 px; no way to another head's report."""
    page = portal_phone.new_page()
    page.goto("/login")
    page.click("a[href='/setup']")
    page.fill("input[name=username]", portal_server.username)
    page.fill("input[name=code]", portal_server.setup_code.lower())
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password_again]", PASSWORD)
    _no_sideways_scroll(page)
    page.screenshot(path=str(screenshot_dir / "setup.png"), full_page=True)
    page.click("button[type=submit]")
    expect(page.locator(".success")).to_contain_text("Đã đặt mật khẩu")
    _log_in(page, portal_server.username, PASSWORD)
    seen = _report_ids(page)
    page.click("a[href='/reports']")
    expect(page.locator("h1")).to_have_text("Kết quả lấy ý kiến của bạn")
    seen |= _report_ids(page)
    expect(page.locator(".cards a")).to_have_count(2)
    page.screenshot(path=str(screenshot_dir / "reports.png"), full_page=True)
    page.click(f"a[href='/reports/{portal_server.subject_id}']")
    expect(page.locator("h1")).to_have_text("Bùi Xuân Sơn")
    expect(page.locator(".criterion svg.chart")).to_have_count(7)
    expect(page.locator(".comments li")).to_have_count(len(BALLOTS["PHUONG-BODE"]))
    expect(page.locator("#ballots")).to_have_text("7")
    expect(page.locator("table.trend tbody tr")).to_have_count(2)
    expect(page.locator("table.trend tbody tr").first).to_contain_text("3,00")
    expect(page.locator("svg.trend")).to_be_visible()
    seen |= _report_ids(page)
    _no_sideways_scroll(page)
    page.screenshot(path=str(screenshot_dir / "report.png"), full_page=True)
    own = {portal_server.subject_id, portal_server.earlier_id}
    assert seen == own, "only the head's own reports may be linked"
    pdf = portal_phone.request.get(f"/reports/{portal_server.subject_id}.pdf")
    assert pdf.status == 200
    assert pdf.body().startswith(b"%PDF")
    for other in portal_server.others[:3] + portal_server.others[-2:]:
        reply = page.goto(f"/reports/{other}")
        assert reply is not None
        assert reply.status == 404
        expect(page.locator(".error")).to_have_text("Không tìm thấy kết quả này.")
        assert "Vũ Minh Dũng" not in page.content()
    page.screenshot(path=str(screenshot_dir / "not-found.png"), full_page=True)


def test_admin_results_table_on_a_phone(
    portal_phone: BrowserContext, portal_server: Portal, screenshot_dir: Path
) -> None:
    """The round's table scrolls inside its box; the page itself does not scroll sideways."""
    page = portal_phone.new_page()
    page.goto("/login")
    _log_in(page, "quantri", ADMIN_PASSWORD)
    page.click(f"a[href='/rounds/{portal_server.round_id}/results']")
    page.click("th a:has-text('Điểm TB')")
    expect(page.locator("th[aria-sort]")).to_contain_text("Điểm TB")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(5)
    expect(rows.last).to_contain_text("chưa đủ phiếu")
    _no_sideways_scroll(page)
    page.screenshot(path=str(screenshot_dir / "results.png"), full_page=True)
    page.click("#results tbody tr:last-child a")
    expect(page.locator("#not-enough")).to_have_text(
        "Chưa đủ số phiếu để bảo đảm ẩn danh (cần ít nhất 5 phiếu)."
    )
    expect(page.locator("svg")).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "below-threshold.png"), full_page=True)
    page.go_back()
    page.click("#results tbody tr:first-child a")
    expect(page.locator(".criterion svg.chart")).to_have_count(7)
    _no_sideways_scroll(page)
