"""The Long Biên sample round for ``phieukin demo``."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ballots import accounts, rounds, units
from ballots.vocabulary import UnitKind, UserRole

DEMO_DATA = Path(__file__).resolve().parent / "demo_data"
DEMO_TITLE = "Lấy ý kiến góp ý người đứng đầu năm 2023"
DEMO_PLAN = "Kế hoạch số 104-KH/QU"
DEMO_ADMIN = "admin"
DEMO_OBSERVER = "giamsat"


@dataclass
class DemoResult:
    """What the demo loaded and how to log in."""

    round_id: int
    units: int
    wards: int
    subjects: int
    logins: dict[str, str] = field(default_factory=dict)

    def describe(self, base_url: str) -> str:
        """Text printed by ``phieukin demo``."""
        lines = [
            f"Demo round {self.round_id}: {DEMO_TITLE} ({DEMO_PLAN})",
            f"  {self.units} units known, {self.wards} wards taking part, "
            f"{self.subjects} heads on record.",
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
            session, username=username, full_name=full_name, role=role, password=pw
        )
    else:
        accounts.set_password(session, username, pw)


def load_demo(session: Session, *, threshold: int, sample_dir: Path | None = None) -> DemoResult:
    """Load (or refresh) the sample: units, the 2023 round, its wards and heads, two logins."""
    folder = sample_dir or DEMO_DATA
    units.import_units(session, (folder / "long_bien_units.csv").read_bytes())
    round_ = session.scalar(select(rounds.Round).where(rounds.Round.title == DEMO_TITLE))
    if round_ is None:
        round_ = rounds.create_round(
            session,
            title=DEMO_TITLE,
            year=2023,
            plan_reference=DEMO_PLAN,
            anonymity_threshold=threshold,
        )
    if round_.status.value == "draft":
        rounds.import_subjects(session, round_.id, (folder / "long_bien_subjects.csv").read_bytes())
        wards = [u for u in units.list_units(session) if u.kind is UnitKind.WARD]
        rounds.set_round_units(session, round_.id, [(w.code, None) for w in wards])
    password, observer_pw = secrets.token_urlsafe(9), secrets.token_urlsafe(9)
    _reset_account(session, DEMO_ADMIN, "Ban Tổ chức Quận ủy", UserRole.ADMIN, password)
    _reset_account(session, DEMO_OBSERVER, "Ủy ban Kiểm tra", UserRole.OBSERVER, observer_pw)
    participants = rounds.list_round_units(session, round_.id)
    return DemoResult(
        round_id=round_.id,
        units=len(units.list_units(session)),
        wards=sum(1 for p in participants if p.unit.kind is UnitKind.WARD),
        subjects=len(rounds.list_subjects(session, round_.id)),
        logins={DEMO_ADMIN: password, DEMO_OBSERVER: observer_pw},
    )
