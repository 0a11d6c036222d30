"""The web edge of Phiếu Kín: FastAPI app, settings, routers, templates and the CLI."""
