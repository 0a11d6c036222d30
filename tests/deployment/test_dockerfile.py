"""The Dockerfile: base image, no root at run time, no secret baked in."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.deployment_helpers import (
    DOCKERFILE,
    ENTRYPOINT,
    baked_secrets,
    base_image,
    dockerfile,
    final_stage,
    parse_dockerfile,
    root_user_problems,
)


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
