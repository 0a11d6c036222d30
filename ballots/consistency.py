"""A round's consistency check: what was counted agrees with what was spent and published.

Run after a crash, after restoring a backup, or at any time by an observer. It uses the
domain's own counting functions (the tally's ballots per unit, the tokens' turnout, the
ballot box's receipts), so it follows however the ballot box comes to store ballots.
Nothing here reads a ballot's content.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from ballots import audit, ballot_box, tally, tokens
from ballots.rounds import get_round
from ballots.vocabulary import RoundStatus


@dataclass(frozen=True)
class Finding:
    """One check and its outcome."""

    name: str
    ok: bool
    detail: str


@dataclass
class CheckReport:
    """Every finding of a round's check; ``ok`` only when all passed."""

    round_id: int
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return all(f.ok for f in self.findings)

    def add(self, name: str, ok: bool, detail: str) -> None:
        """Record one finding."""
        self.findings.append(Finding(name, ok, detail))


def check_round(session: Session, round_id: int) -> CheckReport:
    """Ballots = spent slips per unit = receipts; the audit chain; the close's anchor."""
    round_ = get_round(session, round_id)
    report = CheckReport(round_id)
    ballots = tally.ballots_per_unit(session, round_id)
    ballot_total = sum(ballots.values())
    spent_total = 0
    for unit in tokens.token_summary(session, round_id):
        counted = ballots.pop(unit.unit.id, 0)
        spent_total += unit.used
        report.add(
            f"unit {unit.unit.code}",
            counted == unit.used,
            f"{counted} ballots, {unit.used} slips spent",
        )
    for unit_id, counted in ballots.items():  # ballots of a unit not taking part
        report.add(f"unit id {unit_id}", False, f"{counted} ballots, unit not in the round")
    receipts = ballot_box.receipts(session, round_id)
    report.add(
        "receipts",
        len(receipts) == ballot_total == spent_total,
        f"{len(receipts)} receipts, {ballot_total} ballots, {spent_total} slips spent",
    )
    verdict = audit.verify(session)
    report.add(
        "audit chain",
        verdict.ok,
        f"{verdict.entries_checked} entries verified"
        if verdict.ok
        else f"broken at entry {verdict.first_broken_seq}: {verdict.reason}",
    )
    if round_.status in (RoundStatus.CLOSED, RoundStatus.PUBLISHED):
        _check_anchor(session, report, ballot_total, receipts)
    return report


def _check_anchor(
    session: Session, report: CheckReport, ballot_total: int, receipts: list[str]
) -> None:
    """The close anchored the ballot count and the receipts' digest in the audit log."""
    closes = [
        e
        for e in audit.entries_for(session, ("round.closed",))
        if e.payload.get("round_id") == report.round_id
    ]
    if len(closes) != 1:
        report.add("close anchor", False, f"{len(closes)} round.closed entries for the round")
        return
    anchored = closes[0].payload
    digest = hashlib.sha256("\n".join(receipts).encode()).hexdigest()
    report.add(
        "close anchor: ballots",
        anchored.get("ballots") == ballot_total,
        f"anchored {anchored.get('ballots')}, counted {ballot_total}",
    )
    same = anchored.get("receipts_sha256") == digest
    report.add(
        "close anchor: receipts",
        same,
        f"SHA-256 of the sorted receipts {'matches' if same else 'differs'}",
    )
