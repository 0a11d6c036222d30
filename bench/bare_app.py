"""The framework's limit: one bare FastAPI endpoint taking a cast's body, no database.

It parses and validates the body with the app's own ``CastIn`` model and answers 201 with
``ReceiptOut``, as a sync route like the app's, under uvicorn with the options and worker
count of ``phieukin serve`` (app.server.uvicorn_options).

Usage: python bench/bare_app.py PORT WORKERS
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn
from fastapi import FastAPI, status

from app.api.schemas import CastIn, ReceiptOut
from app.server import uvicorn_options

app = FastAPI(openapi_url=None)


@app.post("/api/v1/vote/cast", response_model=ReceiptOut, status_code=status.HTTP_201_CREATED)
def cast(body: CastIn) -> ReceiptOut:  # noqa: ARG001 - parsing the body is the work measured
    """Parse and validate the body, answer 201."""
    return ReceiptOut(receipt="0123456789", repeated=False)


if __name__ == "__main__":
    port, workers = int(sys.argv[1]), int(sys.argv[2])
    options = uvicorn_options(host="127.0.0.1", port=port, workers=workers)
    uvicorn.run("bare_app:app", app_dir=str(Path(__file__).resolve().parent), **options)
