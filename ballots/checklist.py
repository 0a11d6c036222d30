"""A round's steps as a checklist: each done, missing or blocked, and why.

The console's round page shows this list. Each step is one small function of the round's
state, in order; a later feature adds its steps by inserting functions into ``STEPS``.
Titles and reasons are English templates marked with ``N_`` for the web edge to translate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy.orm import Session

from ballots import leaders, lottery, rounds, tokens, units
from ballots.participants import list_round_units
from ballots.rounds import Round
from ballots.subjects import list_subjects
from ballots.text import N_
from ballots.vocabulary import Role, RoundStatus, UnitKind


class StepState(StrEnum):
    """Where a step stands."""

    DONE = "done"
    MISSING = "missing"  # can be done now
    BLOCKED = "blocked"  # needs an earlier step or another state of the round


@dataclass(frozen=True)
class Step:
    """One line of the checklist: a key (also the page's anchor), a title and the reason."""

    key: str
    title: str
    state: StepState
    why: str
    params: dict[str, object] = field(default_factory=dict)


@dataclass
class RoundFacts:
    """What the steps look at, gathered once per page."""

    round: Round
    units_known: int
    schools_known: int
    wards_taking_part: int
    schools_taking_part: int
    units_without_heads: list[str]
    has_draw: bool
    units_without_slips: list[str]
    slips_live: int
    ballots: int
    heads: int
    heads_with_accounts: int


ORDER = [RoundStatus.DRAFT, RoundStatus.OPEN, RoundStatus.CLOSED, RoundStatus.PUBLISHED]


def reached(round_: Round, status: RoundStatus) -> bool:
    """Whether the round is at ``status`` or past it."""
    return ORDER.index(round_.status) >= ORDER.index(status)


def gather(session: Session, round_id: int) -> RoundFacts:
    """Read what the checklist needs (a few queries)."""
    round_ = rounds.get_round(session, round_id)
    known = units.list_units(session)
    participants = list_round_units(session, round_id)
    subjects = list_subjects(session, round_id)
    held = {(s.unit_id, s.role) for s in subjects}
    needs = {
        UnitKind.WARD: [r for r in Role if r.unit_kind is UnitKind.WARD],
        UnitKind.SCHOOL: [r for r in Role if r.unit_kind is UnitKind.SCHOOL],
    }
    without_heads = [
        p.unit.code
        for p in participants
        if any((p.unit.id, role) not in held for role in needs[p.unit.kind])
    ]
    summary = tokens.token_summary(session, round_id)
    return RoundFacts(
        round=round_,
        units_known=len(known),
        schools_known=sum(1 for u in known if u.kind is UnitKind.SCHOOL),
        wards_taking_part=sum(1 for p in participants if p.unit.kind is UnitKind.WARD),
        schools_taking_part=sum(1 for p in participants if p.unit.kind is UnitKind.SCHOOL),
        units_without_heads=without_heads,
        has_draw=lottery.current_draw(session, round_id) is not None,
        units_without_slips=[t.unit.code for t in summary if t.live == 0],
        slips_live=sum(t.live for t in summary),
        ballots=sum(t.used for t in summary),
        heads=len(subjects),
        heads_with_accounts=sum(1 for s in subjects if leaders.account_of(session, s.id)),
    )


def _units(f: RoundFacts) -> Step:
    if f.units_known:
        return Step(
            "units",
            N_("Units of the district"),
            StepState.DONE,
            N_("{n} units known, {schools} of them schools."),
            {"n": f.units_known, "schools": f.schools_known},
        )
    return Step(
        "units",
        N_("Units of the district"),
        StepState.MISSING,
        N_("Upload the CSV file of wards and schools."),
    )


def _participants(f: RoundFacts) -> Step:
    title = N_("Wards taking part and electorates")
    if f.wards_taking_part:
        return Step(
            "electorate",
            title,
            StepState.DONE,
            N_("{wards} wards and {schools} schools take part."),
            {"wards": f.wards_taking_part, "schools": f.schools_taking_part},
        )
    if not f.units_known:
        return Step("electorate", title, StepState.BLOCKED, N_("Upload the units first."))
    if f.round.status is not RoundStatus.DRAFT:
        return Step("electorate", title, StepState.BLOCKED, N_("The round is no longer a draft."))
    return Step(
        "electorate",
        title,
        StepState.MISSING,
        N_("Add the wards to the round and check how many voters each unit has."),
    )


def _lottery(f: RoundFacts) -> Step:
    title = N_("School lottery")
    if f.has_draw:
        return Step(
            "lottery",
            title,
            StepState.DONE,
            N_("{n} schools drawn; the proof can be printed."),
            {"n": f.schools_taking_part},
        )
    if not f.schools_known:
        return Step(
            "lottery",
            title,
            StepState.BLOCKED,
            N_("No schools are known: upload the units file with the school pool."),
        )
    if f.round.status is not RoundStatus.DRAFT:
        return Step("lottery", title, StepState.BLOCKED, N_("The round is no longer a draft."))
    return Step(
        "lottery",
        title,
        StepState.MISSING,
        N_("Read out the pool's digest, type the public phrase and draw."),
    )


def _heads(f: RoundFacts) -> Step:
    title = N_("Heads of units")
    if not f.wards_taking_part and not f.schools_taking_part:
        return Step("heads", title, StepState.BLOCKED, N_("No unit takes part yet."))
    if not f.units_without_heads:
        return Step("heads", title, StepState.DONE, N_("{n} heads recorded."), {"n": f.heads})
    if f.round.status is not RoundStatus.DRAFT:
        return Step("heads", title, StepState.BLOCKED, N_("The round is no longer a draft."))
    return Step(
        "heads",
        title,
        StepState.MISSING,
        N_("Units without all their heads: {codes}."),
        {
            "codes": ", ".join(f.units_without_heads[:10])
            + (" …" if len(f.units_without_heads) > 10 else "")
        },
    )


def _questionnaire(f: RoundFacts) -> Step:
    title = N_("Questionnaire")
    if f.round.status is RoundStatus.DRAFT:
        return Step(
            "questionnaire",
            title,
            StepState.DONE,
            N_("Ready; it can be edited until the round opens."),
        )
    return Step("questionnaire", title, StepState.DONE, N_("Frozen since the round opened."))


def _slips(f: RoundFacts) -> Step:
    title = N_("Slips")
    if f.round.status in (RoundStatus.CLOSED, RoundStatus.PUBLISHED):
        return Step("slips", title, StepState.DONE, N_("{n} slips were live."), {"n": f.slips_live})
    if not f.wards_taking_part and not f.schools_taking_part:
        return Step("slips", title, StepState.BLOCKED, N_("No unit takes part yet."))
    if f.units_without_slips:
        return Step(
            "slips",
            title,
            StepState.MISSING,
            N_("Units without slips: {codes}."),
            {
                "codes": ", ".join(f.units_without_slips[:10])
                + (" …" if len(f.units_without_slips) > 10 else "")
            },
        )
    return Step("slips", title, StepState.DONE, N_("{n} live slips."), {"n": f.slips_live})


def _open(f: RoundFacts) -> Step:
    title = N_("Open voting")
    if reached(f.round, RoundStatus.OPEN):
        return Step("open", title, StepState.DONE, N_("Voting has opened."))
    if not f.slips_live:
        return Step("open", title, StepState.BLOCKED, N_("Issue slips first."))
    return Step(
        "open", title, StepState.MISSING, N_("When the setup is checked: open; it is then frozen.")
    )


def _turnout(f: RoundFacts) -> Step:
    title = N_("Turnout")
    if f.round.status is RoundStatus.OPEN:
        return Step(
            "turnout",
            title,
            StepState.MISSING,
            N_("{n} ballots so far; watch it per unit."),
            {"n": f.ballots},
        )
    if reached(f.round, RoundStatus.CLOSED):
        return Step(
            "turnout", title, StepState.DONE, N_("{n} ballots were cast."), {"n": f.ballots}
        )
    return Step("turnout", title, StepState.BLOCKED, N_("Shown while voting is open."))


def _close(f: RoundFacts) -> Step:
    title = N_("Close voting")
    if reached(f.round, RoundStatus.CLOSED):
        return Step("close", title, StepState.DONE, N_("Voting is closed."))
    if f.round.status is RoundStatus.OPEN:
        return Step(
            "close",
            title,
            StepState.MISSING,
            N_("Close when every unit has voted; no ballot is accepted after."),
        )
    return Step("close", title, StepState.BLOCKED, N_("Open voting first."))


def _results(f: RoundFacts) -> Step:
    title = N_("Results")
    if reached(f.round, RoundStatus.CLOSED):
        return Step("results", title, StepState.DONE, N_("The results can be read."))
    return Step(
        "results", title, StepState.BLOCKED, N_("Results stay sealed until voting is closed.")
    )


def _publish(f: RoundFacts) -> Step:
    title = N_("Publish")
    if f.round.status is RoundStatus.PUBLISHED:
        return Step("publish", title, StepState.DONE, N_("Published to the heads."))
    if f.round.status is RoundStatus.CLOSED:
        return Step(
            "publish", title, StepState.MISSING, N_("Release each head's own report to them.")
        )
    return Step("publish", title, StepState.BLOCKED, N_("Close voting first."))


def _leaders(f: RoundFacts) -> Step:
    title = N_("Accounts of the heads")
    if f.round.status is not RoundStatus.PUBLISHED:
        return Step("leaders", title, StepState.BLOCKED, N_("Publish the results first."))
    if f.heads and f.heads_with_accounts >= f.heads:
        return Step("leaders", title, StepState.DONE, N_("Every head has an account."))
    return Step(
        "leaders",
        title,
        StepState.MISSING,
        N_("{n} of {total} heads have no account yet; print their setup codes."),
        {"n": f.heads - f.heads_with_accounts, "total": f.heads},
    )


StepFunction = Callable[[RoundFacts], Step]
# In the order a committee works. Insert new steps where they belong (a key ceremony before
# "open", say); each key names the section of the round's page that does the step.
STEPS: list[StepFunction] = [
    _units,
    _participants,
    _lottery,
    _heads,
    _questionnaire,
    _slips,
    _open,
    _turnout,
    _close,
    _results,
    _publish,
    _leaders,
]


def checklist(session: Session, round_id: int) -> list[Step]:
    """The round's steps in order."""
    facts = gather(session, round_id)
    return [step(facts) for step in STEPS]
