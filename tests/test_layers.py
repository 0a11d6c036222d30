"""Dependencies point one way (crypto <- ballots <- app), and each layer keeps to its job.

A rule that must bend says so where it bends: the import line carries ``# layers: <reason>``,
and this file accepts nothing else.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Network and HTTP libraries, which the domain never touches.
HTTP = {"fastapi", "starlette", "uvicorn", "httpx", "requests", "aiohttp", "http", "urllib3"}

FORBIDDEN = {
    # crypto/ is pure: no database, no web, and no I/O (files, logging, environment, network).
    "crypto": {
        "ballots",
        "app",
        "sqlalchemy",
        "alembic",
        "logging",
        "os",
        "pathlib",
        "shutil",
        "tempfile",
        "socket",
        "ssl",
        "subprocess",
        "sys",
        "urllib.request",
        *HTTP,
    },
    # ballots/ is the domain: no web edge, no HTTP.
    "ballots": {"app", "jinja2", "typer", "urllib.request", *HTTP},
}

# Built-in calls that read or write outside the process.
IO_CALLS = {"open", "print", "input"}

# What app/ may take from sqlalchemy without saying why: the Session type, which the request
# dependency (app/deps.py) provides. Queries and model writes belong in ballots/ services.
APP_SQLALCHEMY_ALLOWED = {("sqlalchemy.orm", "Session")}

BEND = re.compile(r"#\s*layers:\s*\S.{8,}")


def _python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imported(node: ast.Import | ast.ImportFrom) -> list[tuple[str, str | None]]:
    """(module, name) pairs of an import statement; name is None for ``import module``."""
    if isinstance(node, ast.Import):
        return [(alias.name, None) for alias in node.names]
    if node.module is None or node.level != 0:
        return []
    return [(node.module, alias.name) for alias in node.names]


def _bent(lines: list[str], node: ast.stmt) -> bool:
    """Whether the statement says, on one of its lines, why it bends a rule."""
    end = node.end_lineno or node.lineno
    return any(BEND.search(line) for line in lines[node.lineno - 1 : end])


def _matches(module: str, forbidden: set[str]) -> bool:
    return any(module == f or module.startswith(f + ".") for f in forbidden)


def layer_offences(package: str) -> list[str]:
    """Every import (and, in crypto/, every I/O call) that crosses ``package``'s rules."""
    offences = []
    for path in _python_files(package):
        source = path.read_text("utf-8")
        lines = source.splitlines()
        where = path.relative_to(ROOT)
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import | ast.ImportFrom) and not _bent(lines, node):
                for module, _ in _imported(node):
                    if _matches(module, FORBIDDEN[package]):
                        offences.append(f"{where}:{node.lineno} imports {module}")
            if (
                package == "crypto"
                and isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in IO_CALLS
            ):
                offences.append(f"{where}:{node.lineno} calls {node.func.id}()")
    return offences


def app_sqlalchemy_offences() -> list[str]:
    """Uses of sqlalchemy in app/ beyond the Session type, unless bent in place with a reason."""
    offences = []
    for path in _python_files("app"):
        source = path.read_text("utf-8")
        lines = source.splitlines()
        where = path.relative_to(ROOT)
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.Import | ast.ImportFrom) or _bent(lines, node):
                continue
            for module, name in _imported(node):
                if _matches(module, {"sqlalchemy"}) and (module, name) not in (
                    APP_SQLALCHEMY_ALLOWED
                ):
                    offences.append(f"{where}:{node.lineno} uses {module}.{name or '*'}")
    return offences


class TestLayering:
    """The architectural rules of DESIGN.md, checked on every file."""

    @pytest.mark.parametrize("package", sorted(FORBIDDEN))
    def test_package_imports_nothing_from_outer_layers(self, package: str) -> None:
        """crypto/ imports no database, web or I/O; ballots/ imports no web code or HTTP."""
        assert layer_offences(package) == []

    def test_app_uses_sqlalchemy_only_for_the_session(self) -> None:
        """app/ queries nothing itself: only the Session type, the rest is in ballots/."""
        assert app_sqlalchemy_offences() == []

    def test_routers_hold_no_sql(self) -> None:
        """Routers call services; no select/insert/update/delete/text in app/api or app/web."""
        sql_words = {"select", "insert", "update", "delete", "text"}
        offenders = []
        for path in _python_files("app/api") + _python_files("app/web"):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "sqlalchemy"
                ):
                    used = {a.name for a in node.names} & sql_words
                    if used:
                        offenders.append(f"{path.relative_to(ROOT)}: {sorted(used)}")
        assert offenders == []
