"""The application factory."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from app import errors
from app.api import router as api_router
from app.deps import DB_SESSIONS
from app.edge import InputGuard
from app.i18n import LocaleMiddleware, translations
from app.middleware import AccessLog
from app.ratelimit import make_limiters
from app.security_headers import SecurityHeaders
from app.settings import Settings, get_settings
from app.templating import make_templates
from app.uploads import MAX_UPLOAD_BYTES
from app.voting import MAX_BODY_BYTES, VOTING_PATHS
from app.web import (
    console_leaders,
    console_lottery,
    console_questionnaire,
    console_rounds,
    console_units,
    console_voting,
)
from app.web.accounts import router as accounts_router
from app.web.audit_page import router as audit_router
from app.web.minutes import router as minutes_router
from app.web.pages import router as web_router
from app.web.receipt_check import router as receipt_router
from app.web.results import router as results_router
from app.web.vote import router as vote_router
from ballots import scrub
from ballots.db import make_engine, make_session_factory

HERE = Path(__file__).resolve().parent
# Every HTML router, in the order they match. tests/app/test_csrf.py walks these: a staff
# POST route added here without the CSRF check fails that test.
PAGE_ROUTERS: tuple[APIRouter, ...] = (
    web_router,
    results_router,
    vote_router,
    console_rounds.router,
    console_units.router,
    console_lottery.router,
    console_questionnaire.router,
    console_leaders.router,
    receipt_router,
    minutes_router,
    console_voting.router,
    accounts_router,
    audit_router,
)

# A multipart upload carries its file plus boundaries and field headers.
UPLOAD_FRAMING_BYTES = 64 * 1024


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app with one engine for the process."""
    settings = settings or get_settings()
    app = FastAPI(
        title="Phiếu Kín",
        version="0.1.0",
        description="Anonymous secret-ballot feedback on the heads of public units.",
        openapi_url="/openapi.json",
        # The browsable docs pages load script from a CDN and run inline script: neither
        # belongs on a ballot server's origin. /openapi.json opens in any OpenAPI viewer.
        docs_url=None,
        redoc_url=None,
    )
    engine = make_engine(
        settings.database_url,
        pool_size=DB_SESSIONS,
        max_overflow=0,
        pool_timeout=60,
        prepared_statements=settings.db_prepared_statements,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.secret_key = settings.secret_key_bytes()
    app.state.session_idle = timedelta(minutes=settings.session_idle_minutes)
    limiters = make_limiters(
        settings.redis_url,
        settings.redis_key_prefix,
        app.state.secret_key,
        {"login": settings.login_attempts_per_minute, "vote": settings.wrong_codes_per_minute},
    )
    app.state.login_limiter = limiters["login"]
    app.state.vote_guess_limiter = limiters["vote"]
    # Runs after a close has committed (see ballots.scrub).
    app.state.scrub_box = partial(scrub.scrub, engine, patience_s=settings.scrub_patience_seconds)
    app.state.templates = make_templates(HERE / "templates")
    for locale in ("vi", "en"):
        translations(locale)  # a missing compiled catalogue stops the start, not a page
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    errors.install(app)
    app.include_router(api_router)
    for router in PAGE_ROUTERS:
        app.include_router(router)
    # Outermost last: the headers go on every answer, the edge's refusals included. The
    # language is set outside the edge, so that its refusals are in the viewer's language.
    app.add_middleware(
        InputGuard,
        default_limit=MAX_UPLOAD_BYTES + UPLOAD_FRAMING_BYTES,
        limits=((VOTING_PATHS, MAX_BODY_BYTES),),
    )
    app.add_middleware(AccessLog)
    app.add_middleware(LocaleMiddleware)
    app.add_middleware(SecurityHeaders)
    return app
