"""The ASGI application for uvicorn workers: ``uvicorn app.asgi:app``."""

from app.logs import configure_logging
from app.main import create_app

# Each uvicorn worker is a process of its own and imports this module: configure logging
# here so that every worker writes the access log.
configure_logging()
app = create_app()
