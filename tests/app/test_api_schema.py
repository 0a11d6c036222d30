"""The API's description works offline: the schema is served, no page loads from a CDN."""

from __future__ import annotations

from fastapi.testclient import TestClient


class TestApiSchema:
    """What is left of the API's documentation pages."""

    def test_schema_served_and_cdn_pages_gone(self, client: TestClient) -> None:
        """/openapi.json answers; /docs and /redoc, whose scripts came from a CDN, are 404."""
        schema = client.get("/openapi.json")
        assert schema.status_code == 200
        assert "/api/v1/rounds/{round_id}/results.xlsx" in schema.json()["paths"]
        for path in ("/docs", "/redoc"):
            assert client.get(path).status_code == 404
