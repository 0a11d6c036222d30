"""docker-compose.yml: services, secrets, and `docker compose config` where the plugin is."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.deployment_helpers import (
    CADDYFILE,
    COMPOSE_FILE,
    DUMMY_ENV,
    REFERENCE,
    REQUIRED_VARIABLES,
    ROOT,
    MissingVariable,
    environment,
    interpolate,
    literal_secrets,
    load_compose,
    render,
    service,
    url_password,
)


class TestComposeServices:
    """docker-compose.yml runs PostgreSQL, Redis and two app instances behind a proxy."""

    def test_defines_db_and_app(self) -> None:
        """Both services exist."""
        assert {"db", "app"} <= set(load_compose().get("services") or {})

    def test_db_is_a_postgresql_image_with_a_pg_isready_healthcheck(self) -> None:
        """The database reports itself healthy only when pg_isready says so."""
        db = service(load_compose(), "db")
        assert re.fullmatch(r"postgres:1[5-9](\.\d+)*(-[a-z0-9]+)?", str(db.get("image")))
        test = (db.get("healthcheck") or {}).get("test")
        assert "pg_isready" in (" ".join(test) if isinstance(test, list) else str(test))

    def test_app_waits_for_a_healthy_db(self) -> None:
        """The app starts (and migrates) only after the db healthcheck passes."""
        depends = service(load_compose(), "app").get("depends_on")
        assert isinstance(depends, dict), "short-form depends_on does not wait for health"
        assert (depends.get("db") or {}).get("condition") == "service_healthy"

    def test_db_keeps_its_data_in_the_named_volume_pgdata(self) -> None:
        """Pgdata is declared at the top level and mounted where PostgreSQL keeps its files."""
        compose = load_compose()
        assert "pgdata" in (compose.get("volumes") or {})
        mounts = [
            f"{m.get('source')}:{m.get('target')}" if isinstance(m, dict) else str(m)
            for m in service(compose, "db").get("volumes") or []
        ]
        assert any(m.startswith("pgdata:/var/lib/postgresql/data") for m in mounts), mounts

    def test_app_is_built_here_and_reached_only_through_the_proxy(self) -> None:
        """Both app instances come from this Dockerfile and publish no port; the proxy does."""
        compose = load_compose()
        for name in ("app", "app2"):
            app = service(compose, name)
            build = app.get("build")
            assert (build.get("context") if isinstance(build, dict) else build) in (".", "./")
            assert not app.get("ports"), f"{name} is reachable without the proxy"
            assert app.get("restart") == "unless-stopped"
        proxy = service(compose, "proxy")
        assert any(str(p).endswith("8000:8000") for p in proxy.get("ports") or [])

    def test_proxy_is_an_official_image_in_front_of_both_instances(self) -> None:
        """Caddy's official image, its Caddyfile mounted, sending to app and app2."""
        proxy = service(load_compose(), "proxy")
        assert re.fullmatch(r"(caddy|nginx):[\w.-]+", str(proxy.get("image")))
        mounts = [str(m) for m in proxy.get("volumes") or []]
        assert any(m.startswith("./docker/Caddyfile:") for m in mounts), mounts
        upstreams = re.search(r"reverse_proxy\s+([^{]+)\{", CADDYFILE.read_text())
        assert upstreams is not None
        assert set(upstreams.group(1).split()) == {"app:8000", "app2:8000"}

    def test_proxy_headers_are_trusted_from_the_proxy_alone(self) -> None:
        """X-Forwarded-For is believed only from the proxy's fixed address on the network."""
        compose = load_compose()
        proxy_networks = service(compose, "proxy").get("networks") or {}
        proxy_address = (proxy_networks.get("backend") or {}).get("ipv4_address")
        assert proxy_address, "the proxy needs a fixed address to be trusted by"
        for name in ("app", "app2"):
            env = {
                k: interpolate(v or "", DUMMY_ENV)
                for k, v in environment(service(compose, name)).items()
            }
            assert env.get("PHIEUKIN_PROXY_HEADERS") == "1"
            assert env.get("FORWARDED_ALLOW_IPS") == proxy_address
        assert "--proxy-headers" not in json.dumps(
            [service(compose, "app").get("command"), service(compose, "app").get("entrypoint")]
        )

    def test_both_instances_share_limits_in_redis(self) -> None:
        """A redis service with a healthcheck; both apps point PHIEUKIN_REDIS_URL at it."""
        compose = load_compose()
        redis_service = service(compose, "redis")
        assert re.fullmatch(r"redis:\d+(\.\d+)*(-[a-z0-9]+)?", str(redis_service.get("image")))
        assert "redis-cli" in json.dumps((redis_service.get("healthcheck") or {}).get("test"))
        for name in ("app", "app2"):
            url = environment(service(compose, name)).get("PHIEUKIN_REDIS_URL") or ""
            assert url.startswith("redis://redis:6379"), url

    def test_only_the_first_instance_migrates_at_a_time(self) -> None:
        """app2 starts once app is healthy, so two migrations never race."""
        depends = service(load_compose(), "app2").get("depends_on") or {}
        assert (depends.get("app") or {}).get("condition") == "service_healthy"


class TestComposeSecrets:
    """No password or key is written into docker-compose.yml; all come from the environment."""

    def test_no_literal_secret_anywhere_in_the_file(self) -> None:
        """Every PASSWORD/SECRET value and every URL password is a ${VAR:?...} reference."""
        assert literal_secrets(load_compose()) == []

    def test_database_url_password_is_a_reference(self) -> None:
        """The app's PHIEUKIN_DATABASE_URL has a password part, and it names a variable."""
        url = environment(service(load_compose(), "app")).get("PHIEUKIN_DATABASE_URL") or ""
        password = url_password(url)
        assert password is not None, f"no password in {url!r}"
        assert REFERENCE.fullmatch(password), password

    def test_app_connects_as_its_own_role_not_the_superuser(self) -> None:
        """The app's URL names the role the init script creates, never POSTGRES_USER."""
        compose = load_compose()
        db_env = {
            k: interpolate(v or "", DUMMY_ENV)
            for k, v in environment(service(compose, "db")).items()
        }
        raw = environment(service(compose, "app")).get("PHIEUKIN_DATABASE_URL") or ""
        url = make_url(interpolate(raw, DUMMY_ENV))
        assert url.drivername == "postgresql+psycopg"
        assert (url.username, url.password) == (
            db_env["PHIEUKIN_DB_USER"],
            DUMMY_ENV["PHIEUKIN_DB_PASSWORD"],
        )
        assert url.username != db_env["POSTGRES_USER"]
        assert db_env["PHIEUKIN_DB_PASSWORD"] == DUMMY_ENV["PHIEUKIN_DB_PASSWORD"]
        assert (url.host, url.port, url.database) == ("db", 5432, db_env["POSTGRES_DB"])
        mounts = [str(m) for m in service(compose, "db").get("volumes") or []]
        assert "./docker/initdb:/docker-entrypoint-initdb.d:ro" in mounts

    @pytest.mark.parametrize("missing", REQUIRED_VARIABLES)
    def test_each_required_variable_must_be_set(self, missing: str) -> None:
        """Leaving out any of the three required variables stops compose with a message."""
        env = {k: v for k, v in DUMMY_ENV.items() if k != missing}
        with pytest.raises(MissingVariable, match=missing):
            render(load_compose(), env)

    @pytest.mark.parametrize(
        ("svc", "name", "value"),
        [
            ("db", "POSTGRES_PASSWORD", "secret"),
            ("db", "POSTGRES_PASSWORD", "${POSTGRES_PASSWORD:-changeme}"),
            ("db", "POSTGRES_HOST_AUTH_METHOD", "trust"),
            ("app", "PHIEUKIN_SECRET_KEY", "0123456789abcdef0123456789abcdef"),
            ("app", "PHIEUKIN_DATABASE_URL", "postgresql+psycopg://phieukin:hunter2@db/phieukin"),
            (
                "app",
                "PHIEUKIN_DATABASE_URL",
                "postgresql+psycopg://${POSTGRES_USER:-phieukin}:hunter2@db:5432/phieukin",
            ),
        ],
    )
    def test_the_check_catches_a_written_out_secret(self, svc: str, name: str, value: str) -> None:
        """A literal password, key, defaulted reference or trust auth is reported."""
        broken = copy.deepcopy(load_compose())
        env = broken["services"][svc].setdefault("environment", {})
        if isinstance(env, list):
            env.append(f"{name}={value}")
        else:
            env[name] = value
        assert literal_secrets(broken) != []

    def test_the_check_reads_the_list_form_of_environment(self) -> None:
        """``- POSTGRES_PASSWORD=secret`` is caught as well as the mapping form."""
        broken = copy.deepcopy(load_compose())
        broken["services"]["db"]["environment"] = ["POSTGRES_PASSWORD=secret"]
        assert literal_secrets(broken) != []


# --- docker compose config ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def docker_compose() -> str:
    """The docker client, when its compose plugin answers; else the test is skipped."""
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("docker is not installed: `docker compose config` not run")
    try:
        version = subprocess.run(
            [docker, "compose", "version"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"`docker compose version` did not run ({exc}): compose config not checked")
    if version.returncode != 0:
        first = (version.stderr or version.stdout).strip().splitlines()[:1]
        pytest.skip(
            f"`docker compose version` exited {version.returncode} ({' '.join(first)}): "
            "the compose plugin is missing, so `docker compose config` was not run"
        )
    return docker


def compose_config(
    docker: str, env: Mapping[str, str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    """`docker compose config -q` on the repository's file, ignoring any local .env."""
    empty = tmp_path / "empty.env"
    empty.write_text("")
    base = {
        k: v for k, v in os.environ.items() if k not in DUMMY_ENV and not k.startswith("COMPOSE_")
    }
    return subprocess.run(
        [
            docker,
            "compose",
            "--project-directory",
            str(ROOT),
            "-f",
            str(COMPOSE_FILE),
            "--env-file",
            str(empty),
            "config",
            "-q",
        ],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class TestComposeConfig:
    """Docker's own parser accepts the file when, and only when, the required variables are set."""

    def test_config_is_valid_with_the_required_variables(
        self, docker_compose: str, tmp_path: Path
    ) -> None:
        """`docker compose config -q` exits 0 with dummy values for the three variables."""
        done = compose_config(docker_compose, DUMMY_ENV, tmp_path)
        assert done.returncode == 0, done.stderr

    def test_config_refuses_a_missing_database_password(
        self, docker_compose: str, tmp_path: Path
    ) -> None:
        """Without POSTGRES_PASSWORD, compose stops and says which variable is missing."""
        env = {k: v for k, v in DUMMY_ENV.items() if k != "POSTGRES_PASSWORD"}
        done = compose_config(docker_compose, env, tmp_path)
        assert done.returncode != 0
        assert "POSTGRES_PASSWORD" in done.stderr
