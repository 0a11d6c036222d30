"""The Long Biên sample for ``phieukin demo``: three rounds that show the whole product.

- 2022: the wards only, published (so that heads have a trend to compare with);
- 2023: the sample round of the 2023 plan: 14 wards and 15 schools drawn by lottery, slips
  printed, plausible ballots cast through the real voting path (one school left below the
  anonymity threshold on purpose), closed and published, with leader logins;
- 2024: the wards, open for voting, with slips handed out on the console to vote from phones.

The demo logins are derived from the installation's secret key, so they stay the same each
time the demo runs again on the same database (and key file), and differ between machines.

Every round is sealed (key ceremony at the opening, 3 of 5 shares at the close). A real
round hands each share to its holder and keeps none; the demo has no holders, so it keeps
the shares itself: in memory for the rounds it closes, and as files for the open round so
that the operator can close it. The output says so.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from app.share_files import write_shares
from ballots import (
    accounts,
    casting,
    leaders,
    lifecycle,
    lottery,
    rounds,
    setup_codes,
    tally,
    tokens,
    units,
)
from ballots.db import utcnow
from ballots.participants import list_round_units, set_round_units
from ballots.slips import render_slips_pdf
from ballots.subjects import import_subjects, list_subjects
from ballots.vocabulary import Role, RoundStatus, UnitKind, UserRole
from crypto.qr import slip_url

DEMO_DATA = Path(__file__).resolve().parent / "demo_data"
DEMO_TITLE = "Lấy ý kiến góp ý người đứng đầu năm 2023"
DEMO_PLAN = "Kế hoạch số 104-KH/QU"
PAST_TITLE = "Lấy ý kiến góp ý người đứng đầu năm 2022"
NEXT_TITLE = "Lấy ý kiến góp ý người đứng đầu năm 2024"
DEMO_ADMIN = "admin"
DEMO_OBSERVER = "giamsat"
ACTOR = "demo"
# A fixed phrase, so every demo draws the same schools and the proof can be re-checked.
DEMO_PHRASE = "Xúc xắc: 4 2 6 1 5 3 - XSMB 24/11/2026: 58213"
TRY_UNIT = "PHUONG-BODE"
TRY_SLIPS = 10  # enough for a few people to try from their own phones
# Illustrative key holders (fictional names): five shares, three needed, as by default.
DEMO_HOLDERS = [
    "Nguyễn Văn Hùng (Ủy ban Kiểm tra)",
    "Trần Thị Mai (Ủy ban MTTQ)",
    "Lê Quang Minh (Ban Tổ chức)",
    "Phạm Thu Hà (Văn phòng Quận ủy)",
    "Đỗ Đức Long (Ban Tuyên giáo)",
]
# The demo's sample ballots come from a seeded generator: plausible, repeatable, not secret.
SAMPLE_SEED = 2023
COMMENTS = {
    "strengths": [
        "Gương mẫu, sâu sát cơ sở, lắng nghe ý kiến cán bộ.",
        "Điều hành quyết liệt, giải quyết công việc đúng hẹn.",
        "Giữ gìn đoàn kết nội bộ, tác phong giản dị.",
        "Chủ động đổi mới, ứng dụng công nghệ trong công việc.",
    ],
    "shortcomings": [
        "Đôi khi còn nể nang trong phê bình.",
        "Cần dành thêm thời gian đối thoại với người dân.",
        "Việc công khai kế hoạch tu dưỡng cá nhân chưa thường xuyên.",
    ],
    "suggestions": [
        "Tổ chức đối thoại định kỳ với cán bộ trẻ.",
        "Rút ngắn thời gian các cuộc họp.",
    ],
}


@dataclass
class DemoResult:
    """What the demo loaded and how to log in."""

    round_id: int
    units: int
    wards: int
    schools: int
    subjects: int
    ballots: int = 0
    below_threshold: str = ""
    logins: dict[str, str] = field(default_factory=dict)
    leader: tuple[str, str, str] | None = None  # username, password, whose
    lottery: dict[str, list[str]] = field(default_factory=dict)
    lottery_seed: str = ""
    slips_dir: Path | None = None
    slips: int = 0
    open_round_id: int | None = None
    try_urls: list[str] = field(default_factory=list)
    shares_dir: Path | None = None

    def describe(self, base_url: str) -> str:
        """Text printed by ``phieukin demo``."""
        lines = [
            f"Demo round {self.round_id}: {DEMO_TITLE} ({DEMO_PLAN}), published.",
            f"  {self.units} units known, {self.wards} wards and {self.schools} schools "
            f"taking part, {self.subjects} heads on record, {self.ballots} ballots cast.",
            f"  Below the anonymity threshold on purpose: {self.below_threshold}.",
            f"Lottery seed {self.lottery_seed}; schools drawn:",
            *[f"  {level}: {', '.join(codes)}" for level, codes in self.lottery.items()],
            f"Verify it: phieukin lottery verify --round {self.round_id}",
            (
                f"Slips not used in the demo: {self.slips} printed into {self.slips_dir}/ "
                "(one PDF per unit)"
                if self.slips_dir
                else "Slips were printed on an earlier run (plain tokens are never kept)."
            ),
        ]
        if self.try_urls:
            lines += [
                "",
                f"Round {self.open_round_id} ({NEXT_TITLE}) is open. Vote from a phone (on the "
                "same network, with PHIEUKIN_PUBLIC_BASE_URL set to this machine's address) or "
                "a phone-sized browser window, with one of these slips of Phường Bồ Đề (each "
                "works once):",
                # Lower case, as a phone's camera shows the link of a printed QR code.
                *[f"  {url.lower()}" for url in self.try_urls],
            ]
        if self.shares_dir:
            lines += [
                "",
                "Every demo round is sealed: ballots are encrypted at cast and opened only at "
                "the close with 3 of 5 key shares.",
                "DEMO ONLY: the demo keeps the key shares itself (a real round hands each "
                "share to its holder and keeps none). Those of the open round are in "
                f"{self.shares_dir}/; close it with three of them:",
                f"  phieukin round close {self.open_round_id} "
                + " ".join(f"--share {p}" for p in sorted(self.shares_dir.glob("*.txt"))[:3]),
            ]
        lines += ["", f"Open {base_url}/ and log in as:"]
        lines += [f"  {name:14} password: {pw}" for name, pw in self.logins.items()]
        if self.leader:
            username, password, whose = self.leader
            lines.append(f"  {username:14} password: {password}   ({whose}: sees only own report)")
        lines += [
            "",
            "Or through the API:",
            f"  curl -c jar -H 'content-type: application/json' "
            f'-d \'{{"username":"{DEMO_ADMIN}","password":"{self.logins[DEMO_ADMIN]}"}}\' '
            f"{base_url}/api/v1/auth/login",
            f"  curl -b jar {base_url}/api/v1/rounds",
        ]
        return "\n".join(lines)


def demo_password(secret_key: bytes, username: str) -> str:
    """A password derived from the key: the same on every run against the same database."""
    digest = hmac.new(secret_key, f"phieukin demo login {username}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:9]).decode()


def _reset_account(
    session: Session, username: str, full_name: str, role: UserRole, pw: str
) -> None:
    if accounts.find_user(session, username) is None:
        accounts.create_user(
            session, username=username, full_name=full_name, role=role, password=pw, actor=ACTOR
        )
    else:
        user = accounts.find_user(session, username)
        assert user is not None
        user.is_active = True  # a demo login disabled while trying the console comes back
        accounts.set_password(session, username, pw, actor=ACTOR)


Answers = dict[str, dict[str, dict[str, object]]]


def _ballot(rng: random.Random, form: casting.BallotForm, leaning: dict[int, float]) -> Answers:
    """A plausible ballot: each head has a leaning; some answers 'no opinion', some comments."""
    keys = [c.key for c in form.questionnaire.criteria]
    ratings: dict[str, dict[str, object]] = {}
    texts: dict[str, dict[str, object]] = {}
    for subject in form.subjects:
        base = leaning[subject.id]
        ratings[str(subject.id)] = {
            k: 0 if rng.random() < 0.05 else max(1, min(4, round(rng.gauss(base, 0.7))))
            for k in keys
        }
        if rng.random() < 0.3:
            question = rng.choice(list(COMMENTS))
            texts[str(subject.id)] = {question: rng.choice(COMMENTS[question])}
    return {"ratings": ratings, "texts": texts}


def _vote(session: Session, rng: random.Random, round_id: int, unit_code: str, count: int) -> int:
    """Cast ``count`` sample ballots for a unit through the real voting path."""
    if count <= 0:
        return 0
    plain = tokens.issue_tokens(session, round_id, unit_code, count, actor=ACTOR).tokens
    form = casting.preview(session, plain[0])
    leaning = {s.id: rng.uniform(2.6, 3.7) for s in form.subjects}
    for token in plain:
        casting.cast(session, token, _ballot(rng, form, leaning))
    return count


def _new_round(session: Session, title: str, year: int, threshold: int, folder: Path) -> int:
    round_ = rounds.create_round(
        session,
        title=title,
        year=year,
        plan_reference=DEMO_PLAN if year == 2023 else None,
        anonymity_threshold=threshold,
        actor=ACTOR,
    )
    import_subjects(
        session, round_.id, (folder / "long_bien_subjects.csv").read_bytes(), actor=ACTOR
    )
    wards = [u for u in units.list_units(session) if u.kind is UnitKind.WARD]
    set_round_units(session, round_.id, [(w.code, None) for w in wards], actor=ACTOR)
    return round_.id


def _open_sealed(session: Session, round_id: int) -> list[str]:
    """Open with the key ceremony; the demo keeps the shares (a real round never does)."""
    opened = lifecycle.open_round(session, round_id, actor=ACTOR, key_holders=DEMO_HOLDERS)
    return [s.text for s in opened.shares]


def _past_round(session: Session, rng: random.Random, threshold: int, folder: Path) -> None:
    round_id = _new_round(session, PAST_TITLE, 2022, threshold, folder)
    tokens.issue_tokens(session, round_id, TRY_UNIT, 1, actor=ACTOR)  # opening needs slips
    shares = _open_sealed(session, round_id)
    for participant in list_round_units(session, round_id):
        _vote(session, rng, round_id, participant.unit.code, rng.randint(12, 20))
    lifecycle.close_round(session, round_id, actor=ACTOR, shares=shares[:3])
    lifecycle.publish_round(session, round_id, actor=ACTOR)
    leaders.create_leader_accounts(session, round_id, actor=ACTOR, now=utcnow())


def _sample_round(
    session: Session,
    rng: random.Random,
    threshold: int,
    base_url: str,
    slips_root: Path,
    folder: Path,
    result: DemoResult,
) -> int:
    round_id = _new_round(session, DEMO_TITLE, 2023, threshold, folder)
    lottery.draw_schools(session, round_id, phrase=DEMO_PHRASE, actor=ACTOR)
    participants = list_round_units(session, round_id)
    title = rounds.get_round(session, round_id).title
    issued = {
        p.unit.code: tokens.issue_tokens(session, round_id, p.unit.code, p.electorate, actor=ACTOR)
        for p in participants
    }
    shares = _open_sealed(session, round_id)
    quiet = next(p.unit for p in participants if p.unit.kind is UnitKind.SCHOOL)
    slips_dir = slips_root / f"round-{round_id}"
    slips_dir.mkdir(parents=True, exist_ok=True)
    for p in participants:
        plain = issued[p.unit.code].tokens
        voters = threshold - 2 if p.unit.id == quiet.id else int(len(plain) * rng.uniform(0.7, 0.9))
        form = casting.preview(session, plain[0])
        leaning = {s.id: rng.uniform(2.5, 3.8) for s in form.subjects}
        for token in plain[:voters]:
            casting.cast(session, token, _ballot(rng, form, leaning))
        result.ballots += voters
        unused = plain[voters:]
        if unused:
            pdf = render_slips_pdf(
                unused, round_title=title, unit_name=p.unit.name, base_url=base_url
            )
            (slips_dir / f"{p.unit.code}.pdf").write_bytes(pdf)
            result.slips += len(unused)
    result.slips_dir = slips_dir
    lifecycle.close_round(session, round_id, actor=ACTOR, shares=shares[2:])
    lifecycle.publish_round(session, round_id, actor=ACTOR)
    leaders.create_leader_accounts(session, round_id, actor=ACTOR, now=utcnow())
    return round_id


Progress = Callable[[str], None]


def _quiet(_step: str) -> None:
    """No progress report."""


def load_demo(
    session: Session,
    *,
    threshold: int,
    base_url: str,
    slips_root: Path,
    secret_key: bytes,
    sample_dir: Path | None = None,
    progress: Progress = _quiet,
) -> DemoResult:
    """Load the sample once (later runs only reset the logins and hand out new slips)."""
    folder = sample_dir or DEMO_DATA
    progress("Loading the units of Long Biên")
    rng = random.Random(SAMPLE_SEED)  # noqa: S311 - sample data, not a secret
    units.import_units(session, (folder / "long_bien_units.csv").read_bytes(), actor=ACTOR)
    result = DemoResult(round_id=0, units=0, wards=0, schools=0, subjects=0)
    sample = rounds.find_round_by_title(session, DEMO_TITLE)
    if sample is None:
        progress("Round 2022: casting sample ballots in 14 wards")
        _past_round(session, rng, threshold, folder)
        progress("Round 2023: lottery, slips, about 1,700 sample ballots (the longest step)")
        result.round_id = _sample_round(
            session, rng, threshold, base_url, slips_root, folder, result
        )
        upcoming = _new_round(session, NEXT_TITLE, 2024, threshold, folder)
    else:
        result.round_id = sample.id
        existing = rounds.find_round_by_title(session, NEXT_TITLE)
        upcoming = (
            existing.id if existing else _new_round(session, NEXT_TITLE, 2024, threshold, folder)
        )
    progress("Round 2024: opening it with fresh slips to try")
    status = rounds.get_round(session, upcoming).status
    if status in (RoundStatus.DRAFT, RoundStatus.OPEN):
        # Fresh slips on every run, handed to the operator on the console only.
        handed = tokens.issue_tokens(
            session, upcoming, TRY_UNIT, TRY_SLIPS, actor=ACTOR, override_electorate=True
        )
        shares_dir = slips_root / f"round-{upcoming}" / "key-shares"
        if status is RoundStatus.DRAFT:
            opened = lifecycle.open_round(session, upcoming, actor=ACTOR, key_holders=DEMO_HOLDERS)
            write_shares(shares_dir, NEXT_TITLE, opened.shares)
        if shares_dir.is_dir():
            result.shares_dir = shares_dir
        result.open_round_id = upcoming
        result.try_urls = [slip_url(base_url, t) for t in handed.tokens]
    draw = lottery.get_draw(session, result.round_id)
    result.lottery, result.lottery_seed = draw.chosen, draw.seed
    participants = list_round_units(session, result.round_id)
    result.units = len(units.list_units(session))
    result.wards = sum(1 for p in participants if p.unit.kind is UnitKind.WARD)
    result.schools = sum(1 for p in participants if p.unit.kind is UnitKind.SCHOOL)
    result.subjects = len(list_subjects(session, result.round_id))
    per_unit = tally.ballots_per_unit(session, result.round_id)
    result.ballots = sum(per_unit.values())
    k = rounds.get_round(session, result.round_id).anonymity_threshold
    result.below_threshold = ", ".join(
        f"{p.unit.name} ({per_unit.get(p.unit.id, 0)} ballots, k = {k})"
        for p in participants
        if per_unit.get(p.unit.id, 0) < k
    )
    progress("Logins")
    password, observer_pw = (demo_password(secret_key, n) for n in (DEMO_ADMIN, DEMO_OBSERVER))
    _reset_account(session, DEMO_ADMIN, "Ban Tổ chức Quận ủy", UserRole.ADMIN, password)
    _reset_account(session, DEMO_OBSERVER, "Ủy ban Kiểm tra", UserRole.OBSERVER, observer_pw)
    result.logins = {DEMO_ADMIN: password, DEMO_OBSERVER: observer_pw}
    head = next(
        s
        for s in list_subjects(session, result.round_id)
        if s.unit.code == TRY_UNIT and s.role is Role.WARD_PARTY_SECRETARY
    )
    leader = leaders.account_of(session, head.id)
    if leader is not None:
        leader_pw = demo_password(secret_key, leader.username)
        if not leader.is_active:  # disabled while trying the console: the demo still logs in
            leader.is_active = True
        accounts.set_password(session, leader.username, leader_pw, actor=ACTOR)
        setup_codes.withdraw(leader)
        result.leader = (leader.username, leader_pw, f"{head.person.full_name}, {head.unit.name}")
    return result
