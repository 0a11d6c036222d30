"""The published OpenAPI document: one schema per name, typed answers everywhere."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI


def _document(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


class TestOpenApi:
    """What clients generate their code from."""

    def test_every_schema_name_is_used_once(self, app: FastAPI) -> None:
        """Two models of one name would appear as module-qualified twins."""
        names = list(_document(app)["components"]["schemas"])
        assert [n for n in names if n.startswith(("app__", "ballots__"))] == []
        assert names.count("SubjectOut") == 1

    def test_lottery_answers_are_typed(self, app: FastAPI) -> None:
        """The proof and its verification are named models, not free-form objects."""
        paths = _document(app)["paths"]
        wanted = {
            ("/api/v1/rounds/{round_id}/lottery", "get"): "LotteryProofOut",
            ("/api/v1/rounds/{round_id}/lottery", "post"): "LotteryProofOut",
            ("/api/v1/rounds/{round_id}/lottery/verify", "get"): "LotteryVerificationOut",
        }
        for (path, method), model in wanted.items():
            responses = paths[path][method]["responses"]
            ok = responses.get("200") or responses["201"]
            ref = ok["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith(f"/{model}"), (path, method, ref)

    def test_every_api_schema_lives_in_one_module(self) -> None:
        """Routers declare no models of their own: app/api/schemas.py holds them all."""
        from pathlib import Path

        root = Path(__file__).resolve().parents[2] / "app" / "api"
        offenders = [
            p.name
            for p in root.glob("*.py")
            if p.name != "schemas.py" and "(BaseModel)" in p.read_text("utf-8")
        ]
        assert offenders == []
