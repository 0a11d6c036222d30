"""Benchmark: the sealed ballot box. Cast speed sealed beside unsealed, and the close.

Usage: .venv/bin/python bench/bench_seal.py [--ballots 2000] [--boxes 100000] [--keep]
            [--server postgresql+psycopg://postgres@127.0.0.1:5432]

Creates a throwaway database (phieukin_sealbench_<random>) on the server, migrates it, and
sets up two rounds with the services, identical but for the key ceremony: the 14 Long Biên
wards, the default questionnaire, one opened unsealed (``key_holders=None``) and one sealed
(five holders, three needed). Then, in one run on this machine:

  1. cast speed: ``casting.cast`` called back to back in this process, one transaction per
     ballot (no HTTP), alternating blocks of 100 ballots between the unsealed and the sealed
     round so that both see the same machine load; ballots per second of each and the ratio.
     Every ballot rates both heads of its ward and writes one comment of 200 characters.
  2. sealing alone: ``crypto.sealing.seal`` of the same ballot at the round's box size, and
     ``open_box`` of it, one core, per box.
  3. the close: --boxes sealed boxes are written straight into ``sealed_boxes`` (sealed in a
     pool of two processes, inserted in batches), then ``lifecycle.close_round`` with three
     shares is timed, commit included: shares checked, key rebuilt, every box opened and
     written as plain rows, the random rewrite of invariant 7, the boxes deleted.
  4. opening alone: up to 20,000 of the boxes, read into memory, opened by the close's own
     code (``box_opening.open_all``: worker processes on every core), and 5,000 on one core.

The database is dropped at the end unless --keep is given. Figures go to
docs/PERFORMANCE.md with the date and the command.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import migrations  # noqa: E402
from ballots import (  # noqa: E402
    ballot_box,
    box_opening,
    casting,
    key_ceremony,
    lifecycle,
    rounds,
    tokens,
    units,
)
from ballots.ballot_box import SealedBox  # noqa: E402
from ballots.db import make_engine, make_session_factory, transaction  # noqa: E402
from ballots.participants import set_round_units  # noqa: E402
from ballots.questionnaire import default_questionnaire  # noqa: E402
from ballots.subjects import import_subjects  # noqa: E402
from crypto import key_shares, sealing, shamir  # noqa: E402

DATA = ROOT / "app" / "demo_data"
HOLDERS = ["An", "Bình", "Cường", "Dung", "Em"]
COMMENT = ("Đồng chí gương mẫu, sâu sát cơ sở, lắng nghe ý kiến cán bộ. " * 4)[:200]
BLOCK = 100
# The box size of the default questionnaire for a ward (two heads), as the ceremony sets it.
SIZE = ballot_box.box_size(default_questionnaire(), 2)


def load_average() -> str:
    """The 1-minute load average: the machine is shared, so every figure carries it."""
    return Path("/proc/loadavg").read_text().split()[0]


@contextlib.contextmanager
def throwaway_database(server: str, keep: bool) -> Iterator[str]:
    """A migrated database of its own on the server, dropped afterwards unless kept."""
    name = f"phieukin_sealbench_{secrets.token_hex(4)}"
    admin = create_engine(make_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        migrations.upgrade(url)
        yield url
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_round(
    factory: sessionmaker[Session], title: str, per_ward: int, holders: list[str] | None
) -> tuple[int, dict[str, list[str]], list[str]]:
    """A round of the 14 wards with slips, opened sealed or not: (id, slips by ward, shares)."""
    with transaction(factory) as session:
        units.import_units(session, (DATA / "long_bien_units.csv").read_bytes(), actor="bench")
        round_ = rounds.create_round(
            session, title=title, year=2024, anonymity_threshold=5, actor="bench"
        )
        import_subjects(
            session, round_.id, (DATA / "long_bien_subjects.csv").read_bytes(), actor="bench"
        )
        wards = [u.code for u in units.list_units(session) if u.code.startswith("PHUONG-")]
        set_round_units(session, round_.id, [(w, per_ward) for w in wards], actor="bench")
        slips = {
            w: tokens.issue_tokens(session, round_.id, w, per_ward, actor="bench").tokens
            for w in wards
        }
        opened = lifecycle.open_round(session, round_.id, actor="bench", key_holders=holders)
        return round_.id, slips, [s.text for s in opened.shares]


def answers(form: casting.BallotForm) -> dict[str, Any]:
    """Both heads rated on every criterion, one comment on the first."""
    keys = [c.key for c in form.questionnaire.criteria]
    return {
        "ratings": {str(s.id): dict.fromkeys(keys, 3) for s in form.subjects},
        "texts": {str(form.subjects[0].id): {"strengths": COMMENT}},
    }


def cast_speed(factory: sessionmaker[Session], ballots: int) -> dict[str, float]:
    """Ballots per second cast into an unsealed and a sealed round, interleaved by blocks."""
    per_ward = ballots // 14 + 1
    plain_round = make_round(factory, "Bench unsealed", per_ward, None)
    sealed_round = make_round(factory, "Bench sealed", per_ward, HOLDERS)
    queues = {}
    for name, (_, slips, _) in (("unsealed", plain_round), ("sealed", sealed_round)):
        with factory() as session:
            forms = {w: casting.preview(session, s[0]) for w, s in slips.items()}
        queue = [(t, answers(forms[w])) for w, s in slips.items() for t in s]
        queues[name] = queue[:ballots]
    spent = {"unsealed": 0.0, "sealed": 0.0}
    done = {"unsealed": 0, "sealed": 0}
    while done["sealed"] < ballots:
        for name in ("unsealed", "sealed"):
            block = queues[name][done[name] : done[name] + BLOCK]
            start = time.perf_counter()
            for token, body in block:
                with transaction(factory) as session:
                    casting.cast(session, token, body)
            spent[name] += time.perf_counter() - start
            done[name] += len(block)
    return {name: done[name] / spent[name] for name in spent}


def _seal_many(args: tuple[bytes, int, int, int, list[int], bytes]) -> list[tuple[int, bytes]]:
    public_bytes, size, round_id, count, unit_ids, plain = args
    public = sealing.load_public_key(public_bytes)
    return [
        (u, sealing.seal(public, plain, size=size, round_id=round_id, unit_id=u))
        for u in (unit_ids[i % len(unit_ids)] for i in range(count))
    ]


def _open_many(args: tuple[int, int, list[tuple[int, bytes]]]) -> int:
    seed, round_id, boxes = args
    private = sealing.private_key(seed)
    for unit_id, box in boxes:
        sealing.open_box(private, box, round_id=round_id, unit_id=unit_id)
    return len(boxes)


def close_speed(factory: sessionmaker[Session], boxes: int) -> dict[str, float]:
    """Fill a sealed round with ``boxes`` boxes, then time the close and a 2-core opening."""
    round_id, slips, shares = make_round(factory, "Bench close", 1, HOLDERS)
    with factory() as session:
        key = key_ceremony.box_key(session, round_id)
        assert key is not None
        public, size = key.public_key, key.box_bytes
        forms = {w: casting.preview(session, s[0]) for w, s in slips.items()}
        unit_of = {
            w: session.execute(text("SELECT id FROM units WHERE code = :c"), {"c": w}).scalar_one()
            for w in slips
        }
    # One representative ballot per ward, encoded as the cast path does.
    form = next(iter(forms.values()))
    body = answers(form)
    ratings, texts = casting.validate_answers(form, body)
    plain = box_opening.encode_ballot(ratings, texts)
    # The boxes need real subject ids of their unit only for the rewrite's foreign keys.
    unit_ids = [unit_of[next(iter(forms))]]
    out: dict[str, float] = {
        "box_bytes": float(
            len(
                sealing.seal(
                    sealing.load_public_key(public),
                    plain,
                    size=size,
                    round_id=round_id,
                    unit_id=unit_ids[0],
                )
            )
        )
    }
    start = time.perf_counter()
    chunk = 5000
    with ProcessPoolExecutor(2) as pool:
        jobs = [
            (public, size, round_id, min(chunk, boxes - i), unit_ids, plain)
            for i in range(0, boxes, chunk)
        ]
        engine = factory.kw["bind"]
        for part in pool.map(_seal_many, jobs):
            with engine.begin() as conn:
                conn.execute(
                    insert(SealedBox),
                    [
                        {"id": uuid.uuid4(), "round_id": round_id, "unit_id": u, "box": b}
                        for u, b in part
                    ],
                )
    out["fill_s"] = time.perf_counter() - start
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE sealed_boxes"))
        out["table_mb"] = conn.execute(
            text("SELECT pg_total_relation_size('sealed_boxes') / 1e6")
        ).scalar_one()
    # Opening alone on both cores, before the close deletes the boxes.
    parsed = [key_shares.parse_share(s) for s in shares[:3]]
    seed = shamir.combine([(s.number, s.value) for s in parsed])
    with engine.connect() as conn:
        rows = [
            (u, bytes(b))
            for u, b in conn.execute(
                text("SELECT unit_id, box FROM sealed_boxes WHERE round_id = :r LIMIT 20000"),
                {"r": round_id},
            )
        ]
    start = time.perf_counter()
    parts = (rows[i : i + 2000] for i in range(0, len(rows), 2000))
    opened = box_opening.open_all(seed, round_id, parts, len(rows))
    assert not opened.failed
    out["open_2cores_per_s"] = len(opened.ballots) / (time.perf_counter() - start)
    start = time.perf_counter()
    _open_many((seed, round_id, rows[:5000]))
    out["open_1core_per_s"] = 5000 / (time.perf_counter() - start)
    out["load_before_close"] = float(load_average())
    start = time.perf_counter()
    with transaction(factory) as session:
        done = lifecycle.close_round(session, round_id, actor="bench", shares=shares[:3])
    out["close_s"] = time.perf_counter() - start
    assert done.round.status.value == "closed"
    with factory() as session:
        assert ballot_box.ballot_count(session, round_id) == boxes
    return out


def seal_alone(rounds_: int = 300) -> dict[str, float]:
    """Microseconds to seal and to open one default-questionnaire ballot, one core."""
    seed = sealing.new_seed()
    public = sealing.load_public_key(sealing.public_key_bytes(seed))
    private = sealing.private_key(seed)
    plain = ("x" * 1200).encode()
    size = SIZE
    seal_times, open_times = [], []
    for _ in range(rounds_):
        t0 = time.perf_counter()
        box = sealing.seal(public, plain, size=size, round_id=1, unit_id=2)
        t1 = time.perf_counter()
        sealing.open_box(private, box, round_id=1, unit_id=2)
        t2 = time.perf_counter()
        seal_times.append(t1 - t0)
        open_times.append(t2 - t1)
    return {
        "seal_us": statistics.median(seal_times) * 1e6,
        "open_us": statistics.median(open_times) * 1e6,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--ballots", type=int, default=2000, help="ballots cast into each round")
    parser.add_argument("--boxes", type=int, default=100_000, help="sealed boxes for the close")
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    print(f"load average at start: {load_average()} (cpus: {os.cpu_count()})")
    alone = seal_alone()
    print(
        f"seal one ballot (padded to {SIZE} B): {alone['seal_us']:.0f} us; "
        f"open: {alone['open_us']:.0f} us"
    )
    with throwaway_database(args.server, args.keep) as url:
        engine = make_engine(url)
        factory = make_session_factory(engine)
        if args.ballots:
            speed = cast_speed(factory, args.ballots)
            ratio = speed["sealed"] / speed["unsealed"]
            print(
                f"cast, in process, {args.ballots} each: unsealed {speed['unsealed']:.0f}/s, "
                f"sealed {speed['sealed']:.0f}/s, sealed/unsealed {ratio:.3f} "
                f"(cost {100 * (1 - ratio):.1f}%), load {load_average()}"
            )
        if args.boxes:
            close = close_speed(factory, args.boxes)
            print(
                f"close of {args.boxes} sealed boxes ({close['box_bytes']:.0f} B each, table "
                f"{close['table_mb']:.0f} MB, filled in {close['fill_s']:.1f} s): "
                f"{close['close_s']:.1f} s ({args.boxes / close['close_s']:.0f} boxes/s), "
                f"load before {close['load_before_close']}"
            )
            print(
                f"opening alone: {close['open_1core_per_s']:.0f} boxes/s on one core, "
                f"{close['open_2cores_per_s']:.0f} boxes/s on two processes"
            )
            print(
                "1,000,000 boxes extrapolated linearly: close "
                f"{1_000_000 / (args.boxes / close['close_s']):.0f} s"
            )
        engine.dispose()
    print(f"load average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
