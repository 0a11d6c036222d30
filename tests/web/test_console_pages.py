"""The committee's console: every step of a round through HTML pages, on both databases.

Each test drives the pages as a browser would (forms, the CSRF field, redirects) and checks
the result through the services or the API, and that a Vietnamese page shows no English.
"""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from pypdf import PdfReader
from sqlalchemy.orm import Session, sessionmaker

from app.main import PAGE_ROUTERS
from ballots import accounts, casting, lottery, rounds, tokens, units
from ballots.participants import list_round_units
from ballots.vocabulary import RoundStatus, UserRole
from tests.ballot_helpers import answers_for
from tests.i18n_helpers import english_on_page

PASSWORD = "mật khẩu đủ dài 2023"
HTML = {"accept": "text/html"}
TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')
DATA = Path(__file__).resolve().parents[2] / "app" / "demo_data"


def _log_in(client: TestClient, factory: sessionmaker[Session], role: UserRole) -> str:
    """Log in as a new account of ``role``; returns the CSRF token of its session."""
    name = f"{role.value}1"
    with factory() as db:
        accounts.create_user(
            db,
            username=name,
            full_name=f"Cán bộ {role.value}",
            role=role,
            password=PASSWORD,
            actor="test",
        )
        db.commit()
    home = client.post("/login", data={"username": name, "password": PASSWORD})
    match = TOKEN.search(home.text)
    assert match
    return match.group(1)


def _vi(page: Response) -> str:
    """The page, asserted to show no English while the language is Vietnamese."""
    assert '<html lang="vi">' in page.text
    found = english_on_page(page.text)
    assert not found, found
    return page.text


@pytest.fixture
def admin(client: TestClient, session_factory: sessionmaker[Session]) -> tuple[TestClient, str]:
    """A logged-in admin and the session's CSRF token."""
    return client, _log_in(client, session_factory, UserRole.ADMIN)


def _inputs(page: str) -> dict[str, str]:
    """The text and number fields of a page's form with their values, as a browser sends them."""
    pairs = re.findall(r'<input name="([^"]+)" type="(?:text|number)" value="([^"]*)"', page)
    return {name: html.unescape(value) for name, value in pairs}


def _create_round(c: TestClient, token: str, **fields: str) -> int:
    data = {
        "title": "Lấy ý kiến người đứng đầu năm 2026",
        "year": "2026",
        "plan_reference": "Kế hoạch số 104-KH/QU",
        "anonymity_threshold": "5",
        "csrf_token": token,
        **fields,
    }
    reply = c.post("/rounds", data=data, follow_redirects=False)
    assert reply.status_code == 303, reply.text
    return int(reply.headers["location"].split("/")[2].split("?")[0])


def _upload(c: TestClient, token: str, path: str, body: bytes) -> Response:
    return c.post(
        path, data={"csrf_token": token}, headers=HTML, files={"file": ("f.csv", body, "text/csv")}
    )


def _confirm_import(c: TestClient, token: str, preview: Response, path: str) -> None:
    data = re.search(r'name="data" value="([^"]*)"', preview.text)
    assert data
    reply = c.post(path, data={"csrf_token": token, "data": data.group(1)}, follow_redirects=False)
    assert reply.status_code == 303, reply.text


def _ready_round(c: TestClient, token: str) -> int:
    """A draft round with units, wards, drawn schools and heads, through the pages."""
    round_id = _create_round(c, token)
    units_csv = (DATA / "long_bien_units.csv").read_bytes()
    preview = _upload(c, token, f"/rounds/{round_id}/units/preview", units_csv)
    _confirm_import(c, token, preview, f"/rounds/{round_id}/units/import")
    c.post(f"/rounds/{round_id}/wards", data={"csrf_token": token})
    c.post(
        f"/rounds/{round_id}/lottery",
        data={
            "csrf_token": token,
            "phrase": "3 5 1 6 2 4",
            "count_kindergarten": "1",
            "count_primary": "1",
            "count_lower_secondary": "1",
        },
    )
    heads = _upload(
        c,
        token,
        f"/rounds/{round_id}/heads/preview",
        (DATA / "long_bien_subjects.csv").read_bytes(),
    )
    _confirm_import(c, token, heads, f"/rounds/{round_id}/heads/import")
    return round_id


class TestRoundsPages:
    """Listing and creating rounds; the round's checklist."""

    def test_create_a_round_and_see_its_checklist_in_vietnamese(
        self, admin: tuple[TestClient, str], db: Session
    ) -> None:
        """The form creates a draft; its page lists the steps, done or to do, and why."""
        c, token = admin
        _vi(c.get("/rounds", headers=HTML))
        round_id = _create_round(c, token)
        created = rounds.get_round(db, round_id)
        assert created.plan_reference == "Kế hoạch số 104-KH/QU"
        assert created.status is RoundStatus.DRAFT
        page = _vi(c.get(f"/rounds/{round_id}?done=created", headers=HTML))
        assert "Đã tạo đợt lấy ý kiến." in page
        assert "Các bước" in page
        assert "Tải lên tệp CSV các phường và trường." in page  # the units step, to do
        assert 'class="step blocked"' in page  # e.g. open: no slips yet
        assert f'href="/rounds/{round_id}/units"' in page

    def test_a_bad_threshold_is_refused_as_the_api_refuses_it(
        self, admin: tuple[TestClient, str], db: Session
    ) -> None:
        """K = 2 comes back on the form in Vietnamese and creates nothing."""
        c, token = admin
        reply = c.post(
            "/rounds",
            headers=HTML,
            data={
                "csrf_token": token,
                "title": "Đợt thử",
                "year": "2026",
                "anonymity_threshold": "2",
            },
        )
        assert reply.status_code == 422
        assert "Hãy kiểm tra lại: Ngưỡng ẩn danh k." in _vi(reply)
        assert rounds.list_rounds(db) == []

    def test_the_page_in_english_with_the_switch(self, admin: tuple[TestClient, str]) -> None:
        """The switch keeps the page; the same checklist reads in English."""
        c, token = admin
        round_id = _create_round(c, token)
        c.get(f"/lang/en?next=/rounds/{round_id}")
        page = c.get(f"/rounds/{round_id}", headers=HTML).text
        assert "Upload the CSV file of wards and schools." in page
        assert "Tải lên tệp CSV" not in page


class TestUnitsAndHeads:
    """CSV uploads with a preview, electorates."""

    def test_preview_imports_nothing_and_confirm_imports(
        self, admin: tuple[TestClient, str], db: Session
    ) -> None:
        """The preview shows the rows and counts; only the confirmation imports."""
        c, token = admin
        round_id = _create_round(c, token)
        body = (DATA / "long_bien_units.csv").read_bytes()
        preview = _upload(c, token, f"/rounds/{round_id}/units/preview", body)
        assert preview.status_code == 200
        text = _vi(preview)
        assert "Phường Bồ Đề" in text
        assert "Khi nhập sẽ tạo mới 59" in text
        assert units.list_units(db) == []
        _confirm_import(c, token, preview, f"/rounds/{round_id}/units/import")
        assert len(units.list_units(db)) == 59

    def test_a_bad_file_shows_its_lines_and_imports_nothing(
        self, admin: tuple[TestClient, str], db: Session
    ) -> None:
        """Every problem is listed with its line number, in Vietnamese."""
        c, token = admin
        round_id = _create_round(c, token)
        body = (
            "code,kind,level,name,ward\nPHUONG-A,ward,,Phường A,Phường A\n"
            "PHUONG-B,town,,Phường B,Phường B\nTRUONG-C,school,college,Trường C,Phường A\n"
        )
        reply = _upload(c, token, f"/rounds/{round_id}/units/preview", body.encode())
        assert reply.status_code == 422
        text = _vi(reply)
        assert "Dòng 3: loại &#39;town&#39;" in reply.text or "Dòng 3: loại 'town'" in text
        assert "Dòng 4:" in text
        assert "chưa nhập dữ liệu nào" in text
        assert units.list_units(db) == []

    def test_wards_join_and_electorates_are_edited(
        self, admin: tuple[TestClient, str], db: Session
    ) -> None:
        """'Add every ward', then the table changes one number; a bad number is refused."""
        c, token = admin
        round_id = _ready_round(c, token)
        wards = [p for p in list_round_units(db, round_id) if p.unit.kind.value == "ward"]
        assert len(wards) == 14
        page = _vi(c.get(f"/rounds/{round_id}/units", headers=HTML))
        assert 'name="electorate:PHUONG-BODE"' in page
        reply = c.post(
            f"/rounds/{round_id}/electorate",
            data={"csrf_token": token, "electorate:PHUONG-BODE": "120"},
            follow_redirects=False,
        )
        assert reply.status_code == 303
        electorate = {p.unit.code: p.electorate for p in list_round_units(db, round_id)}
        assert electorate["PHUONG-BODE"] == 120
        bad = c.post(
            f"/rounds/{round_id}/electorate",
            headers=HTML,
            data={"csrf_token": token, "electorate:PHUONG-BODE": "0"},
        )
        assert bad.status_code == 422
        assert "Số người được phát phiếu của PHUONG-BODE phải từ 1 đến" in _vi(bad)

    def test_heads_are_listed_with_vietnamese_roles(self, admin: tuple[TestClient, str]) -> None:
        """The heads page names each role in Vietnamese."""
        c, token = admin
        round_id = _ready_round(c, token)
        page = _vi(c.get(f"/rounds/{round_id}/heads", headers=HTML))
        assert "Bí thư Đảng ủy phường" in page
        assert "Bùi Xuân Sơn" in page


class TestLottery:
    """The pool's digest, the draw, the proof, the redraw behind a confirmation."""

    def test_draw_shows_schools_and_a_printable_proof(
        self, admin: tuple[TestClient, str], db: Session
    ) -> None:
        """The drawn schools join the round; the proof page carries the seed and the pool."""
        c, token = admin
        round_id = _ready_round(c, token)
        draw = lottery.get_draw(db, round_id)
        page = _vi(c.get(f"/rounds/{round_id}/lottery", headers=HTML))
        assert draw.pool_digest in page
        assert "Đã kiểm tra" in page
        proof = _vi(c.get(f"/rounds/{round_id}/lottery/proof", headers=HTML))
        assert draw.seed in proof
        assert "3 5 1 6 2 4" in proof

    def test_redraw_asks_first_and_needs_a_reason(
        self, admin: tuple[TestClient, str], db: Session
    ) -> None:
        """Without confirmation nothing changes; with it and a reason the draw is replaced."""
        c, token = admin
        round_id = _ready_round(c, token)
        first = lottery.get_draw(db, round_id).id
        fields = {
            "csrf_token": token,
            "phrase": "6 6 6",
            "count_kindergarten": "1",
            "count_primary": "1",
            "count_lower_secondary": "1",
        }
        ask = c.post(f"/rounds/{round_id}/lottery", data=fields, headers=HTML)
        assert "Không thể hoàn tác" in _vi(ask)
        assert lottery.get_draw(db, round_id).id == first
        done = c.post(
            f"/rounds/{round_id}/lottery",
            data={**fields, "confirmed": "yes", "reason": "Sai danh sách trường"},
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert lottery.get_draw(db, round_id).reason == "Sai danh sách trường"


class TestQuestionnaire:
    """The editor applies the API's rules."""

    def test_remove_reorder_and_add_a_criterion(
        self, admin: tuple[TestClient, str], db: Session
    ) -> None:
        """Rows move by their order number, a ticked row goes, a filled blank row comes."""
        c, token = admin
        round_id = _create_round(c, token)
        before = rounds.get_questionnaire(db, round_id)
        page = _vi(c.get(f"/rounds/{round_id}/questionnaire", headers=HTML))
        fields = _inputs(page)
        fields.update(
            {
                "csrf_token": token,
                "criteria-0-remove": "1",
                "criteria-2-order": "0",
                f"criteria-{len(before.criteria)}-key": "listening",
                f"criteria-{len(before.criteria)}-vi": "Lắng nghe ý kiến cấp dưới",
                f"criteria-{len(before.criteria)}-en": "Listening to subordinates",
                f"criteria-{len(before.criteria)}-order": "99",
            }
        )
        for i in range(len(before.criteria) + 1):
            fields.setdefault(f"criteria-{i}-order", str(i + 1))
        reply = c.post(f"/rounds/{round_id}/questionnaire", data=fields, follow_redirects=False)
        assert reply.status_code == 303, reply.text
        after = rounds.get_questionnaire(db, round_id)
        keys = [k.key for k in after.criteria]
        assert keys[0] == before.criteria[2].key
        assert before.criteria[0].key not in keys
        assert keys[-1] == "listening"

    def test_an_invalid_key_is_refused_in_vietnamese(
        self, admin: tuple[TestClient, str], db: Session
    ) -> None:
        """A key with capitals comes back with the row named; nothing is saved."""
        c, token = admin
        round_id = _create_round(c, token)
        before = rounds.get_questionnaire(db, round_id)
        page = c.get(f"/rounds/{round_id}/questionnaire", headers=HTML).text
        fields = _inputs(page)
        fields.update({"csrf_token": token, "criteria-1-key": "Sai Khoa"})
        reply = c.post(f"/rounds/{round_id}/questionnaire", data=fields, headers=HTML)
        assert reply.status_code == 422
        assert "Tiêu chí 2, khóa: khóa bắt đầu bằng chữ cái" in _vi(reply)
        assert rounds.get_questionnaire(db, round_id) == before


class TestSlipsAndLifecycle:
    """Slips, open, turnout, close, results, publish and the heads' setup codes."""

    def test_a_whole_round_through_the_pages(
        self, admin: tuple[TestClient, str], db: Session
    ) -> None:
        """Every step from slips to the setup-code cards, each refusal in Vietnamese."""
        c, token = admin
        round_id = _ready_round(c, token)
        # Over the electorate: refused, then the override needs a reason.
        over = c.post(
            f"/rounds/{round_id}/slips",
            headers=HTML,
            data={"csrf_token": token, "unit_code": "PHUONG-BODE", "count": "500"},
        )
        assert over.status_code == 409
        assert "vượt số người" in _vi(over)
        assert 'name="override"' in over.text
        no_reason = c.post(
            f"/rounds/{round_id}/slips",
            headers=HTML,
            data={"csrf_token": token, "unit_code": "PHUONG-BODE", "count": "500", "override": "1"},
        )
        assert no_reason.status_code == 422
        pdf = c.post(
            f"/rounds/{round_id}/slips",
            data={"csrf_token": token, "unit_code": "PHUONG-BODE", "count": "6"},
        )
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["cache-control"] == "no-store"
        assert len(PdfReader(io.BytesIO(pdf.content)).pages) >= 1
        # Open behind its confirmation page, with the key ceremony (5 holders, 3 needed).
        ask = _vi(c.get(f"/rounds/{round_id}/open", headers=HTML))
        assert "Không thể hoàn tác" in ask
        assert ask.count('name="holder"') == 5
        alone = c.post(
            f"/rounds/{round_id}/open",
            data={"csrf_token": token, "holder": ["Nguyễn Văn An"]},
            headers=HTML,
        )
        assert alone.status_code == 422
        assert "ít nhất 2 người giữ khóa" in _vi(alone)
        holders = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Hoàng Em"]
        opened = c.post(
            f"/rounds/{round_id}/open",
            data={"csrf_token": token, "holder": holders, "shares_needed": "3"},
            headers=HTML,
        )
        assert opened.status_code == 200
        assert opened.headers["cache-control"] == "no-store"
        assert "chỉ hiện một lần" in _vi(opened)
        shares = [
            base64.b64decode(b).decode().strip()
            for b in re.findall(r'href="data:text/plain;base64,([^"]+)"', opened.text)
        ]
        assert len(shares) == 5
        assert opened.text.count('href="data:application/pdf;base64,') == 5
        assert rounds.get_round(db, round_id).status is RoundStatus.OPEN
        # Votes arrive: the turnout JSON counts them, nothing else.
        plain = tokens.issue_tokens(db, round_id, "PHUONG-BODE", 5, actor="t").tokens
        for t in plain:
            casting.cast(db, t, answers_for(casting.preview(db, t), value=3))
        counts = c.get(f"/rounds/{round_id}/turnout.json").json()
        assert counts["ballots"] == 5
        assert set(counts["units"][0]) == {"code", "ballots", "live", "electorate"}
        page = _vi(c.get(f"/rounds/{round_id}/turnout", headers=HTML))
        assert 'src="/static/turnout.js"' in page
        # Void a batch behind its page, with a reason.
        batch_id = tokens.list_batches(db, round_id)[0][0].id
        _vi(c.get(f"/rounds/{round_id}/batches/{batch_id}/void", headers=HTML))
        assert (
            c.post(
                f"/rounds/{round_id}/batches/{batch_id}/void",
                data={"csrf_token": token},
                headers=HTML,
            ).status_code
            == 422
        )
        assert (
            c.post(
                f"/rounds/{round_id}/batches/{batch_id}/void",
                data={"csrf_token": token, "reason": "Mất phiếu"},
                follow_redirects=False,
            ).status_code
            == 303
        )
        # Publishing before the close is refused on its page.
        early = c.post(f"/rounds/{round_id}/publish", data={"csrf_token": token}, headers=HTML)
        assert early.status_code == 409
        _vi(early)
        # The close asks for three shares; two are refused in Vietnamese, nothing changes.
        ask_close = _vi(c.get(f"/rounds/{round_id}/close", headers=HTML))
        assert ask_close.count('name="share"') == 3
        two = c.post(
            f"/rounds/{round_id}/close",
            data={"csrf_token": token, "share": shares[:2]},
            headers=HTML,
        )
        assert two.status_code == 422
        assert "cần thêm 1 phần" in _vi(two)
        assert rounds.get_round(db, round_id).status is RoundStatus.OPEN
        closed = c.post(
            f"/rounds/{round_id}/close",
            data={"csrf_token": token, "share": shares[1:3]},
            files=[("share_file", ("khoa.txt", shares[4].encode(), "text/plain"))],
            follow_redirects=False,
        )
        assert closed.status_code == 303, closed.text
        round_page = _vi(c.get(f"/rounds/{round_id}", headers=HTML))
        assert f'href="/rounds/{round_id}/results"' in round_page
        assert "Người được lấy ý kiến" in _vi(c.get(f"/rounds/{round_id}/results", headers=HTML))
        c.cookies.set("phieukin_lang", "en")
        assert "Heads evaluated" in c.get(f"/rounds/{round_id}/results", headers=HTML).text
        c.cookies.set("phieukin_lang", "vi")
        assert (
            c.post(
                f"/rounds/{round_id}/publish", data={"csrf_token": token}, follow_redirects=False
            ).status_code
            == 303
        )
        # The heads' accounts: a sheet of cards, then nothing new the second time.
        _vi(c.get(f"/rounds/{round_id}/leaders", headers=HTML))
        cards = c.post(f"/rounds/{round_id}/leaders", data={"csrf_token": token})
        assert cards.headers["content-type"] == "application/pdf"
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(cards.content)).pages)
        assert "Mã thiết lập dùng một lần" in text
        assert "Bùi Xuân Sơn" in text
        again = c.post(f"/rounds/{round_id}/leaders", data={"csrf_token": token}, headers=HTML)
        assert "không có mã mới" in _vi(again)


class TestObservers:
    """Observers read every page without write controls; the POST routes refuse them."""

    def test_pages_read_only_and_posts_refused(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        """No write form on any console page; each POST route answers 403."""
        admin_token = _log_in(client, session_factory, UserRole.ADMIN)
        round_id = _ready_round(client, admin_token)
        client.post("/logout", data={"csrf_token": admin_token})
        token = _log_in(client, session_factory, UserRole.OBSERVER)
        for path in (
            "/rounds",
            f"/rounds/{round_id}",
            f"/rounds/{round_id}/units",
            f"/rounds/{round_id}/heads",
            f"/rounds/{round_id}/lottery",
            f"/rounds/{round_id}/questionnaire",
            f"/rounds/{round_id}/slips",
            f"/rounds/{round_id}/turnout",
            f"/rounds/{round_id}/leaders",
            f"/rounds/{round_id}/lottery/proof",
        ):
            page = client.get(path, headers=HTML)
            assert page.status_code == 200, path
            forms = re.findall(r'<form method="post" action="([^"]+)"', page.text)
            assert forms == ["/logout"], (path, forms)
            assert "<input name=" not in page.text, path
            _vi(page)
        for path in (f"/rounds/{round_id}/open", f"/rounds/{round_id}/close"):
            assert client.get(path, headers=HTML).status_code == 403
        console = [
            r.path
            for router in PAGE_ROUTERS
            for r in router.routes
            if r.path.startswith("/rounds") and "POST" in getattr(r, "methods", ())
        ]
        assert len(console) >= 14
        for path in console:
            concrete = (
                path.replace("{round_id:int}", str(round_id))
                .replace("{batch_id:int}", "1")
                .replace("{round_id}", str(round_id))
            )
            reply = client.post(concrete, data={"csrf_token": token}, headers=HTML)
            assert reply.status_code == 403, concrete
        with session_factory() as db:
            assert rounds.get_round(db, round_id).status is RoundStatus.DRAFT

    def test_a_leader_cannot_open_the_console(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        """A head's account gets 403 on the console's pages."""
        _log_in(client, session_factory, UserRole.LEADER)
        assert client.get("/rounds", headers=HTML).status_code == 403
