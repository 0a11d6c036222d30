"""The results pages: a head sees only their own report, below k nothing but one sentence.

A published round is built with the services (Phường Bồ Đề 7 ballots, Phường Cự Khối 5,
Trường Mầm non Bồ Đề 3 with k = 5); the head sets a password through /setup and logs in
through /login like a person would, then every page and the PDF are read back.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from xml.etree import ElementTree

import pypdfium2 as pdfium
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy.orm import Session, sessionmaker

from app.web import charts
from ballots import accounts, casting, leaders, lifecycle, subjects
from ballots.db import utcnow
from ballots.vocabulary import Role, UserRole
from tests.ballot_helpers import answers_for, open_round_with_slips

PASSWORD = "mật khẩu mới đủ dài"
ADMIN_PASSWORD = "quản trị viên 2023"
HTML = {"Accept": "text/html,application/xhtml+xml"}
# Ratings per ballot (every criterion of the unit's first head; the second gets one less).
VALUES = {
    "PHUONG-BODE": [4, 4, 3, 4, 3, 3, 4],
    "PHUONG-CUKHOI": [2, 2, 3, 1, 2],
    "MN-BODE": [4, 3, 4],
}
STRENGTH = "Đồng chí gương mẫu, tiếp dân đúng giờ; luôn lắng nghe ý kiến cán bộ trẻ"
TRICKY = '<b>đậm</b> & "trích dẫn"'
SHORTCOMING = "Cần khắc phục việc chậm trả lời đơn thư của người dân"
SMALL_SCHOOL_COMMENT = "Cô hiệu trưởng rất tận tâm với các cháu"
NOT_ENOUGH = "Chưa đủ số phiếu để bảo đảm ẩn danh (cần ít nhất 5 phiếu)."
MEAN = re.compile(r"\d+[.,]\d+")


@dataclass(frozen=True)
class Published:
    """The published round and who is who in it."""

    round_id: int
    subject_ids: dict[tuple[str, Role], int]  # (unit code, role) -> subject id
    every_subject: list[int]  # every subject of the round, taking part or not
    usernames: dict[int, str]  # subject id -> leader username
    codes: dict[int, str]  # subject id -> setup code


def _answers(form: casting.BallotForm, value: int, i: int, unit: str) -> dict[str, Any]:
    texts: dict[str, str] = {}
    if unit == "PHUONG-BODE":
        texts["strengths"] = TRICKY if i == 1 else f"{STRENGTH} ({i})"
        if i % 2 == 0:
            texts["shortcomings"] = SHORTCOMING
    elif unit == "MN-BODE":
        texts["strengths"] = SMALL_SCHOOL_COMMENT
    answers = answers_for(form, value=value, **texts)
    first, *others = (str(s.id) for s in form.subjects)
    for other in others:
        answers["ratings"][other] = dict.fromkeys(answers["ratings"][first], max(1, value - 1))
    if i == 0:  # one "not enough information" answer
        key = next(iter(answers["ratings"][first]))
        answers["ratings"][first][key] = 0
    return answers


@pytest.fixture
def published(session_factory: sessionmaker[Session], sample_data: Path) -> Published:
    """Cast, close, publish, make leader logins and one admin."""
    with session_factory() as db:
        round_id, slips = open_round_with_slips(
            db, sample_data, {u: len(v) for u, v in VALUES.items()}, threshold=5
        )
        for unit, tokens in slips.items():
            for i, token in enumerate(tokens):
                form = casting.preview(db, token)
                casting.cast(db, token, _answers(form, VALUES[unit][i], i, unit))
        lifecycle.close_round(db, round_id, actor="t")
        lifecycle.publish_round(db, round_id, actor="t")
        invites = leaders.create_leader_accounts(db, round_id, actor="t", now=utcnow())
        accounts.create_user(
            db,
            username="quantri",
            full_name="Quản trị",
            role=UserRole.ADMIN,
            password=ADMIN_PASSWORD,
            actor="t",
        )
        heads = subjects.list_subjects(db, round_id)
        db.commit()
        return Published(
            round_id=round_id,
            subject_ids={(s.unit.code, s.role): s.id for s in heads},
            every_subject=[s.id for s in heads],
            usernames={i.subject_id: i.username for i in invites},
            codes={i.subject_id: i.setup_code for i in invites if i.setup_code},
        )


@pytest.fixture
def clients(app: FastAPI) -> Iterator[list[TestClient]]:
    """Independent browsers (own cookies) on the same app; closed afterwards."""
    opened: list[TestClient] = []
    yield opened
    for c in opened:
        c.close()


def _browser(app: FastAPI, clients: list[TestClient]) -> TestClient:
    c = TestClient(app)
    clients.append(c)
    return c


def _log_in(c: TestClient, username: str, password: str) -> TestClient:
    reply = c.post(
        "/login", data={"username": username, "password": password}, follow_redirects=False
    )
    assert reply.status_code == 303, reply.text
    assert reply.headers["location"] == "/"
    return c


def _set_up(c: TestClient, username: str, code: str) -> None:
    reply = c.post(
        "/setup",
        data={"username": username, "code": code, "password": PASSWORD, "password_again": PASSWORD},
        follow_redirects=False,
    )
    assert reply.status_code == 303, reply.text
    assert reply.headers["location"] == "/login?setup=done"


def _leader(app: FastAPI, clients: list[TestClient], p: Published, subject_id: int) -> TestClient:
    """A browser in which the head of ``subject_id`` set a password and logged in."""
    c = _browser(app, clients)
    _set_up(c, p.usernames[subject_id], p.codes[subject_id])
    assert "Đã đặt mật khẩu" in c.get("/login?setup=done", headers=HTML).text
    return _log_in(c, p.usernames[subject_id], PASSWORD)


def _admin(app: FastAPI, clients: list[TestClient]) -> TestClient:
    return _log_in(_browser(app, clients), "quantri", ADMIN_PASSWORD)


def _report_links(page: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="/reports/(\d+)', page)}


def _visible_text(page: str) -> str:
    """The text inside <main>, tags removed and entities decoded."""
    main = page.split("<main>", 1)[1].split("</main>", 1)[0]
    return html.unescape(re.sub(r"<[^>]+>", " ", main))


def _pdf_text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(io.BytesIO(pdf))
    return "\n".join(page.get_textpage().get_text_range() for page in document)


def _xml(svg: str) -> ElementTree.Element:
    """Parse an SVG this app made (our own output, not untrusted input)."""
    return ElementTree.fromstring(svg)  # noqa: S314


def _secretary(p: Published) -> int:
    return p.subject_ids[("PHUONG-BODE", Role.WARD_PARTY_SECRETARY)]


def _principal(p: Published) -> int:
    return p.subject_ids[("MN-BODE", Role.SCHOOL_PRINCIPAL)]


class TestLeaderSetupAndLogin:
    """A head's first login goes through /setup with the one-time code."""

    def test_setup_refuses_mismatch_short_and_wrong_code(
        self, app: FastAPI, clients: list[TestClient], published: Published
    ) -> None:
        """Each mistake re-renders the form with one Vietnamese message; the code stays valid."""
        c = _browser(app, clients)
        sid = _secretary(published)
        user, code = published.usernames[sid], published.codes[sid]
        form = c.get("/setup", headers=HTML)
        assert form.status_code == 200
        assert 'name="password_again"' in form.text
        cases = [
            (
                {"code": code, "password": PASSWORD, "password_again": PASSWORD + "x"},
                422,
                "không khớp",
            ),
            ({"code": code, "password": "ngắn", "password_again": "ngắn"}, 422, "ít nhất 10"),
            (
                {"code": "AAAA-BBBB-CCCC-DDDD", "password": PASSWORD, "password_again": PASSWORD},
                401,
                "mã thiết lập không đúng",
            ),
        ]
        for data, status, message in cases:
            reply = c.post("/setup", data={"username": user, **data}, follow_redirects=False)
            assert reply.status_code == status
            assert message in reply.text
            assert f'value="{user}"' in reply.text
        _set_up(c, user, code)
        again = c.post(
            "/setup",
            data={
                "username": user,
                "code": code,
                "password": "khác hẳn rồi nhé",
                "password_again": "khác hẳn rồi nhé",
            },
        )
        assert again.status_code == 401, "a setup code works once"
        _log_in(c, user, PASSWORD)

    def test_login_page_links_to_setup_and_home_links_to_reports(
        self, app: FastAPI, clients: list[TestClient], published: Published
    ) -> None:
        """The login page offers /setup; a head's home page links to /reports."""
        c = _browser(app, clients)
        assert 'href="/setup"' in c.get("/login", headers=HTML).text
        c = _leader(app, clients, published, _secretary(published))
        assert 'href="/reports"' in c.get("/", headers=HTML).text


class TestLeaderReports:
    """What a head sees: their own report, nothing of anybody else's."""

    def test_reports_lists_only_own_subjects(
        self, app: FastAPI, clients: list[TestClient], published: Published
    ) -> None:
        """/reports links the head's subject and no other."""
        sid = _secretary(published)
        c = _leader(app, clients, published, sid)
        page = c.get("/reports", headers=HTML)
        assert page.status_code == 200
        assert _report_links(page.text) == {sid}
        assert "Bí thư Đảng ủy phường · Phường Bồ Đề" in page.text
        assert _report_links(c.get("/", headers=HTML).text) <= {sid}

    def test_own_report_shows_bars_means_and_comments(
        self, app: FastAPI, clients: list[TestClient], published: Published
    ) -> None:
        """Seven criteria charts, both means, comments grouped and escaped, a PDF link."""
        sid = _secretary(published)
        c = _leader(app, clients, published, sid)
        reply = c.get(f"/reports/{sid}", headers=HTML)
        assert reply.status_code == 200
        assert reply.headers["cache-control"] == "no-store"
        page = reply.text
        assert "Bùi Xuân Sơn" in page
        assert "Bí thư Đảng ủy phường" in page
        assert page.count('<svg class="chart"') == 7
        assert page.count("<title>") >= 7 * 5
        assert "Tốt: 4" in page  # ballots 0, 1, 3, 6 gave 4 (0 only outside criterion 1)
        assert "Không đủ thông tin để đánh giá: 1" in page
        assert page.count(">TB quận</text>") == 7
        assert page.count('<circle cx="') == 7  # the head's own mean on each criterion
        assert "<title>Trung bình quận, cùng chức danh: " in page
        assert '<strong id="ballots">7</strong>' in page
        api = c.get(f"/api/v1/reports/{sid}").json()
        assert f'<dd id="overall">{api["overall_mean"]:.2f}'.replace(".", ",") in page
        # Comments: under their question, in the order given, text escaped.
        strengths = page.index("Ưu điểm nổi bật")
        shortcomings = page.index("Hạn chế, khuyết điểm cần khắc phục")
        assert strengths < shortcomings
        assert page.count(STRENGTH) == 6
        assert page.count(SHORTCOMING) == 4
        assert str(escape(TRICKY)) in page
        assert TRICKY not in page
        assert "Mầm non" not in page
        assert SMALL_SCHOOL_COMMENT not in page
        assert f'href="/reports/{sid}.pdf"' in page
        assert "Qua các đợt" in page

    def test_pdf_is_a4_with_name_and_comments(
        self, app: FastAPI, clients: list[TestClient], published: Published
    ) -> None:
        """An attachment, not cached, whose text carries the diacritics intact."""
        sid = _secretary(published)
        c = _leader(app, clients, published, sid)
        reply = c.get(f"/reports/{sid}.pdf")
        assert reply.status_code == 200
        assert reply.headers["content-type"] == "application/pdf"
        assert reply.headers["content-disposition"].startswith("attachment;")
        assert reply.headers["cache-control"] == "no-store"
        assert reply.content.startswith(b"%PDF")
        document = pdfium.PdfDocument(io.BytesIO(reply.content))
        width, height = document[0].get_size()
        assert (round(width), round(height)) == (595, 842)
        text = _pdf_text(reply.content)
        assert "Bùi Xuân Sơn" in text
        assert "Bí thư Đảng ủy phường" in text
        assert "Ưu điểm nổi bật" in text
        assert SHORTCOMING in text.replace("\r\n", " ").replace("\n", " ")

    def test_every_other_subject_is_not_found(
        self, app: FastAPI, clients: list[TestClient], published: Published
    ) -> None:
        """HTML, PDF and JSON all answer 404 alike for others' ids and for ids that don't exist."""
        sid = _secretary(published)
        c = _leader(app, clients, published, sid)
        others = [s for s in published.every_subject if s != sid]
        assert len(others) >= 4
        missing = [0, max(published.every_subject) + 1, 987654321]
        bodies = set()
        for other in others + missing:
            page = c.get(f"/reports/{other}", headers=HTML)
            assert page.status_code == 404, other
            bodies.add(page.text)
            assert c.get(f"/reports/{other}.pdf").status_code == 404, other
            assert c.get(f"/api/v1/reports/{other}").status_code == 404, other
        assert len(bodies) == 1, "a probe must not tell existing ids from missing ones"
        assert "Không tìm thấy" in bodies.pop()
        assert c.get(f"/rounds/{published.round_id}/results", headers=HTML).status_code == 403


class TestBelowThreshold:
    """The school with 3 ballots: one sentence, no number, for everybody."""

    def _check_page(self, page: str) -> None:
        assert NOT_ENOUGH in page
        assert "<svg" not in page
        assert not MEAN.search(page)
        assert SMALL_SCHOOL_COMMENT not in page
        visible = _visible_text(page).replace("2023", "").replace(NOT_ENOUGH, "")
        assert not re.search(r"\d", visible), visible

    def test_head_of_small_unit_sees_one_sentence(
        self, app: FastAPI, clients: list[TestClient], published: Published
    ) -> None:
        """The principal's own page, PDF and JSON carry no number."""
        pid = _principal(published)
        c = _leader(app, clients, published, pid)
        page = c.get(f"/reports/{pid}", headers=HTML)
        assert page.status_code == 200
        self._check_page(page.text)
        text = _pdf_text(c.get(f"/reports/{pid}.pdf").content)
        assert NOT_ENOUGH in text
        assert not MEAN.search(text)
        assert "Số phiếu" not in text

    def test_admin_sees_the_same_sentence(
        self, app: FastAPI, clients: list[TestClient], published: Published
    ) -> None:
        """Admins get no more than the head below k: page and API alike."""
        pid = _principal(published)
        c = _admin(app, clients)
        page = c.get(f"/reports/{pid}", headers=HTML)
        assert page.status_code == 200
        self._check_page(page.text)
        body = c.get(f"/api/v1/reports/{pid}").json()
        assert body["enough"] is False
        for field in ("criteria", "ballots", "overall_mean", "district_overall_mean", "comments"):
            assert body[field] is None, field


class TestAdminResults:
    """The round's table for admins and observers."""

    def _rows(self, page: str) -> list[tuple[int, str]]:
        """(subject id, row html) in table order."""
        table = page.split('id="results"', 1)[1].split("</table>", 1)[0]
        return [
            (int(m.group(1)), m.group(2))
            for m in re.finditer(r'<tr data-subject="(\d+)"[^>]*>(.*?)</tr>', table, re.S)
        ]

    def _means(self, rows: list[tuple[int, str]]) -> list[float]:
        found = []
        for _, row in rows:
            m = re.search(r"<strong>(\d,\d\d)</strong>", row)
            if m:
                found.append(float(m.group(1).replace(",", ".")))
        return found

    def test_sorted_by_mean_both_ways_with_small_unit_last(
        self, app: FastAPI, clients: list[TestClient], published: Published
    ) -> None:
        """?sort=mean&dir=desc|asc orders the rows; the school below k is last, no numbers."""
        c = _admin(app, clients)
        pid = _principal(published)
        seen = {}
        for direction in ("desc", "asc"):
            reply = c.get(
                f"/rounds/{published.round_id}/results?sort=mean&dir={direction}", headers=HTML
            )
            assert reply.status_code == 200
            rows = self._rows(reply.text)
            assert len(rows) == 5
            assert rows[-1][0] == pid
            assert "chưa đủ phiếu" in rows[-1][1]
            assert not re.search(
                r"\d", re.sub(r"<[^>]+>", "", rows[-1][1]).replace("Trường Mầm non Bồ Đề", "")
            )
            means = self._means(rows)
            assert len(means) == 4
            assert means == sorted(means, reverse=direction == "desc")
            assert means[0] != means[-1]
            seen[direction] = [s for s, _ in rows[:-1]]
        assert seen["asc"] == list(reversed(seen["desc"]))

    def test_table_links_reports_csv_and_shows_turnout(
        self, app: FastAPI, clients: list[TestClient], published: Published
    ) -> None:
        """Names link to reports, headers are sort links, turnout has percentages."""
        c = _admin(app, clients)
        rid = published.round_id
        page = c.get(f"/rounds/{rid}/results", headers=HTML).text
        assert _report_links(page) == {
            s for (u, _), s in published.subject_ids.items() if u in VALUES
        }
        assert f'href="/api/v1/rounds/{rid}/results.csv"' in page
        for key in ("unit", "role", "mean", "ballots"):
            assert f'href="?sort={key}&amp;dir=' in page
        turnout = page.split('id="turnout"', 1)[1]
        assert re.search(r"Phường Bồ Đề</td><td class=\"num\">7</td>", turnout)
        assert "%" in turnout
        assert c.get(f"/api/v1/rounds/{rid}/results.csv").status_code == 200
        home = c.get("/", headers=HTML).text
        assert f'href="/rounds/{rid}/results"' in home
        assert c.get("/reports", follow_redirects=False).headers["location"] == "/"
        by_ballots = c.get(f"/rounds/{rid}/results?sort=ballots&dir=asc", headers=HTML).text
        first = self._rows(by_ballots)[0][0]
        assert first in {
            published.subject_ids[("PHUONG-CUKHOI", r)]
            for r in (Role.WARD_PARTY_SECRETARY, Role.WARD_CHAIRPERSON)
        }
        bogus = c.get(f"/rounds/{rid}/results?sort=evil&dir=sideways", headers=HTML)
        assert bogus.status_code == 200


class TestCharts:
    """The SVG helpers: well-formed, escaped, readable without colour."""

    SCALE: ClassVar[dict[int, str]] = {4: "Tốt", 3: "Khá", 2: "Trung bình", 1: "Yếu"}

    def test_criterion_chart_is_well_formed_and_escaped(self) -> None:
        """Every label is escaped; counts and both means are written as text."""
        svg = charts.criterion_chart(
            'Tiêu chí <script>alert("x")</script> & co',
            {4: 5, 3: 0, 2: 1, 1: 1},
            2,
            {**self.SCALE, 1: "Yếu <b>"},
            "Không đủ thông tin",
            3.428,
            1.0,
        )
        root = _xml(svg)
        assert root.tag.endswith("svg")
        assert "<script>" not in svg
        texts = " ".join(t for t in root.itertext())
        assert "Tốt: 5" in texts
        assert "Yếu <b>: 1" in texts
        assert "Không đủ thông tin: 2" in texts
        assert "3,43" in texts
        assert "1,00" in texts

    def test_charts_without_means(self) -> None:
        """A criterion nobody rated and a trend with a gap still render."""
        svg = charts.criterion_chart("T", {}, 3, self.SCALE, "Không rõ", None, None)
        assert "chưa có" in svg
        _xml(svg)
        trend = charts.trend_chart([("2021", 2.5), ("2022", None), ("2023", 3.75)])
        _xml(trend)
        assert "chưa đủ phiếu" in trend
        assert "3,75" in trend
