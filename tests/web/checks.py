"""Checks every browser test can apply to a page: accessibility, width, console, screenshots.

- axe-core (npm registry, installed by ``make`` into tests/web/axe/node_modules) is injected
  into the page under test from that local file and run there; a serious or critical
  violation fails the test. The application never serves it.
- A page wider than a 360 px phone screen (horizontal scrolling) fails.
- A page whose language is Vietnamese must not show English words.
- Any console error or uncaught exception in the page fails, unless the test names it as
  expected (a 4xx the test provokes on purpose, for example).
- Every step is photographed at 360 and 1280 px into test-output/ (ignored by git).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Error, Page

AXE_SCRIPT = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")
PHONE_WIDTH = 360
DESKTOP_WIDTH = 1280
PHONE_HEIGHT = 740
DESKTOP_HEIGHT = 900
# WCAG 2.x A and AA plus axe's best practices (landmarks, one h1, ...); a best-practice rule
# only fails the test when axe itself rates it serious or critical.
AXE_OPTIONS: dict[str, Any] = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}


def axe_available() -> bool:
    """Whether ``make`` has installed axe-core (it needs npm)."""
    return AXE_SCRIPT.is_file()


def require_axe() -> None:
    """Skip, visibly, only when npm is missing; a missing install with npm present fails."""
    if axe_available():
        return
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: axe-core accessibility checks skipped")
    pytest.fail("axe-core is missing: run `make install` (it runs npm ci in tests/web/axe)")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core in the page; return its serious and critical violations."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol rather than added as a <script> element:
        # the pages' Content-Security-Policy forbids inline scripts, and must stay on.
        page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8") + "\n;undefined")
    result: dict[str, Any] = page.evaluate(
        "options => window.axe.run(document, options)", AXE_OPTIONS
    )
    return [v for v in result["violations"] if v.get("impact") in BLOCKING_IMPACTS]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """One line per rule and per offending element, to read in a failed test's output."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['impact']}: {violation['id']}: {violation['help']}")
        for node in violation["nodes"][:5]:
            summary = node.get("failureSummary", "").replace("\n", " ")
            lines.append(f"    {node['target']}: {node['html'][:160]} -- {summary[:240]}")
    return "\n".join(lines)


def assert_accessible(page: Page, where: str) -> None:
    """Fail on any serious or critical axe-core violation (no-op without axe-core)."""
    if not axe_available():
        return
    violations = axe_violations(page)
    assert not violations, f"{where}: axe-core violations\n{describe_violations(violations)}"


def assert_fits_phone(page: Page, where: str) -> None:
    """Fail when the page, laid out at 360 px, scrolls sideways."""
    width = page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
    )
    if width > PHONE_WIDTH:
        wide = page.evaluate(
            """limit => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > limit + 0.5)
                .slice(0, 5)
                .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                     + (e.className && typeof e.className === 'string'
                        ? '.' + e.className.trim().split(/\\s+/).join('.') : ''))""",
            PHONE_WIDTH,
        )
        pytest.fail(f"{where}: the page is {width} px wide on a 360 px phone; widest: {wide}")


# Common English words that are not Vietnamese words too (so not "to", "an", "me"): one of
# them in the visible text of a page whose language is Vietnamese means an untranslated
# string. Text marked lang="en" (the switch to English, say) is skipped.
ENGLISH_WORDS = (
    "the", "and", "of", "is", "are", "not", "with", "this", "that", "from", "cannot",
    "must", "please", "error", "found", "round", "rounds", "slip", "slips", "unit", "units",
    "ballot", "ballots", "results", "login", "password", "submit", "save", "back", "home",
)  # fmt: skip
_VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest('script,style,template,[hidden],[aria-hidden="true"]')) continue;
    if (el.closest('code,kbd,samp,pre')) continue;  // machine text: hashes, JSON, commands
    const tagged = el.closest('[lang]');
    if (tagged && !tagged.lang.toLowerCase().startsWith('vi')) continue;
    if (node.textContent.trim()) out.push(node.textContent.trim());
  }
  const labelled = '[placeholder],[aria-label],[title],input[type=submit]';
  for (const el of document.querySelectorAll(labelled)) {
    for (const a of ['placeholder', 'aria-label', 'title', 'value']) {
      if (el.type !== 'submit' && a === 'value') continue;
      const v = el.getAttribute(a);
      if (v) out.push(v);
    }
  }
  out.push(document.title);
  return out;
}"""
_IDENTIFIER = re.compile(r"\b[a-z_]+(?:\.[a-z_]+)+\b")
_ENGLISH = re.compile(r"\b(" + "|".join(ENGLISH_WORDS) + r")\b", re.IGNORECASE)


def english_on_vietnamese_page(page: Page) -> list[str]:
    """Pieces of visible text with English words, when the page says it is Vietnamese."""
    lang = page.evaluate("document.documentElement.lang") or ""
    if not lang.lower().startswith("vi"):
        return []
    texts: list[str] = page.evaluate(_VISIBLE_TEXT)
    # Dotted identifiers (the audit log's "round.opened") are names in a documented
    # format, not prose: they are left out; the words around them are not.
    return [t[:120] for t in texts if _ENGLISH.search(_IDENTIFIER.sub(" ", t))]


def assert_vietnamese(page: Page, where: str) -> None:
    """Fail when a page in Vietnamese shows English text."""
    found = english_on_vietnamese_page(page)
    assert not found, f"{where}: English text on a Vietnamese page: {found}"


@dataclass
class ConsoleErrors:
    """Collects a page's console errors and uncaught exceptions; expected ones can be named."""

    seen: list[str] = field(default_factory=list)
    expected: list[re.Pattern[str]] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        """Listen to ``page`` (call once per page, as soon as it is created)."""
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)

    def expect(self, pattern: str) -> None:
        """Tolerate errors matching ``pattern`` (a regex) from now on."""
        self.expected.append(re.compile(pattern))

    def assert_none(self, where: str) -> None:
        """Fail if an unexpected error was seen since the last call; then start afresh."""
        errors = [e for e in self.seen if not any(p.search(e) for p in self.expected)]
        self.seen.clear()
        self.expected.clear()
        assert not errors, f"{where}: console errors:\n" + "\n".join(errors)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            location = message.location.get("url", "")
            self.seen.append(f"{message.text} ({location})")

    def _on_page_error(self, error: Error) -> None:
        self.seen.append(f"uncaught: {error.message}")


@dataclass
class StepChecker:
    """Applies every check to each step of a test and photographs it at 360 and 1280 px."""

    page: Page
    folder: Path
    console: ConsoleErrors = field(default_factory=ConsoleErrors)
    steps: int = 0

    def __post_init__(self) -> None:
        self.console.watch(self.page)

    def step(self, name: str, *, axe: bool = True, vietnamese: bool = True) -> None:
        """Screenshots at both widths; fail on overflow at 360, axe, English, console errors."""
        self.steps += 1
        stem = f"{self.steps:02d}-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}"
        where = f"step {self.steps} ({name}) at {self.page.url}"
        original = self.page.viewport_size
        self.page.set_viewport_size({"width": DESKTOP_WIDTH, "height": DESKTOP_HEIGHT})
        self.page.screenshot(path=str(self.folder / f"{stem}-1280.png"), full_page=True)
        self.page.set_viewport_size({"width": PHONE_WIDTH, "height": PHONE_HEIGHT})
        self.page.screenshot(path=str(self.folder / f"{stem}-360.png"), full_page=True)
        assert_fits_phone(self.page, where)
        if axe:
            assert_accessible(self.page, where)
        if vietnamese:
            assert_vietnamese(self.page, where)
        if original is not None:
            self.page.set_viewport_size(original)
        self.console.assert_none(where)
