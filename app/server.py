"""How uvicorn runs this app: one place, used by ``phieukin serve`` and the tests."""

from __future__ import annotations

from typing import Any


def uvicorn_options(
    *, host: str, port: int, workers: int = 1, proxy_headers: bool = False
) -> dict[str, Any]:
    """Options for ``uvicorn.run``/``uvicorn.Config``.

    uvicorn's own access log writes the client's address and port on every line; it is
    off, and app.middleware.AccessLog writes method, path, status and time instead.
    """
    return {
        "host": host,
        "port": port,
        "workers": workers,
        "proxy_headers": proxy_headers,
        "access_log": False,
        "log_config": None,
        "server_header": False,
        # uvicorn kills a worker that does not answer its supervisor's ping within this
        # many seconds (default 5). A new worker answers only once it has imported the app,
        # which takes longer than 5 s on a busy 2-core machine: it was killed and respawned
        # over and over, and the server never served.
        "timeout_worker_healthcheck": 60,
    }
