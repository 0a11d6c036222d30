"""The input rule at the edge: one place that refuses what no route should ever see.

Every request passes here before routing, so a new route inherits the rule:
- a body over the limit answers 413 ``too_large``, whether it declared its length or came
  chunked (the body is read here, up to the limit, and handed on whole);
- a text field holding NUL or another C0 control character (tab and line breaks are text),
  or half of a UTF-16 surrogate pair, answers 422 naming the field, in JSON bodies, form
  posts (urlencoded or multipart) and query parameters alike. PostgreSQL refuses such
  text with an error and SQLite stores it, so refusing it here keeps both databases equal;
- an id in the path beyond the database's integer range is read as 0, which no row has, so
  the route answers its own 404, the very answer it gives for any id that does not exist
  (a head probing report ids sees one answer for all); a number in a query parameter or a
  JSON body beyond the range answers 422 (a bad parameter).
Uploaded files are not text fields: the CSV reader checks their cells and names the line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import error_page
from app.i18n import N_, gettext

# Integer columns are 32-bit on PostgreSQL; SQLite's are wider, but one bound for both
# keeps the answers equal. No id, count or year of this service comes near it.
MAX_INT = 2**31 - 1

# C0 controls except tab, line feed and carriage return; lone UTF-16 surrogates, which
# no encoder can write to the database.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_NUMBER = re.compile(r"[+-]?[0-9]+")
_LEADING_DIGITS = re.compile(r"[0-9]+")


def bad_character(text: str) -> str | None:
    """The first forbidden character of ``text`` as ``U+XXXX``, or None when it is clean."""
    match = _FORBIDDEN.search(text)
    return None if match is None else f"U+{ord(match.group()):04X}"


def _out_of_range(digits: str) -> bool:
    # The length test first: int() refuses strings of more than 4,300 digits.
    digits = digits.lstrip("+-").lstrip("0")
    return len(digits) > 10 or (digits != "" and int(digits) > MAX_INT)


def _walk_json(value: Any) -> Iterator[tuple[str, Any]]:
    """(field path, leaf) for every key and leaf of a parsed JSON document, without
    recursion, so a deeply nested body cannot exhaust the stack.
    """
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{path}.{key}" if path else str(key)
                yield child_path, key
                stack.append((child_path, child))
        elif isinstance(item, list):
            for index, child in enumerate(item):
                stack.append((f"{path}.{index}" if path else str(index), child))
        else:
            yield path, item


def _problem_in(field: str, value: Any) -> str | None:
    """Why ``value`` may not pass, or None."""
    if isinstance(value, str):
        char = bad_character(value)
        if char is not None:
            return f"The field '{_printable(field)}' contains a control character ({char})."
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        return f"The number in '{_printable(field)}' is out of range."
    return None


def _printable(name: str) -> str:
    return _FORBIDDEN.sub(lambda m: f"\\u{ord(m.group()):04x}", name)[:100]


def _check_pairs(pairs: list[tuple[str, str]], numbers: bool) -> tuple[str, str] | None:
    for name, value in pairs:
        for text in (name, value):
            char = bad_character(text)
            if char is not None:
                return (
                    name,
                    f"The field '{_printable(name)}' contains a control character ({char}).",
                )
        if numbers and _NUMBER.fullmatch(value.strip()) and _out_of_range(value.strip()):
            return name, f"The parameter '{_printable(name)}' is out of range."
    return None


class InputGuard:
    """Apply the edge rule (module docstring) to every HTTP request."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        default_limit: int,
        limits: tuple[tuple[tuple[str, ...], int], ...] = (),
    ) -> None:
        self.app = app
        self.default_limit = default_limit
        self.limits = limits

    def _limit_for(self, path: str) -> int:
        for prefixes, limit in self.limits:
            if path.startswith(prefixes):
                return limit
        return self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if bad_character(path) is not None:
            await _refuse(scope, send, 404, "Not found.", "http404", None)
            return
        clamped = _clamp_ids(path)
        if clamped != path:
            scope = {**scope, "path": clamped, "raw_path": clamped.encode()}
            path = clamped
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        found = _check_pairs(query, numbers=True)
        if found is not None:
            await _refuse(scope, send, 422, found[1], "invalidinput", found[0])
            return
        limit = self._limit_for(path)
        body = await _read_body(scope, receive, limit)
        if body is None:  # the client went away
            return
        if body is _TOO_LARGE:
            await _refuse(
                scope, send, 413, f"The request is larger than {limit // 1024} KiB.", "too_large"
            )
            return
        found = await _check_body(scope, body)
        if found is not None:
            await _refuse(scope, send, 422, found[1], "invalidinput", found[0])
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _clamp_ids(path: str) -> str:
    """The path with every number past the integer range replaced by 0 (see above)."""

    def clamp(segment: str) -> str:
        digits = _LEADING_DIGITS.match(segment)
        if digits is None or not _out_of_range(digits.group()):
            return segment
        return "0" + segment[digits.end() :]

    return "/".join(clamp(segment) for segment in path.split("/"))


_TOO_LARGE = b"\x00too large"  # a sentinel; compared by identity


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes | None:
    """The whole body, ``_TOO_LARGE`` past ``limit``, or None if the client disconnected."""
    for name, value in scope.get("headers") or []:
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            return _TOO_LARGE
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return _TOO_LARGE
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _check_body(scope: Scope, body: bytes) -> tuple[str, str] | None:
    """(field, message) for the first forbidden value of the body, or None."""
    if not body:
        return None
    content_type = ""
    for name, value in scope.get("headers") or []:
        if name == b"content-type":
            content_type = value.decode("latin-1").split(";", 1)[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            return None  # not JSON: the route's own parser answers 422
        for field, value in _walk_json(document):
            message = _problem_in(field or "body", value)
            if message is not None:
                return field or "body", message
        return None
    if content_type == "application/x-www-form-urlencoded":
        pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
        return _check_pairs(pairs, numbers=False)
    if content_type == "multipart/form-data":
        return await _check_multipart(scope, body)
    return None


async def _check_multipart(scope: Scope, body: bytes) -> tuple[str, str] | None:
    sent = False

    async def once() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(scope, once).form()
    except Exception:
        return None
    try:
        pairs = [(k, v) for k, v in form.multi_items() if not isinstance(v, UploadFile)]
        files = [(k, v.filename or "") for k, v in form.multi_items() if isinstance(v, UploadFile)]
        return _check_pairs(pairs + files, numbers=False)
    finally:
        await form.close()


async def _refuse(
    scope: Scope,
    send: Send,
    status: int,
    message: str,
    code: str,
    field: str | None = None,
) -> None:
    """Answer JSON under /api (and to clients that do not ask for HTML), else a page."""
    request = Request(scope)
    accept = request.headers.get("accept", "")
    response: Response
    if not scope["path"].startswith("/api/") and "text/html" in accept:
        templates = getattr(scope["app"].state, "templates", None)
        if templates is not None:
            if status == 422 and field:
                page = gettext(
                    N_("The data sent has an invalid character or number in the field “{field}”.")
                ).format(field=_printable(field))
            else:
                page = gettext(
                    {
                        404: N_("This page was not found."),
                        413: N_("The data sent is too large."),
                        422: N_("The data sent has an invalid character or number."),
                    }[status]
                )
            response = error_page(request, status, page)
        else:
            response = HTMLResponse(message, status_code=status)
    else:
        error: dict[str, Any] = {"code": code, "message": message}
        if field is not None:
            safe = _printable(field)
            error["details"] = {"field": safe, "errors": [{"field": safe, "message": message}]}
        response = JSONResponse({"error": error}, status_code=status)
    await response(scope, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
