#!/bin/sh
# Container start: migrate the database, then serve. Arguments, when given, run instead
# (for example `docker compose run --rm app phieukin admin create ...`).
set -eu

if [ "$#" -gt 0 ]; then
    exec "$@"
fi

case "${PHIEUKIN_DATABASE_URL:-}" in
    "")
        echo "entrypoint: set PHIEUKIN_DATABASE_URL (see docs/OPERATIONS.md)" >&2
        exit 64
        ;;
    sqlite:*)
        # The generated key file lands beside the SQLite file, on the same volume.
        ;;
    *)
        # A key generated inside the container would die with it: every restart would log
        # everyone out, and each replica would have its own.
        if [ -z "${PHIEUKIN_SECRET_KEY:-}" ]; then
            echo "entrypoint: set PHIEUKIN_SECRET_KEY (32+ characters; see docs/OPERATIONS.md)" >&2
            exit 64
        fi
        ;;
esac

phieukin db upgrade

set -- phieukin serve --host 0.0.0.0 --port 8000 --workers "${PHIEUKIN_WORKERS:-4}"
# Trusting X-Forwarded-For lets any client choose the address that rate limits key on,
# so it is opt-in, for deployments behind a reverse proxy the operator runs.
if [ "${PHIEUKIN_PROXY_HEADERS:-0}" = "1" ]; then
    set -- "$@" --proxy-headers
fi
exec "$@"
