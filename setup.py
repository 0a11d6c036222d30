"""Build step: compile the translation catalogues (.po -> .mo) into the package.

Everything else is declared in pyproject.toml. Runs for wheels, sdists and editable
installs alike, so a fresh ``pip install .`` or ``pip install -e .`` has its catalogues.
"""

from __future__ import annotations

import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithCatalogues(build_py):
    """build_py that compiles app/locale/*/LC_MESSAGES/messages.po first."""

    def run(self) -> None:
        sys.path.insert(0, str(HERE))
        from app.i18n_catalog import compile_all  # Babel only; see build-system.requires

        compile_all()
        super().run()


setup(cmdclass={"build_py": BuildWithCatalogues})
