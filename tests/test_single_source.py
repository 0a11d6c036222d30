"""Each rule's value is written once, in ballots/, and imported everywhere else."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OWNED = {
    "MIN_ANONYMITY_THRESHOLD": "ballots/thresholds.py",
    "DEFAULT_ANONYMITY_THRESHOLD": "ballots/thresholds.py",
    "MIN_COMMENT_BALLOTS": "ballots/thresholds.py",
    "MIN_PASSWORD_LENGTH": "ballots/accounts.py",
}
# Field bounds that would restate a rule's value instead of importing it.
RESTATED_BOUNDS = {("ge", 3), ("min_length", 10)}


def _sources() -> list[tuple[str, ast.Module]]:
    return [
        (str(path.relative_to(ROOT)), ast.parse(path.read_text("utf-8")))
        for top in ("app", "ballots")
        for path in sorted((ROOT / top).rglob("*.py"))
    ]


def copies() -> list[str]:
    """Every place that writes one of the rules' values again."""
    found = []
    defined: Counter[str] = Counter()
    for where, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name) and target.id in OWNED:
                        defined[target.id] += 1
                        if OWNED[target.id] != where:
                            found.append(f"{where}:{node.lineno} defines {target.id}")
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                literals = [a.value for a in node.args if isinstance(a, ast.Constant)]
                if name == "max" and 5 in literals and where != "ballots/thresholds.py":
                    found.append(f"{where}:{node.lineno} computes the comment threshold again")
                for kw in node.keywords:
                    if isinstance(kw.value, ast.Constant) and (kw.arg, kw.value.value) in (
                        RESTATED_BOUNDS
                    ):
                        found.append(f"{where}:{node.lineno} restates {kw.arg}={kw.value.value}")
            if isinstance(node, ast.Dict) and any(
                isinstance(k, ast.Attribute)
                and isinstance(k.value, ast.Name)
                and k.value.id == "Role"
                and isinstance(v, ast.Constant)
                and isinstance(v.value, int)
                for k, v in zip(node.keys, node.values, strict=True)
            ):
                found.append(f"{where}:{node.lineno} orders roles again (use Role.rank)")
    found += [f"{name} is defined {n} times" for name, n in defined.items() if n > 1]
    found += [f"{name} is not defined in {OWNED[name]}" for name in OWNED if not defined[name]]
    return found


class TestSingleSource:
    """Threshold k's floor, the comment threshold, role order, the password length."""

    def test_no_rule_value_is_written_twice(self) -> None:
        """app/ and ballots/ import these values; only their owner module defines them."""
        assert copies() == []

    def test_templates_take_the_password_length_from_the_code(self) -> None:
        """No page states the minimum password length as a number of its own."""
        pages = sorted((ROOT / "app" / "templates").rglob("*.html"))
        assert [p.name for p in pages if 'minlength="10"' in p.read_text("utf-8")] == []
