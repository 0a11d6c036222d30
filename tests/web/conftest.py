"""Browser fixtures: a real server on loopback with an open round, printed slips, Chromium.

The server runs in another thread, so the data lives in a committed SQLite file (not the
rolled-back ``db`` fixture). Slips are read back the way a phone does: the PDF is rendered
and every QR code decoded, and the browser opens exactly the decoded URL.
"""

from __future__ import annotations

import io
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from playwright.sync_api import Browser, sync_playwright

from app import migrations
from app.main import create_app
from app.settings import Settings
from ballots import lifecycle, participants, rounds, subjects, tokens, units
from ballots.db import make_engine, make_session_factory, transaction
from crypto.tokens import normalize_token
from tests.live_server import loopback_socket, serving

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROUND_TITLE = "Lấy ý kiến người đứng đầu năm 2023"
UNIT_CODE = "PHUONG-BODE"
# The browser votes into a sealed round, as every round opened from the console is.
HOLDERS = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"]
# One slip per test that votes, so every test can run alone and in any order.
SLIP_PURPOSES = ("phone", "reused", "network", "storage", "no_js", "language")
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Slip:
    """A printed slip as a phone sees it: the decoded QR text and the canonical token."""

    url: str
    token: str


@dataclass(frozen=True)
class VotingServer:
    """The running app: where it answers and which database it uses."""

    base_url: str
    database_url: str


def scan_slips(pdf: bytes) -> list[str]:
    """Render every page at 200 dpi and return the text of every QR code, in page order."""
    document = pdfium.PdfDocument(io.BytesIO(pdf))
    found: list[str] = []
    for page in document:
        image = page.render(scale=200 / 72, grayscale=True).to_pil()
        codes = zxingcpp.read_barcodes(
            image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
        )
        found += [code.text for code in codes]
    return found


@pytest.fixture(scope="session")
def web_socket() -> Iterator[socket.socket]:
    """A bound loopback socket; its port is fixed before slips print the base URL."""
    sock = loopback_socket()
    yield sock
    sock.close()


@pytest.fixture(scope="session")
def web_base_url(web_socket: socket.socket) -> str:
    """http://127.0.0.1:<port>, as printed on the slips."""
    return f"http://127.0.0.1:{web_socket.getsockname()[1]}"


@pytest.fixture(scope="session")
def web_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite file of its own (never the sqlite/postgresql ``database_url``)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'voting.db'}"
    migrations.upgrade(url)
    return url


@pytest.fixture(scope="session")
def web_round(web_database_url: str, web_base_url: str, sample_data: Path) -> tuple[int, bytes]:
    """An open round for Phường Bồ Đề with one batch of slips: (round id, slips PDF)."""
    engine = make_engine(web_database_url)
    factory = make_session_factory(engine)
    try:
        with transaction(factory) as session:
            units.import_units(
                session, (sample_data / "long_bien_units.csv").read_bytes(), actor="test"
            )
            round_id = rounds.create_round(
                session, title=ROUND_TITLE, year=2023, anonymity_threshold=5, actor="test"
            ).id
            subjects.import_subjects(
                session,
                round_id,
                (sample_data / "long_bien_subjects.csv").read_bytes(),
                actor="test",
            )
            participants.set_round_units(session, round_id, [(UNIT_CODE, None)], actor="test")
            issued = tokens.issue_slips(
                session,
                round_id,
                UNIT_CODE,
                len(SLIP_PURPOSES),
                base_url=web_base_url,
                actor="test",
            )
            pdf = issued.pdf
            lifecycle.open_round(session, round_id, actor="test", key_holders=HOLDERS)
    finally:
        engine.dispose()
    return round_id, pdf


@pytest.fixture(scope="session")
def slip_urls(web_round: tuple[int, bytes], web_base_url: str) -> dict[str, Slip]:
    """The scanned slips, one per purpose in SLIP_PURPOSES."""
    urls = scan_slips(web_round[1])
    prefix = web_base_url.upper() + "/V#"
    assert len(urls) == len(set(urls)) == len(SLIP_PURPOSES)
    assert all(u.startswith(prefix) for u in urls), urls
    slips = [Slip(url=u, token=normalize_token(u.split("#", 1)[1])) for u in urls]
    return dict(zip(SLIP_PURPOSES, slips, strict=True))


@pytest.fixture(scope="session")
def voting_server(
    web_round: tuple[int, bytes],
    web_socket: socket.socket,
    web_base_url: str,
    web_database_url: str,
) -> Iterator[VotingServer]:
    """The real app under uvicorn in a background thread, on the bound loopback socket."""
    settings = Settings(
        database_url=web_database_url, secret_key="x" * 40, public_base_url=web_base_url
    )
    with serving(create_app(settings), web_socket):
        yield VotingServer(base_url=web_base_url, database_url=web_database_url)


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Browser]:
    """Debian's headless Chromium, driven by Playwright; the tests skip without it."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed: browser tests skipped")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def screenshot_dir(request: pytest.FixtureRequest) -> Path:
    """test-output/web/<test name>/ under the repository root (ignored by git), emptied."""
    folder = REPO_ROOT / "test-output" / "web" / request.node.name
    shutil.rmtree(folder, ignore_errors=True)  # no picture of an earlier run left beside
    folder.mkdir(parents=True, exist_ok=True)
    return folder
