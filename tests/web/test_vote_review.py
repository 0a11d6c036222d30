"""The voting page without script: review before sending, edit, a mistyped code kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ballots import casting
from ballots.ballot_box import Ballot
from ballots.questionnaire import HEAD_TEXT_CHARS
from tests.ballot_helpers import open_round_with_slips

COMMENT = "Đồng chí gương mẫu <b>thật</b>\nvà gần gũi"


@pytest.fixture
def slip(session_factory: sessionmaker[Session], sample_data: Path) -> tuple[str, dict[str, str]]:
    """One open slip at Bồ Đề and a full set of form fields: 'no opinion' first, then 4."""
    with session_factory() as db:
        _, slips = open_round_with_slips(db, sample_data, {"PHUONG-BODE": 1})
        token = slips["PHUONG-BODE"][0]
        form = casting.preview(db, token)
        db.commit()
    fields = {f"r.{s.id}.{c.key}": "4" for s in form.subjects for c in form.questionnaire.criteria}
    first = next(iter(fields))
    fields[first] = "0"
    fields[f"t.{form.subjects[0].id}.strengths"] = COMMENT
    return token, fields


def _ballots(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as db:
        return int(db.scalar(select(func.count()).select_from(Ballot)) or 0)


class TestReview:
    """The form's button shows the choices; edit puts them back; send casts."""

    def test_review_lists_choices_and_spends_nothing(
        self,
        client: TestClient,
        slip: tuple[str, dict[str, str]],
        session_factory: sessionmaker[Session],
    ) -> None:
        """Each criterion's choice, one 'no opinion', the text escaped; the slip still works."""
        token, fields = slip
        reply = client.post("/v/cast", data={"token": token, "step": "review", **fields})
        assert reply.status_code == 200
        page = reply.text
        assert "Xem lại trước khi gửi" in page
        assert page.count('<dd class="none">') == 1
        assert page.count("<dd>Tốt</dd>") == len(fields) - 2
        assert "&lt;b&gt;thật&lt;/b&gt;" in page
        assert 'id="lang-switch"' not in page
        assert _ballots(session_factory) == 0
        hidden = dict(re.findall(r'<input type="hidden" name="(r\.[^"]+)" value="([^"]*)">', page))
        assert hidden == {k: v for k, v in fields.items() if k.startswith("r.")}
        edit = client.post("/v/cast", data={"token": token, "step": "edit", **fields})
        assert 'id="ballot"' in edit.text
        assert edit.text.count("checked") == len(fields) - 1
        assert "gần gũi</textarea>" in edit.text
        sent = client.post("/v/cast", data={"token": token, "step": "send", **fields})
        assert sent.status_code == 201
        assert 'id="receipt"' in sent.text
        assert _ballots(session_factory) == 1

    def test_incomplete_answers_go_back_to_the_form(
        self, client: TestClient, slip: tuple[str, dict[str, str]]
    ) -> None:
        """A missing rating shows the form with the criterion marked, not the review."""
        token, fields = slip
        missing = dict(list(fields.items())[1:])
        reply = client.post("/v/cast", data={"token": token, "step": "review", **missing})
        assert reply.status_code == 422
        assert 'data-error="invalid_answers"' in reply.text
        assert "criterion bad" in reply.text

    def test_comments_over_a_heads_budget_come_back_kept_and_marked(
        self,
        client: TestClient,
        session_factory: sessionmaker[Session],
        slip: tuple[str, dict[str, str]],
    ) -> None:
        """Texts about one head over the budget: the form again, texts open, nothing cast."""
        token, fields = slip
        form_page = client.post("/v", data={"code": token}).text
        assert f"Tổng cộng tối đa {HEAD_TEXT_CHARS} ký tự" in form_page
        subject = next(k for k in fields if k.startswith("t.")).split(".")[1]
        long = dict(fields)
        long[f"t.{subject}.strengths"] = "ễ" * 1000
        long[f"t.{subject}.suggestions"] = "đ" * (HEAD_TEXT_CHARS - 999)
        for step in ("review", "send"):
            reply = client.post("/v/cast", data={"token": token, "step": step, **long})
            assert reply.status_code == 422
            assert 'data-error="invalid_answers"' in reply.text
            assert f'data-field="texts.{subject}"' in reply.text
            assert '<details class="texts" open>' in reply.text
            assert "đ" * (HEAD_TEXT_CHARS - 999) + "</textarea>" in reply.text
        assert _ballots(session_factory) == 0


class TestMistypedCode:
    """A typo stays in the field, with the printed groups shown and the faulty ones marked."""

    def test_bad_character_marks_its_group(
        self, client: TestClient, slip: tuple[str, dict[str, str]]
    ) -> None:
        """A U (not in the alphabet) in the third group marks that group only."""
        token, _ = slip
        typed = (
            f"{token[:5]}-{token[5:10]}-U{token[11:15]}-{token[15:19]}-{token[19:23]}-{token[23:]}"
        )
        reply = client.post("/v", data={"code": typed})
        assert reply.status_code == 422
        assert 'data-error="mistyped_code"' in reply.text
        assert f'value="{typed}"' in reply.text
        assert 'aria-invalid="true"' in reply.text
        groups = re.findall(r'<span class="group( bad)?"', reply.text)
        assert groups == ["", "", " bad", "", "", ""]

    def test_check_character_failure_keeps_the_code(
        self, client: TestClient, slip: tuple[str, dict[str, str]]
    ) -> None:
        """A swapped character somewhere: the code stays, no group can be blamed."""
        token, _ = slip
        wrong = token[1] + token[0] + token[2:] if token[0] != token[1] else token[:-1] + "0"
        reply = client.post("/v", data={"code": wrong.lower()})
        assert 'data-error="mistyped_code"' in reply.text
        assert f'value="{wrong.lower()}"' in reply.text
        assert ' bad"' not in reply.text
