"""Dependencies point one way: crypto <- ballots <- app."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    "crypto": {"ballots", "app", "sqlalchemy", "fastapi", "starlette", "alembic"},
    "ballots": {"app", "fastapi", "starlette", "uvicorn", "jinja2", "typer"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


class TestLayering:
    """The architectural rule of DESIGN.md, checked on every file."""

    @pytest.mark.parametrize("package", sorted(FORBIDDEN))
    def test_package_imports_nothing_from_outer_layers(self, package: str) -> None:
        """crypto/ imports no database or web code; ballots/ imports no web code."""
        offenders = {
            str(path.relative_to(ROOT)): sorted(_imports(path) & FORBIDDEN[package])
            for path in (ROOT / package).rglob("*.py")
        }
        assert {k: v for k, v in offenders.items() if v} == {}

    def test_routers_hold_no_sql(self) -> None:
        """Routers call services; no select/insert/update/delete in app/api or app/web."""
        sql_words = {"select", "insert", "update", "delete", "text"}
        offenders = []
        for path in list((ROOT / "app" / "api").rglob("*.py")) + list(
            (ROOT / "app" / "web").rglob("*.py")
        ):
            tree = ast.parse(path.read_text("utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module == "sqlalchemy":
                    used = {a.name for a in node.names} & sql_words
                    if used:
                        offenders.append(f"{path.name}: {sorted(used)}")
        assert offenders == []
