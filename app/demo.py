"""The Long Biên sample round for ``phieukin demo``."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ballots import accounts, lifecycle, lottery, rounds, tokens, units
from ballots.vocabulary import UnitKind, UserRole
from crypto.qr import slip_url

DEMO_DATA = Path(__file__).resolve().parent / "demo_data"
DEMO_TITLE = "Lấy ý kiến góp ý người đứng đầu năm 2023"
DEMO_PLAN = "Kế hoạch số 104-KH/QU"
DEMO_ADMIN = "admin"
DEMO_OBSERVER = "giamsat"
# A fixed phrase, so every demo draws the same schools and the proof can be re-checked.
DEMO_PHRASE = "Xúc xắc: 4 2 6 1 5 3 - XSMB 24/11/2026: 58213"
ACTOR = "demo"
TRY_UNIT = "PHUONG-BODE"
TRY_SLIPS = 3


@dataclass
class DemoResult:
    """What the demo loaded and how to log in."""

    round_id: int
    units: int
    wards: int
    schools: int
    subjects: int
    logins: dict[str, str] = field(default_factory=dict)
    lottery: dict[str, list[str]] = field(default_factory=dict)
    lottery_seed: str = ""
    slips_dir: Path | None = None
    slips: int = 0
    try_urls: list[str] = field(default_factory=list)

    def describe(self, base_url: str) -> str:
        """Text printed by ``phieukin demo``."""
        lines = [
            f"Demo round {self.round_id}: {DEMO_TITLE} ({DEMO_PLAN})",
            f"  {self.units} units known, {self.wards} wards and {self.schools} schools "
            f"taking part, {self.subjects} heads on record.",
            f"Lottery seed {self.lottery_seed}; schools drawn:",
            *[f"  {level}: {', '.join(codes)}" for level, codes in self.lottery.items()],
            f"Verify it: phieukin lottery verify --round {self.round_id}",
            (
                f"Slips: {self.slips} printed into {self.slips_dir}/ (one PDF per unit)"
                if self.slips_dir
                else "Slips were printed on an earlier run (plain tokens are never kept)."
            ),
            *(
                [
                    "",
                    "Voting is open. Vote from a phone-sized browser window with one of these "
                    "slips of Phường Bồ Đề (each works once):",
                    *[f"  {url}" for url in self.try_urls],
                ]
                if self.try_urls
                else []
            ),
            "",
            f"Open {base_url}/ and log in as:",
        ]
        lines += [f"  {name:10} password: {pw}" for name, pw in self.logins.items()]
        lines += [
            "",
            "Or through the API:",
            f"  curl -c jar -H 'content-type: application/json' "
            f'-d \'{{"username":"{DEMO_ADMIN}","password":"{self.logins[DEMO_ADMIN]}"}}\' '
            f"{base_url}/api/v1/auth/login",
            f"  curl -b jar {base_url}/api/v1/rounds",
        ]
        return "\n".join(lines)


def _reset_account(
    session: Session, username: str, full_name: str, role: UserRole, pw: str
) -> None:
    if accounts.find_user(session, username) is None:
        accounts.create_user(
            session, username=username, full_name=full_name, role=role, password=pw, actor=ACTOR
        )
    else:
        accounts.set_password(session, username, pw)


def load_demo(
    session: Session,
    *,
    threshold: int,
    base_url: str,
    slips_root: Path,
    sample_dir: Path | None = None,
) -> DemoResult:
    """Load (or refresh) the sample round: units, heads, lottery, slips and two logins."""
    folder = sample_dir or DEMO_DATA
    units.import_units(session, (folder / "long_bien_units.csv").read_bytes(), actor=ACTOR)
    round_ = session.scalar(select(rounds.Round).where(rounds.Round.title == DEMO_TITLE))
    if round_ is None:
        round_ = rounds.create_round(
            session,
            title=DEMO_TITLE,
            year=2023,
            plan_reference=DEMO_PLAN,
            anonymity_threshold=threshold,
            actor=ACTOR,
        )
    # Only a round this demo has not set up yet is filled in: later runs must not undo
    # the lottery or change units once slips exist.
    if round_.status.value == "draft" and lottery.current_draw(session, round_.id) is None:
        rounds.import_subjects(
            session, round_.id, (folder / "long_bien_subjects.csv").read_bytes(), actor=ACTOR
        )
        wards = [u for u in units.list_units(session) if u.kind is UnitKind.WARD]
        rounds.set_round_units(session, round_.id, [(w.code, None) for w in wards], actor=ACTOR)
    if round_.status.value == "draft" and lottery.current_draw(session, round_.id) is None:
        lottery.draw_schools(session, round_.id, phrase=DEMO_PHRASE, actor=ACTOR)
    draw = lottery.get_draw(session, round_.id)
    slips_dir: Path | None = None
    printed = 0
    try_urls: list[str] = []
    if not tokens.round_has_tokens(session, round_):
        slips_dir = slips_root / f"round-{round_.id}"
        slips_dir.mkdir(parents=True, exist_ok=True)
        for participant in rounds.list_round_units(session, round_.id):
            count = participant.electorate
            if participant.unit.code == TRY_UNIT:
                count -= TRY_SLIPS  # kept for the slips printed on the console below
            issued = tokens.issue_slips(
                session, round_.id, participant.unit.code, count, base_url=base_url, actor=ACTOR
            )
            (slips_dir / f"{participant.unit.code}.pdf").write_bytes(issued.pdf)
            printed += count
        # A few slips handed to the operator on the console, so the demo can be tried from a
        # browser without printing; like any slip, they exist nowhere else.
        handed = tokens.issue_tokens(session, round_.id, TRY_UNIT, TRY_SLIPS, actor=ACTOR)
        try_urls = [slip_url(base_url, t) for t in handed.tokens]
        lifecycle.open_round(session, round_.id, actor=ACTOR)
    password, observer_pw = secrets.token_urlsafe(9), secrets.token_urlsafe(9)
    _reset_account(session, DEMO_ADMIN, "Ban Tổ chức Quận ủy", UserRole.ADMIN, password)
    _reset_account(session, DEMO_OBSERVER, "Ủy ban Kiểm tra", UserRole.OBSERVER, observer_pw)
    participants = rounds.list_round_units(session, round_.id)
    return DemoResult(
        round_id=round_.id,
        units=len(units.list_units(session)),
        wards=sum(1 for p in participants if p.unit.kind is UnitKind.WARD),
        schools=sum(1 for p in participants if p.unit.kind is UnitKind.SCHOOL),
        subjects=len(rounds.list_subjects(session, round_.id)),
        logins={DEMO_ADMIN: password, DEMO_OBSERVER: observer_pw},
        lottery=draw.chosen,
        lottery_seed=draw.seed,
        slips_dir=slips_dir,
        slips=printed,
        try_urls=try_urls,
    )
