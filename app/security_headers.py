"""One middleware sets the security headers on every response the app sends.

Pages, PDFs and JSON all carry them, so a new route inherits them without writing any.
The policy allows no inline script or style: a page loads its script and style from
/static only, and nothing may frame a page (clickjacking a vote or an admin action).
Nothing dynamic may be kept by a browser or a proxy cache: slip codes, receipts, results,
setup codes and reports all travel in dynamic responses, and a shared phone or a meeting
room's computer must not keep a copy. Static files keep their ordinary caching.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)

ALWAYS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}

# Files under this prefix are the same for everyone; everything else is dynamic.
STATIC_PREFIX = "/static/"


class SecurityHeaders:
    """Set (and overwrite: no route may weaken them) the headers on every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        dynamic = not scope["path"].startswith(STATIC_PREFIX)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers[name] = value
                if dynamic:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)
