"""What the deployment tests share: the files' paths, and parsers of compose, Dockerfile
and .dockerignore that return problems rather than assert, so each check can be shown failing.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

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
