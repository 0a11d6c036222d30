"""The project stands alone: nothing in it reads a path outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("tests", "app", "ballots", "crypto", "bench")
TEXT_SUFFIXES = {".py", ".html", ".css", ".js", ".json", ".csv", ".sh", ".toml", ".md", ".txt"}

# A string that climbs out of its folder, or an absolute path of some machine.
CLIMB = re.compile(r"""["'](?:[^"'\n]*[/\\])?\.\.[/\\]""")
# (System tools such as /usr/bin/chromium are external tools, found on PATH, not data.)
ABSOLUTE = re.compile(r"""["'](?:/(?:home|Users|root|srv|opt|mnt|tmp|data|shared)/|[A-Za-z]:\\)""")
# Path(__file__).resolve().parents[N].parent... and Path(__file__).parent.parent...
PARENTS = re.compile(r"parents\[(\d+)\]((?:\.parent\b)*)")
PARENT_CHAIN = re.compile(r"__file__\)(?:\.resolve\(\))?((?:\.parent\b)+)")
# The repository root's own parent: ROOT.parent, REPO.parent, PROJECT_ROOT.parent...
ROOT_PARENT = re.compile(r"\b[A-Z_]*(?:ROOT|REPO)[A-Z_]*\.parent\b")


def _files() -> list[Path]:
    found = []
    for top in CHECKED:
        for path in (ROOT / top).rglob("*"):
            parts = path.relative_to(ROOT).parts
            if path.is_file() and path.suffix in TEXT_SUFFIXES and "node_modules" not in parts:
                found.append(path)
    return sorted(found)


def outside_references(path: Path, text: str) -> list[str]:
    """Each line of ``text`` (the file at ``path``) that names a place outside the repository."""
    depth = len(path.relative_to(ROOT).parts)  # steps from the file up to the root
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        levels = [int(k) + 1 + len(rest) // len(".parent") for k, rest in PARENTS.findall(line)]
        levels += [len(chain) // len(".parent") for chain in PARENT_CHAIN.findall(line)]
        if (
            CLIMB.search(line)
            or ABSOLUTE.search(line)
            or ROOT_PARENT.search(line)
            or any(n > depth for n in levels)
        ):
            found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


class TestSelfContained:
    """A fresh clone with nothing beside it has everything the code and the suite read."""

    def test_no_file_refers_to_a_path_outside_the_repository(self) -> None:
        """No climb out of the repository and no absolute path of a machine."""
        offences = [
            hit
            for path in _files()
            if path != Path(__file__).resolve()
            for hit in outside_references(path, path.read_text("utf-8", errors="replace"))
        ]
        assert offences == []

    @pytest.mark.parametrize(
        "line",
        [
            'DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"',
            'DATA = Path(__file__).resolve().parents[2] / "data"',
            'DATA = Path(__file__).parent.parent.parent / "x"',
            'open("../shared/data/units.csv")',
            'open("/srv/shared/data/units.csv")',
            'DEFAULT_DATA = REPO.parent / "shared" / "data"',
        ],
    )
    def test_the_check_catches_a_reference_outside(self, line: str) -> None:
        """Each way out, written in a file at tests/x.py, is reported."""
        assert outside_references(ROOT / "tests" / "x.py", line)

    def test_the_check_lets_the_repository_be_read(self) -> None:
        """Reaching the repository root from tests/ is fine."""
        text = (
            'ROOT = Path(__file__).resolve().parents[1]\nD = Path(__file__).parent.parent / "app"'
        )
        assert outside_references(ROOT / "tests" / "x.py", text) == []
