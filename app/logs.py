"""Logging for the server: plain lines to stderr; no request data beyond method and path."""

from __future__ import annotations

import logging
import sys


def configure_logging(level: int = logging.INFO) -> None:
    """Send the app's and uvicorn's records to stderr; SQLAlchemy stays at WARNING."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # SQL statements would be noise; their parameters are hidden by the engine anyway.
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
