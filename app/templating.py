"""The Jinja2 environment: autoescaping, gettext, the language switch, Babel formats, CSRF."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates

from app import csrf, i18n
from app.errors import translate
from app.web.console_common import step_link
from ballots.accounts import MIN_PASSWORD_LENGTH
from ballots.vocabulary import Role, RoundStatus, SchoolLevel

STATUS_LABELS = {
    RoundStatus.DRAFT: i18n.N_("Draft"),
    RoundStatus.OPEN: i18n.N_("Open"),
    RoundStatus.CLOSED: i18n.N_("Closed"),
    RoundStatus.PUBLISHED: i18n.N_("Published"),
}


ROLE_LABELS = {
    Role.WARD_PARTY_SECRETARY: i18n.N_("Ward Party Committee Secretary"),
    Role.WARD_CHAIRPERSON: i18n.N_("Ward People's Committee Chairperson"),
    Role.SCHOOL_PRINCIPAL: i18n.N_("School principal"),
}
LEVEL_LABELS = {
    SchoolLevel.KINDERGARTEN: i18n.N_("Kindergarten"),
    SchoolLevel.PRIMARY: i18n.N_("Primary school"),
    SchoolLevel.LOWER_SECONDARY: i18n.N_("Lower secondary school"),
}


def tr_counts(template: str, params: dict[str, object]) -> str:
    """``translate`` with whole numbers written in the viewer's locale (2.158, not 2158)."""
    shown: dict[str, object] = {
        k: i18n.format_number(v) if isinstance(v, int) and not isinstance(v, bool) else v
        for k, v in params.items()
    }
    return translate(template, shown)


def pick(label: object) -> str:
    """The viewer's language of a questionnaire text that has ``vi`` and ``en``."""
    value = getattr(label, "en" if i18n.current_locale() == "en" else "vi", "")
    return str(value)


def role_label(role: Role | str) -> str:
    """A head's role as the viewer reads it."""
    return i18n.gettext(ROLE_LABELS[Role(role)])


def level_label(level: SchoolLevel | str) -> str:
    """A school level as the viewer reads it."""
    return i18n.gettext(LEVEL_LABELS[SchoolLevel(level)])


def status_label(status: RoundStatus) -> str:
    """A round's status as the viewer reads it."""
    return i18n.gettext(STATUS_LABELS[status])


def switch_links(request: Request, keep_page: bool = True) -> list[tuple[str, str, str, bool]]:
    """(code, name, href, current) per language, Vietnamese first; each keeps the page."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    here = here if keep_page and request.method == "GET" else "/"
    current = i18n.current_locale()
    return [
        (
            code,
            i18n.LANGUAGE_NAMES[code],
            f"/lang/{code}?next={quote(here, safe='')}",
            code == current,
        )
        for code in i18n.LOCALES
    ]


def make_templates(directory: Path) -> Jinja2Templates:
    """Templates that say ``{{ _("English text") }}`` and render it in the viewer's language."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(directory)),
        autoescape=jinja2.select_autoescape(("html", "xml")),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.Undefined,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    env.globals.update(
        locale=i18n.current_locale,
        format_date=i18n.format_date,
        format_datetime=i18n.format_datetime,
        format_number=i18n.format_number,
        format_percent=i18n.format_percent,
        language_links=switch_links,
        csrf_field=csrf.field,
        status_label=status_label,
        # Forms state the domain's rule, never a number of their own.
        min_password_length=MIN_PASSWORD_LENGTH,
        role_label=role_label,
        level_label=level_label,
        tr=translate,
        tr_counts=tr_counts,
        pick=pick,
        step_link=step_link,
    )
    return Jinja2Templates(env=env)
