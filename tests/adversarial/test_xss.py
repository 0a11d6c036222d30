"""Script in every field a page or PDF shows back is shown as text, never run.

The payload goes into everything a user can write that is shown again: unit and head names
(CSV imports), the round's title, questionnaire labels, voters' comments, and form values
echoed on a refused login or setup. Every page that shows them is parsed: the payload's
markup never appears as an element or an event attribute, only as escaped text; the report
PDF carries it as text and holds no script action.
"""

from __future__ import annotations

import io
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.orm import Session, sessionmaker

from ballots import (
    accounts,
    casting,
    leaders,
    lifecycle,
    rounds,
    setup_codes,
    tokens,
    units,
)
from ballots.db import utcnow
from ballots.participants import set_round_units
from ballots.questionnaire import default_questionnaire
from ballots.subjects import import_subjects, list_subjects
from ballots.vocabulary import Role, UserRole

PASSWORD = "mật khẩu đủ dài 2023"
# Closes an attribute and a tag, opens a script and an element with a handler.
MARK = "xss"
PAYLOAD = f'"\'><script>window.{MARK}=1</script><img src=x onerror="window.{MARK}=2">'
UNIT = "PHUONG-XSS"


class _Elements(HTMLParser):
    """Every element and attribute of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.live: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {k for k, _ in attrs}
        if tag == "script" and dict(attrs).get("src", "").startswith("/static/") is False:
            self.live.append(f"<script {attrs}>")
        if tag == "img" and dict(attrs).get("src") == "x":
            self.live.append(f"<img {attrs}>")
        if any(n.startswith("on") for n in names):
            self.live.append(f"<{tag} {attrs}>")
        for name, value in attrs:
            # In a quoted text attribute (title, aria-label, value) the payload is text; in
            # one that loads or links something it would be an injection.
            if name in ("href", "src", "action", "formaction", "style") and MARK in (value or ""):
                self.live.append(f"<{tag} {name}={value!r}>")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_inert(html: str, where: str) -> None:
    """The payload is shown as text and makes no element or handler."""
    parser = _Elements()
    parser.feed(html)
    assert not parser.live, (where, parser.live)
    assert "<script>window." not in html, where


@pytest.fixture
def hostile_round(session_factory: sessionmaker[Session], sample_data: Path) -> dict[str, object]:
    """A published round whose every free-form field holds the payload."""
    units_csv = (sample_data / "long_bien_units.csv").read_text("utf-8")
    units_csv += f'{UNIT},ward,,"{PAYLOAD.replace(chr(34), chr(34) * 2)}",Phường X,9\n'
    subjects_csv = "unit_code,role,full_name\n" + "".join(
        f'{UNIT},{role},"{PAYLOAD.replace(chr(34), chr(34) * 2)} {role}"\n'
        for role in ("ward_party_secretary", "ward_chairperson")
    )
    questionnaire = default_questionnaire().model_dump(mode="json")
    questionnaire["criteria"][0]["vi"] = f"Tiêu chí {PAYLOAD}"
    questionnaire["free_text"][0]["vi"] = f"Ưu điểm {PAYLOAD}"
    with session_factory() as db:
        units.import_units(db, units_csv.encode(), actor="t")
        round_ = rounds.create_round(
            db, title=f"Đợt {PAYLOAD}", year=2023, anonymity_threshold=5, actor="t"
        )
        rounds.replace_questionnaire(db, round_.id, questionnaire, actor="t")
        import_subjects(db, round_.id, subjects_csv.encode(), actor="t")
        set_round_units(db, round_.id, [(UNIT, 7)], actor="t")
        issued = tokens.issue_tokens(db, round_.id, UNIT, 7, actor="t")
        lifecycle.open_round(db, round_.id, actor="t", key_holders=None)
        form = casting.preview(db, issued.tokens[0])
        keys = [c.key for c in form.questionnaire.criteria]
        for token in issued.tokens[:6]:
            answers = {
                "ratings": {str(s.id): dict.fromkeys(keys, 3) for s in form.subjects},
                "texts": {str(form.subjects[0].id): {"strengths": f"Góp ý {PAYLOAD}"}},
            }
            casting.cast(db, token, answers)
        lifecycle.close_round(db, round_.id, actor="t")
        lifecycle.publish_round(db, round_.id, actor="t")
        invites = leaders.create_leader_accounts(db, round_.id, actor="t", now=utcnow())
        subject = next(
            s for s in list_subjects(db, round_.id) if s.role is Role.WARD_PARTY_SECRETARY
        )
        invite = next(i for i in invites if i.subject_id == subject.id)
        assert invite.setup_code is not None
        setup_codes.complete_setup(db, invite.username, invite.setup_code, PASSWORD, utcnow())
        accounts.create_user(
            db,
            username="quantri",
            full_name=PAYLOAD,
            role=UserRole.ADMIN,
            password=PASSWORD,
            actor="t",
        )
        db.commit()
        return {
            "round_id": round_.id,
            "subject_id": subject.id,
            "leader": invite.username,
            "unused_token": issued.tokens[6],
        }


def _login(client: TestClient, username: str) -> None:
    reply = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert reply.status_code == 200, reply.text


class TestXss:
    """The payload is text wherever it is shown."""

    def test_staff_pages_show_the_payload_as_text(
        self, client: TestClient, hostile_round: dict[str, object]
    ) -> None:
        _login(client, "quantri")
        rid = hostile_round["round_id"]
        pages = [
            "/",
            f"/rounds/{rid}/results",
            f"/reports/{hostile_round['subject_id']}",
            f"/rounds/{rid}",
            f"/rounds/{rid}/units",
            f"/rounds/{rid}/heads",
            f"/rounds/{rid}/questionnaire",
            f"/rounds/{rid}/leaders",
            f"/rounds/{rid}/turnout",
            "/rounds",
            "/audit",
            "/accounts",
        ]
        shown = 0
        for path in pages:
            reply = client.get(path, headers={"accept": "text/html"})
            if reply.status_code == 404:
                continue  # a page not in this build
            assert reply.status_code == 200, (path, reply.status_code)
            assert_inert(reply.text, path)
            shown += "&lt;script&gt;" in reply.text
        assert shown >= 5  # the payload really was on the pages, escaped

    def test_leader_report_page_and_pdf(
        self, client: TestClient, hostile_round: dict[str, object]
    ) -> None:
        _login(client, str(hostile_round["leader"]))
        sid = hostile_round["subject_id"]
        page = client.get(f"/reports/{sid}", headers={"accept": "text/html"})
        assert page.status_code == 200
        assert_inert(page.text, "report page")
        assert "Góp ý &#34;&#39;&gt;&lt;script&gt;" in page.text or "&lt;script&gt;" in page.text
        pdf = client.get(f"/reports/{sid}.pdf")
        assert pdf.status_code == 200
        assert b"/JavaScript" not in pdf.content
        assert b"/JS " not in pdf.content
        assert b"/OpenAction" not in pdf.content
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "<script>window.xss=1</script>" in text.replace("\n", "")

    def test_voting_page_shows_names_and_labels_as_text(
        self, client: TestClient, hostile_round: dict[str, object]
    ) -> None:
        reply = client.post("/v", data={"code": str(hostile_round["unused_token"])})
        assert reply.status_code in (200, 409), reply.status_code
        assert_inert(reply.text, "voting page")

    def test_echoed_form_values_are_text(
        self, client: TestClient, hostile_round: dict[str, object]
    ) -> None:
        login = client.post(
            "/login",
            data={"username": PAYLOAD, "password": "sai"},
            headers={"accept": "text/html"},
        )
        assert login.status_code in (401, 403, 422, 200), login.status_code
        assert_inert(login.text, "login echo")
        setup = client.post(
            "/setup",
            data={"username": PAYLOAD, "code": PAYLOAD, "password": "x" * 12},
            headers={"accept": "text/html"},
        )
        assert setup.status_code < 500
        assert_inert(setup.text, "setup echo")
