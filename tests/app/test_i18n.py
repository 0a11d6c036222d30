"""Translations: complete Vietnamese catalogue, the language switch, Babel formats."""

from __future__ import annotations

import ast
import re
from datetime import date

import pytest
from fastapi.testclient import TestClient

from app import i18n
from app.i18n_catalog import ERROR_CLASSES, ROOT, extracted, po_path, read_catalog
from tests.i18n_helpers import english_on_page

FIELDS = re.compile(r"\{[a-z_]*(?:![rs])?\}|%\([a-z_]+\)s")


class TestCatalogues:
    """The .po files in the repository."""

    def test_every_msgid_in_the_code_has_a_vietnamese_translation(self) -> None:
        """A string marked in app/ or ballots/ but missing or empty in vi fails here."""
        catalog = read_catalog("vi")
        missing = sorted(
            {
                f"{msgid!r} ({path}:{line})"
                for msgid, path, line in extracted()
                if not (catalog.get(msgid) and catalog.get(msgid).string)  # type: ignore[union-attr]
            }
        )
        assert not missing, "run `make messages` and translate:\n" + "\n".join(missing)

    def test_no_vietnamese_translation_is_fuzzy_or_empty(self) -> None:
        """Fuzzy entries are skipped by the compiler, so they would show English."""
        bad = [m.id for m in read_catalog("vi") if m.id and (m.fuzzy or not m.string)]
        assert not bad

    def test_translations_keep_their_fields(self) -> None:
        """A translation that loses or renames {field} would break or mislead the page."""
        for message in read_catalog("vi"):
            if message.id and message.string:
                assert sorted(FIELDS.findall(str(message.id))) == sorted(
                    FIELDS.findall(str(message.string))
                ), message.id

    def test_catalogues_are_compiled(self) -> None:
        """Make install compiled each .po; the .mo answers in Vietnamese."""
        for locale in i18n.LOCALES:
            assert po_path(locale).with_suffix(".mo").is_file()
        i18n.set_locale("vi")
        assert i18n.gettext("Log in") == "Đăng nhập"
        i18n.set_locale("en")
        assert i18n.gettext("Log in") == "Log in"
        i18n.set_locale("vi")


class TestErrorTemplates:
    """Domain errors carry templates, so that every message can be translated."""

    def test_no_domain_error_is_raised_with_an_f_string(self) -> None:
        """An f-string message cannot be a msgid: use a template and params."""
        offenders = []
        for folder in ("ballots", "app"):
            for path in (ROOT / folder).rglob("*.py"):
                for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                        continue
                    index = 1 if node.func.id == "Problem" else 0
                    if (
                        node.func.id in (*ERROR_CLASSES, "Problem")
                        and len(node.args) > index
                        and isinstance(node.args[index], ast.JoinedStr)
                    ):
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
        assert not offenders


class TestFormats:
    """Dates and numbers in the viewer's locale."""

    @pytest.mark.parametrize(
        ("locale", "number", "day"),
        [("vi", "12.345", "24 thg 11, 2026"), ("en", "12,345", "Nov 24, 2026")],
    )
    def test_numbers_and_dates(self, locale: str, number: str, day: str) -> None:
        """Vietnamese groups thousands with a dot; English with a comma."""
        i18n.set_locale(locale)
        try:
            assert i18n.format_number(12345) == number
            assert i18n.format_date(date(2026, 11, 24)) == day
        finally:
            i18n.set_locale("vi")


class TestLanguageSwitch:
    """The switch on every page keeps the page."""

    def test_vietnamese_by_default_and_english_on_request(self, client: TestClient) -> None:
        """The login page is Vietnamese first; the switch sets a cookie and comes back."""
        page = client.get("/login")
        assert '<html lang="vi">' in page.text
        assert "Đăng nhập" in page.text
        assert not english_on_page(page.text)
        switched = client.get("/lang/en?next=%2Flogin%3Fsetup%3Ddone", follow_redirects=False)
        assert switched.status_code == 303
        assert switched.headers["location"] == "/login?setup=done"
        english = client.get("/login?setup=done")
        assert '<html lang="en">' in english.text
        assert "Your password is set" in english.text
        assert client.get("/lang/vi?next=/login").text.count("Đăng nhập") >= 2

    def test_switch_lists_vietnamese_first(self, client: TestClient) -> None:
        """Tiếng Việt comes before English in the switch."""
        text = client.get("/login").text
        assert text.index("Tiếng Việt") < text.index("English")

    @pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil"])
    def test_switch_never_leaves_the_site(self, client: TestClient, target: str) -> None:
        """Next must be a path here; anything else goes home."""
        reply = client.get("/lang/en", params={"next": target}, follow_redirects=False)
        assert reply.headers["location"] == "/"

    def test_unknown_language_falls_back_to_vietnamese(self, client: TestClient) -> None:
        """A made-up code is not an error."""
        client.get("/lang/xx?next=/login")
        assert '<html lang="vi">' in client.get("/login").text


class TestErrorPages:
    """404 and friends in the viewer's language."""

    def test_not_found_page_in_vietnamese(self, client: TestClient) -> None:
        """A page that does not exist says so in Vietnamese, with no English."""
        reply = client.get("/no-such-page", headers={"accept": "text/html"})
        assert reply.status_code == 404
        assert "Không tìm thấy" in reply.text
        assert not english_on_page(reply.text)

    def test_not_found_page_in_english(self, client: TestClient) -> None:
        """The same page in English with the cookie."""
        client.cookies.set(i18n.LANG_COOKIE, "en")
        reply = client.get("/no-such-page", headers={"accept": "text/html"})
        assert "Not found" in reply.text

    def test_api_errors_stay_english(self, client: TestClient) -> None:
        """The JSON API's messages do not change with the page language."""
        reply = client.get("/api/v1/rounds")
        assert reply.json()["error"]["message"] == "Log in first."
