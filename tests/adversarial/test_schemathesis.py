"""Property-based requests from the app's own /openapi.json: no 5xx, no answer outside its
schema, logged in as an admin and as no one, on both databases.

A fixed seed (derandomize) and a bounded number of examples per operation keep the run
reproducible and within a minute or two; every request and every 5xx is counted and
printed for docs/THREAT_MODEL.md.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy.orm import Session, sessionmaker

from ballots import accounts
from ballots.vocabulary import UserRole

PASSWORD = "mật khẩu đủ dài 2023"
EXAMPLES_PER_OPERATION = 6
SEEN: Counter[str] = Counter()


@pytest.fixture
def api_schema(app: FastAPI) -> Any:
    """The app's own OpenAPI document, called in-process."""
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture
def admin_headers(app: FastAPI, session_factory: sessionmaker[Session]) -> dict[str, str]:
    """Headers of a request made by a logged-in admin."""
    with session_factory() as db:
        accounts.create_user(
            db,
            username="quantri",
            full_name="Quản trị",
            role=UserRole.ADMIN,
            password=PASSWORD,
            actor="t",
        )
        db.commit()
    with TestClient(app) as client:
        reply = client.post(
            "/api/v1/auth/login", json={"username": "quantri", "password": PASSWORD}
        )
        assert reply.status_code == 200, reply.text
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    return {"cookie": cookie}


SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)


def _run_every_operation(api_schema: Any, headers: dict[str, str]) -> None:
    """Generate requests for each operation; collect every failure, then fail with all."""
    failures: dict[str, str] = {}
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @SETTINGS
        @given(case=operation.as_strategy())
        def one(case: Any) -> None:
            response = case.call(headers=headers)
            SEEN["requests"] += 1
            if response.status_code >= 500:
                SEEN["5xx"] += 1
            case.validate_response(
                response, checks=[not_a_server_error, response_schema_conformance]
            )

        try:
            one()
        except Exception as exc:
            failures[operation.label] = str(exc)[:1500]
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())


def test_as_no_one(api_schema: Any) -> None:
    """Generated requests without a login: never a 5xx, every answer fits its schema."""
    _run_every_operation(api_schema, {})


def test_as_admin(api_schema: Any, admin_headers: dict[str, str]) -> None:
    """Generated requests as an admin: never a 5xx, every answer fits its schema."""
    _run_every_operation(api_schema, admin_headers)


def test_print_the_figures() -> None:
    """The counts above, for the threat model (runs after the generated tests)."""
    print(f"\nschemathesis: {SEEN['requests']} requests, {SEEN['5xx']} answered 5xx")
