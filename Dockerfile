# Phiếu Kín: the web service. Configuration comes from the environment at run time
# (see docker-compose.yml and docs/OPERATIONS.md); nothing secret is built into the image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 phieukin \
    && useradd --system --uid 10001 --gid phieukin --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin phieukin

WORKDIR /srv/phieukin

# Dependencies first, from pyproject.toml and the pinned constraints only, so that editing
# the source does not reinstall them.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.deps.txt \
    && pip install --no-cache-dir -c constraints.txt -r requirements.deps.txt \
    && rm requirements.deps.txt

# The source. The install is editable because the migrations are found beside the source
# tree (app/migrations.py). It stays owned by root: the service can read it, not change it.
COPY alembic.ini README.md* ./
COPY alembic ./alembic
COPY crypto ./crypto
COPY ballots ./ballots
COPY app ./app
COPY docker/entrypoint.sh ./docker/entrypoint.sh
RUN pip install --no-cache-dir -c constraints.txt -e . \
    && python -m compileall -q alembic crypto ballots app

USER 10001:10001

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/openapi.json', timeout=4)"]

ENTRYPOINT ["/bin/sh", "/srv/phieukin/docker/entrypoint.sh"]
