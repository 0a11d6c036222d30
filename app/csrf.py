"""CSRF: a synchronizer token bound to the login session, on every staff form.

The token is an HMAC of the session's secret cookie under the server key: it is fixed for
the life of one login session, differs between sessions, and cannot be computed by a page of
another site (which can neither read the HttpOnly cookie nor the key). Nothing is stored: the
session row is the state, so logging out or expiring the session voids every token it had.

Templates write ``{{ csrf_field() }}`` inside every ``<form method="post">``; routers that
take staff POSTs declare ``dependencies=[CsrfProtected]`` (see CONTRIBUTING.md).
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Depends, Request
from markupsafe import Markup, escape
from starlette.datastructures import FormData

from app.deps import SESSION_COOKIE
from app.i18n import N_
from ballots.errors import PermissionDenied

FIELD = "csrf_token"
_LABEL = b"phieukin csrf v1\x00"


def token_for(request: Request) -> str:
    """The token of the request's login session ('' without a session)."""
    session_cookie = request.cookies.get(SESSION_COOKIE)
    if not session_cookie:
        return ""
    key: bytes = request.app.state.secret_key
    return hmac.new(key, _LABEL + session_cookie.encode(), hashlib.sha256).hexdigest()


def field(request: Request) -> Markup:
    """The hidden input to put inside a staff form."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        FIELD, escape(token_for(request))
    )


async def check(request: Request) -> None:
    """Refuse an unsafe request whose form lacks the session's token (403)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = token_for(request)
    form = await request.form()  # parsed once: the route's Form() parameters reuse it
    request.state.posted_form = form
    sent = form.get(FIELD)
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise PermissionDenied(
            N_(
                "This form has expired or did not come from this site. Go back, reload the page "
                "and try again."
            )
        )


CsrfProtected = Depends(check)


def posted_form(request: Request) -> FormData:
    """The whole form of a checked POST, for a sync route whose fields are not fixed."""
    form: FormData = request.state.posted_form
    return form
