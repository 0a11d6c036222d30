"""Running the real app under uvicorn in a background thread, as ``phieukin serve`` does."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from fastapi import FastAPI

from app.server import uvicorn_options


def loopback_socket() -> socket.socket:
    """A socket bound to a free loopback port (bound first, so slips can name the port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serving(app: FastAPI, sock: socket.socket, *, log_level: str = "warning") -> Iterator[None]:
    """Serve ``app`` on ``sock`` until the block ends; fails the test if it does not start."""
    host, port = sock.getsockname()
    options = uvicorn_options(host=host, port=port)
    options.pop("workers")
    server = uvicorn.Server(uvicorn.Config(app, log_level=log_level, **options))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="test-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the server did not start within 15 s")
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.engine.dispose()
