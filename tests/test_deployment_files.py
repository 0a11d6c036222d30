"""The deployment files: docker-compose.yml, the Dockerfile, its entrypoint and .dockerignore.

They are read as YAML and text and the entrypoint is run against a stand-in ``phieukin``, so
neither a database nor a Docker engine is needed; ``docker compose config`` runs only where the
compose plugin is installed. The secret and privilege checks are functions returning problems;
they are also shown broken copies of the files, so a check that could no longer fail is caught.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
DOCKERIGNORE = ROOT / ".dockerignore"

INITDB = ROOT / "docker" / "initdb"
CADDYFILE = ROOT / "docker" / "Caddyfile"

REQUIRED_VARIABLES = (
    "POSTGRES_PASSWORD",
    "PHIEUKIN_DB_PASSWORD",
    "PHIEUKIN_SECRET_KEY",
    "PHIEUKIN_PUBLIC_BASE_URL",
)
DUMMY_ENV = {
    "POSTGRES_PASSWORD": "dummy0password0for0tests",
    "PHIEUKIN_DB_PASSWORD": "dummy0app0password0for0tests",
    "PHIEUKIN_SECRET_KEY": "dummy-secret-key-for-tests-" + "x" * 32,
    "PHIEUKIN_PUBLIC_BASE_URL": "https://phieukin.example.org",
}

SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET", re.IGNORECASE)
# ${VAR}, ${VAR?message} or ${VAR:?message}. A default (${VAR:-value}) is a literal in disguise.
REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?\?[^}]*)?\}")
INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)


# --- docker-compose.yml -----------------------------------------------------------------------


class MissingVariable(Exception):
    """A ``${VAR:?message}`` whose variable is not set."""


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Substitute variables the way compose does (``$$``, ``${V}``, ``${V:-d}``, ``${V:?m}``)."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op") or "", match.group("arg") or ""
        value = env.get(name)
        missing = value is None or (op.startswith(":") and value == "")
        if not missing:
            return str(value)
        if op.endswith("?"):
            raise MissingVariable(f"{name}: {arg}")
        return arg if op.endswith("-") else ""

    return INTERPOLATION.sub(one, text)


def load_compose() -> dict[str, Any]:
    """The compose file as data."""
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


def service(compose: Mapping[str, Any], name: str) -> dict[str, Any]:
    """One service's definition, or an empty mapping."""
    found = (compose.get("services") or {}).get(name) or {}
    assert isinstance(found, dict)
    return found


def environment(svc: Mapping[str, Any]) -> dict[str, str | None]:
    """A service's environment, from either the mapping or the ``KEY=VALUE`` list form."""
    env = svc.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.partition("=") for item in env)
        return {name: (value if sep else None) for name, sep, value in pairs}
    return {str(k): (None if v is None else str(v)) for k, v in env.items()}


def settings(node: Any, where: str = "") -> Iterator[tuple[str, str, Any]]:
    """Every (place, name, value) in a compose tree: mapping entries and KEY=VALUE list items."""
    if isinstance(node, dict):
        for key, value in node.items():
            place = f"{where}.{key}" if where else str(key)
            if isinstance(value, dict | list):
                yield from settings(value, place)
            else:
                yield place, str(key), value
    elif isinstance(node, list):
        for index, item in enumerate(node):
            if isinstance(item, str) and "=" in item:
                name, _, value = item.partition("=")
                yield f"{where}[{index}]", name, value
            else:
                yield from settings(item, f"{where}[{index}]")


def url_password(text: str) -> str | None:
    """The password part of ``scheme://user:password@host...``, references kept whole."""
    if "://" not in text or "@" not in text.split("://", 1)[1]:
        return None
    userinfo = text.split("://", 1)[1].rsplit("@", 1)[0]
    # Hide references first: a ${USER:-default} holds a colon of its own.
    hidden = r"\$\{[^}]*\}"
    refs: list[str] = []

    def hide(match: re.Match[str]) -> str:
        refs.append(match.group(0))
        return f"\x00{len(refs) - 1}\x00"

    masked = re.sub(hidden, hide, userinfo)
    if ":" not in masked:
        return None
    password = masked.split(":", 1)[1]
    return re.sub(r"\x00(\d+)\x00", lambda m: refs[int(m.group(1))], password)


def literal_secrets(compose: Mapping[str, Any]) -> list[str]:
    """Every password or secret in the file that is written out instead of referenced."""
    problems = []
    for place, name, value in settings(compose):
        text = "" if value is None else str(value)
        if SECRET_NAME.search(name) and value is not None and not REFERENCE.fullmatch(text):
            problems.append(f"{place}: {text!r} is not a ${{VAR:?message}} reference")
        password = url_password(text)
        if password is not None and not REFERENCE.fullmatch(password):
            problems.append(f"{place}: the URL's password {password!r} is not a reference")
        if name == "POSTGRES_HOST_AUTH_METHOD" and text.strip().lower() == "trust":
            problems.append(f"{place}: 'trust' lets anyone in without a password")
    return problems


def render(compose: Mapping[str, Any], env: Mapping[str, str]) -> list[str]:
    """Every value of the file with the variables substituted, as ``docker compose`` would."""
    return [interpolate(str(value or ""), env) for _, _, value in settings(compose)]


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


# --- docker/initdb: the app's role --------------------------------------------------------


class TestAppRole:
    """The init script, run against a real PostgreSQL server, as the postgres image runs it."""

    @pytest.mark.parametrize("backend", ["postgresql"])
    def test_init_script_makes_a_role_that_owns_the_schema_and_is_no_superuser(
        self, backend: str
    ) -> None:
        """The role can migrate and VACUUM FULL its tables, and has no superuser powers."""
        from sqlalchemy import create_engine, text
        from sqlalchemy.exc import DBAPIError

        from app import migrations
        from tests.conftest import _postgres_url

        server = make_url(_postgres_url())
        if shutil.which("psql") is None or shutil.which("sh") is None:
            pytest.skip("psql (PostgreSQL's client) is not installed")
        suffix = os.urandom(4).hex()
        database, role = f"phieukin_initdb_{suffix}", f"phieukin_app_{suffix}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
        try:
            env = {
                **os.environ,
                "PGHOST": server.host or "127.0.0.1",
                "PGPORT": str(server.port or 5432),
                "PGPASSWORD": server.password or "",
                "POSTGRES_USER": server.username or "postgres",
                "POSTGRES_DB": database,
                "PHIEUKIN_DB_USER": role,
                "PHIEUKIN_DB_PASSWORD": "app0password0" + suffix,
            }
            done = subprocess.run(
                ["sh", str(INITDB / "10-app-role.sh")],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            with admin.connect() as conn:
                powers = conn.execute(
                    text(
                        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls "
                        "FROM pg_roles WHERE rolname = :r"
                    ),
                    {"r": role},
                ).one()
                owner = conn.execute(
                    text("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :d"),
                    {"d": database},
                ).scalar_one()
            assert tuple(powers) == (False, False, False, False)
            assert owner == role
            url = server.set(
                database=database, username=role, password=env["PHIEUKIN_DB_PASSWORD"]
            ).render_as_string(hide_password=False)
            migrations.upgrade(url)
            as_app = create_engine(url, isolation_level="AUTOCOMMIT")
            with as_app.connect() as conn:
                owners = set(
                    conn.execute(
                        text("SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")
                    ).scalars()
                )
                conn.execute(text("VACUUM FULL ballots"))
                with pytest.raises(DBAPIError, match=r"permission denied|must be superuser"):
                    conn.execute(text("COPY (SELECT 1) TO PROGRAM 'true'"))
            as_app.dispose()
            assert owners == {role}
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
                conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
            admin.dispose()


# --- Dockerfile ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction, continuation lines joined."""

    keyword: str
    argument: str
    line: int


def parse_dockerfile(text: str) -> list[Instruction]:
    """The instructions of a Dockerfile, comments dropped and continuations joined."""
    instructions: list[Instruction] = []
    parts: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue  # also inside a continuation, as Docker does
        if not parts:
            start = number
        if stripped.endswith("\\"):
            parts.append(stripped[:-1].strip())
            continue
        parts.append(stripped)
        keyword, _, argument = " ".join(parts).partition(" ")
        instructions.append(Instruction(keyword.upper(), argument.strip(), start))
        parts = []
    return instructions


def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    """The instructions from the last FROM on: the image that runs."""
    starts = [i for i, ins in enumerate(instructions) if ins.keyword == "FROM"]
    return instructions[starts[-1] :] if starts else instructions


def base_image(instructions: list[Instruction]) -> str:
    """The image the final stage is built on."""
    words = [w for w in final_stage(instructions)[0].argument.split() if not w.startswith("--")]
    return words[0] if words else ""


def root_user_problems(instructions: list[Instruction]) -> list[str]:
    """Why the container would run as root, if it would."""
    stage = final_stage(instructions)
    starts = [i for i, ins in enumerate(stage) if ins.keyword in ("ENTRYPOINT", "CMD")]
    users = [
        (i, ins.argument.split(":")[0]) for i, ins in enumerate(stage) if ins.keyword == "USER"
    ]
    if not starts:
        return ["no ENTRYPOINT or CMD"]
    if not any(i < starts[0] for i, _ in users):
        return ["no USER before ENTRYPOINT/CMD"]
    last = users[-1][1]  # the last USER of the stage is the one the container runs as
    return [f"runs as {last!r}"] if last in ("root", "0") else []


def variables_set(instruction: Instruction) -> list[tuple[str, str]]:
    """The (name, value) pairs an ENV or ARG instruction sets."""
    words = shlex.split(instruction.argument)
    if instruction.keyword == "ENV" and words and "=" not in words[0]:
        return [(words[0], " ".join(words[1:]))]  # the legacy ``ENV NAME value`` form
    return [(name, value) for name, _, value in (w.partition("=") for w in words)]


def baked_secrets(instructions: list[Instruction]) -> list[str]:
    """ENV or ARG instructions that would put a password or key into the image."""
    problems = []
    for ins in instructions:
        if ins.keyword not in ("ENV", "ARG"):
            continue
        for name, value in variables_set(ins):
            if SECRET_NAME.search(name):
                problems.append(f"line {ins.line}: {ins.keyword} {name}")
            if url_password(value) is not None:
                problems.append(f"line {ins.line}: {ins.keyword} {name} holds a password")
    return problems


def dockerfile() -> list[Instruction]:
    """The repository's Dockerfile, parsed."""
    return parse_dockerfile(DOCKERFILE.read_text())


class TestDockerfile:
    """The image is a slim Python one that runs unprivileged and carries no secret."""

    def test_builds_on_a_python_slim_image(self) -> None:
        """The final stage starts FROM python:3.x-slim."""
        image = base_image(dockerfile())
        assert re.fullmatch(
            r"(docker\.io/)?(library/)?python:3\.\d+(\.\d+)?-slim(-\w+)?(@.+)?", image
        )

    def test_runs_as_a_non_root_user(self) -> None:
        """A non-root USER comes before the ENTRYPOINT and no later USER undoes it."""
        assert root_user_problems(dockerfile()) == []

    def test_sets_no_password_or_secret_key(self) -> None:
        """No ENV or ARG names a password or secret, or holds a URL with a password."""
        assert baked_secrets(dockerfile()) == []

    def test_installs_editable_with_the_pinned_constraints(self) -> None:
        """Pip installs the project editable (migrations are found beside the source), pinned."""
        runs = [ins.argument for ins in dockerfile() if ins.keyword == "RUN"]
        assert any(
            "pip install" in r and "-c constraints.txt" in r and re.search(r"-e \.(\s|$)", r)
            for r in runs
        ), runs

    def test_exposes_8000_and_checks_health_on_openapi(self) -> None:
        """Port 8000 is exposed and the healthcheck fetches /openapi.json with Python."""
        instructions = dockerfile()
        assert any(i.keyword == "EXPOSE" and "8000" in i.argument.split() for i in instructions)
        checks = [i.argument for i in instructions if i.keyword == "HEALTHCHECK"]
        assert checks, "no HEALTHCHECK"
        assert "python" in checks[-1]
        assert "http://127.0.0.1:8000/openapi.json" in checks[-1]

    def test_starts_through_the_entrypoint_script_without_proxy_headers(self) -> None:
        """ENTRYPOINT runs docker/entrypoint.sh, copied into the image, and nothing adds flags."""
        instructions = final_stage(dockerfile())
        entry = [i for i in instructions if i.keyword == "ENTRYPOINT"]
        assert entry, "no ENTRYPOINT"
        assert any(w.endswith("docker/entrypoint.sh") for w in json.loads(entry[-1].argument))
        assert any(
            i.keyword in ("COPY", "ADD") and "docker/entrypoint.sh" in i.argument
            for i in instructions
        )
        assert ENTRYPOINT.is_file()
        assert not any("--proxy-headers" in i.argument for i in instructions)

    @pytest.mark.parametrize(
        ("extra", "check"),
        [
            ("USER root", root_user_problems),
            ("USER 0:0", root_user_problems),
            ("ENV PHIEUKIN_SECRET_KEY=0123456789abcdef0123456789abcdef", baked_secrets),
            ("ARG POSTGRES_PASSWORD", baked_secrets),
            ("ENV PHIEUKIN_DATABASE_URL postgresql://phieukin:pw@db/phieukin", baked_secrets),
        ],
    )
    def test_the_checks_catch_a_broken_dockerfile(self, extra: str, check: Any) -> None:
        """A root USER or a baked-in secret appended to the Dockerfile is reported."""
        broken = parse_dockerfile(DOCKERFILE.read_text() + "\n" + extra + "\n")
        assert check(broken) != []

    def test_the_parser_joins_continuations_and_skips_comments(self) -> None:
        """Continuation lines form one instruction; comment lines inside them are dropped."""
        parsed = parse_dockerfile("FROM python:3.11-slim\n# note\nENV A=1 \\\n  # why\n  B=2\n")
        assert [(i.keyword, i.argument) for i in parsed] == [
            ("FROM", "python:3.11-slim"),
            ("ENV", "A=1 B=2"),
        ]


# --- docker/entrypoint.sh ----------------------------------------------------------------------

STAND_IN = """#!/bin/sh
printf '%s\\n' "$*" >> "$PHIEUKIN_CALLS"
if [ "$1" = db ] && [ -n "${FAIL_UPGRADE:-}" ]; then exit 3; fi
exit 0
"""


@dataclass(frozen=True)
class Run:
    """What one run of the entrypoint did."""

    returncode: int
    calls: list[str]
    stderr: str


@pytest.fixture
def entrypoint(tmp_path: Path) -> Any:
    """Runs docker/entrypoint.sh with a stand-in ``phieukin`` that records its arguments."""
    sh = shutil.which("sh")
    if os.name != "posix" or sh is None:
        pytest.skip("needs a POSIX sh")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "phieukin").write_text(STAND_IN)
    (bin_dir / "phieukin").chmod(0o755)
    calls = tmp_path / "calls.log"

    def run(*args: str, **overrides: str | None) -> Run:
        env: dict[str, str | None] = {
            "PATH": f"{bin_dir}{os.pathsep}{os.defpath}",
            "PHIEUKIN_CALLS": str(calls),
            "PHIEUKIN_DATABASE_URL": "postgresql+psycopg://phieukin:pw@db:5432/phieukin",
            "PHIEUKIN_SECRET_KEY": DUMMY_ENV["PHIEUKIN_SECRET_KEY"],
            **overrides,
        }
        calls.write_text("")
        done = subprocess.run(
            [sh, str(ENTRYPOINT), *args],
            env={k: v for k, v in env.items() if v is not None},
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return Run(done.returncode, calls.read_text().splitlines(), done.stderr)

    return run


SERVE = "serve --host 0.0.0.0 --port 8000 --workers 4"


class TestEntrypoint:
    """The container migrates the database, then serves; proxy headers only on request."""

    def test_migrates_then_serves_on_all_interfaces(self, entrypoint: Any) -> None:
        """`phieukin db upgrade` runs first, then `phieukin serve` with four workers."""
        run = entrypoint()
        assert run.returncode == 0, run.stderr
        assert run.calls == ["db upgrade", SERVE]

    @pytest.mark.parametrize(("setting", "trusted"), [(None, False), ("0", False), ("1", True)])
    def test_proxy_headers_only_when_opted_in(
        self, entrypoint: Any, setting: str | None, trusted: bool
    ) -> None:
        """--proxy-headers is passed only when PHIEUKIN_PROXY_HEADERS=1."""
        run = entrypoint(PHIEUKIN_PROXY_HEADERS=setting)
        assert run.returncode == 0, run.stderr
        assert ("--proxy-headers" in run.calls[-1].split()) is trusted

    def test_worker_count_comes_from_the_environment(self, entrypoint: Any) -> None:
        """PHIEUKIN_WORKERS sets the number of worker processes."""
        assert entrypoint(PHIEUKIN_WORKERS="2").calls[-1].endswith("--workers 2")

    def test_failed_migration_stops_the_start(self, entrypoint: Any) -> None:
        """When the upgrade fails, the server is not started on an old schema."""
        run = entrypoint(FAIL_UPGRADE="1")
        assert run.returncode != 0
        assert run.calls == ["db upgrade"]

    def test_refuses_postgresql_without_a_secret_key(self, entrypoint: Any) -> None:
        """A key generated inside the container would be lost with it, so none is made."""
        run = entrypoint(PHIEUKIN_SECRET_KEY=None)
        assert run.returncode != 0
        assert run.calls == []
        assert "PHIEUKIN_SECRET_KEY" in run.stderr

    def test_arguments_run_instead_of_the_server(self, entrypoint: Any) -> None:
        """`docker compose run app phieukin admin create lan` runs just that command."""
        run = entrypoint("phieukin", "admin", "create", "lan")
        assert run.returncode == 0, run.stderr
        assert run.calls == ["admin create lan"]


# --- .dockerignore ----------------------------------------------------------------------------


def _ignore_regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[" and "]" in pattern[i:]:
            end = pattern.index("]", i)
            out, i = out + pattern[i : end + 1], end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + "(?:/.*)?")  # a matched folder takes its contents with it


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves ``path`` out of the build context (the last match decides)."""
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern[1:] if negate else pattern
        if _ignore_regex(body.strip("/")).fullmatch(path):
            result = not negate
    return result


def dockerignore_patterns() -> list[str]:
    """The patterns of .dockerignore, comments and blank lines dropped."""
    lines = (line.strip() for line in DOCKERIGNORE.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


class TestDockerignore:
    """Local state and secrets stay out of the build context; the source goes in."""

    @pytest.mark.parametrize(
        "path",
        [
            ".venv/bin/python",
            ".git/HEAD",
            "phieukin.db",
            "phieukin.db-wal",
            "phieukin.secret_key",
            "data/phieukin.secret_key",
            ".pytest_cache/README.md",
            "app/__pycache__/main.cpython-311.pyc",
            ".env",
        ],
    )
    def test_leaves_out_local_state_and_secrets(self, path: str) -> None:
        """Virtualenvs, history, databases, the session key and caches are not sent."""
        assert ignored(path, dockerignore_patterns())

    @pytest.mark.parametrize(
        "path",
        [
            "pyproject.toml",
            "constraints.txt",
            "alembic.ini",
            "alembic/env.py",
            "app/main.py",
            "ballots/models.py",
            "crypto/tokens.py",
            "docker/entrypoint.sh",
        ],
    )
    def test_keeps_what_the_image_is_built_from(self, path: str) -> None:
        """Everything the Dockerfile copies is in the context."""
        assert not ignored(path, dockerignore_patterns())


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
