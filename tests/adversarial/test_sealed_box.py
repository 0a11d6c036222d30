"""The sealed ballot box: nothing readable while voting, opened only by k of n key holders.

Each test runs on SQLite and on PostgreSQL. Ballots carry marker texts and a marker rating
pattern; the tests look for them, in every encoding a database might use, in a dump of
every table and in the raw files of the database while the round is open.
"""

from __future__ import annotations

import itertools
import json
import logging
import secrets
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from ballots import (
    ballot_box,
    box_opening,
    casting,
    key_ceremony,
    lifecycle,
    questionnaire,
    rounds,
    scrub,
    tally,
    tokens,
    units,
)
from ballots.ballot_box import SealedBox
from ballots.db import make_engine, make_session_factory, transaction
from ballots.errors import BoxesUnopened, InvalidBallot, SharesRefused
from ballots.participants import set_round_units
from ballots.subjects import import_subjects, list_subjects
from ballots.vocabulary import RoundStatus
from crypto import key_shares, sealing, shamir
from crypto.tokens import ALPHABET, check_symbol
from tests.ballot_helpers import HOLDERS

TAG = secrets.token_hex(4).upper()
UNITS = {"PHUONG-BODE": 6, "PHUONG-SAIDONG": 6}
# A rating pattern no default ballot has, and texts that cannot turn up by chance.
PATTERN = [4, 1, 3, 2, 4, 1, 3]
# The tag makes each test's markers its own: PostgreSQL's WAL is shared by every database
# of the server, and other tests write the same sentences in the clear.
MARKERS = ["Đồng chí giữ kín bí mật {tag}-{i}", "ưu điểm riêng tư số {i} ĐẶC-BIỆT {tag}"]


def _answers(form: casting.BallotForm, i: int, tag: str) -> dict[str, Any]:
    keys = [c.key for c in form.questionnaire.criteria]
    first = str(form.subjects[0].id)
    return {
        "ratings": {
            str(s.id): dict(
                zip(keys, PATTERN if s is form.subjects[0] else [3] * len(keys), strict=True)
            )
            for s in form.subjects
        },
        "texts": {
            first: {
                "strengths": MARKERS[0].format(i=i, tag=tag),
                "suggestions": MARKERS[1].format(i=i, tag=tag),
            }
        },
    }


def _setup(
    session: Session, shared: Path, holders: list[str] | None
) -> tuple[int, dict[str, list[str]], list[str]]:
    units.import_units(session, (shared / "long_bien_units.csv").read_bytes(), actor="t")
    round_ = rounds.create_round(
        session, title="Đợt niêm phong", year=2024, anonymity_threshold=3, actor="t"
    )
    import_subjects(session, round_.id, (shared / "long_bien_subjects.csv").read_bytes(), actor="t")
    set_round_units(session, round_.id, list(UNITS.items()), actor="t")
    slips = {
        c: tokens.issue_tokens(session, round_.id, c, n, actor="t").tokens for c, n in UNITS.items()
    }
    opened = lifecycle.open_round(session, round_.id, actor="t", key_holders=holders)
    return round_.id, slips, [s.text for s in opened.shares]


def _cast_all(session: Session, slips: dict[str, list[str]], tag: str = "T") -> None:
    i = 0
    for plain in slips.values():
        form = casting.preview(session, plain[0])
        for token in plain:
            casting.cast(session, token, _answers(form, i, tag))
            i += 1


def _needles(count: int, tag: str) -> dict[str, list[bytes]]:
    """Every form of the markers a database could hold: UTF-8 (NFC, NFD), UTF-16, JSON."""
    out: dict[str, list[bytes]] = {}
    for i in range(count):
        for marker in MARKERS:
            plain = marker.format(i=i, tag=tag)
            forms = {
                plain.encode(),
                unicodedata.normalize("NFD", plain).encode(),
                plain.encode("utf-16-le"),
                json.dumps(plain).encode(),
            }
            out[plain] = sorted(forms)
    ratings = [
        json.dumps(PATTERN).encode(),
        json.dumps(PATTERN, separators=(",", ":")).encode(),
        bytes(PATTERN),
    ]
    out["rating pattern"] = ratings
    return out


def _found(blob: bytes, needles: dict[str, list[bytes]]) -> list[str]:
    return sorted(name for name, forms in needles.items() if any(f in blob for f in forms))


def _dump(engine: Engine) -> bytes:
    """Every row of every table, as a logical dump would write it."""
    out = []
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            raw = conn.connection.dbapi_connection
            assert raw is not None
            return "\n".join(raw.iterdump()).encode()
        names = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ).scalars()
        for name in list(names):
            for row in conn.execute(text(f'SELECT * FROM "{name}"')):
                out.append(repr(tuple(row)).encode())
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        out.append(bytes(value))
    return b"\n".join(out)


def _raw_files(engine: Engine, url: str) -> bytes:
    """The database's files on disk: SQLite file and WAL; PostgreSQL relations and WAL."""
    if engine.dialect.name == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        return b"".join(
            p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists()
        )
    blobs = []
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("CHECKPOINT"))
        files = conn.execute(
            text(
                "SELECT pg_relation_filepath(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname IN ('public', 'pg_toast') AND c.relkind IN ('r', 't', 'i')"
            )
        ).scalars()
        for path in [p for p in files if p]:
            blobs.append(conn.execute(text("SELECT pg_read_binary_file(:p)"), {"p": path}).scalar())
        # The newest WAL segments hold every write of the last minutes, this test's included.
        wal = conn.execute(
            text("SELECT name FROM pg_ls_waldir() ORDER BY modification DESC LIMIT 4")
        ).scalars()
        for name in list(wal):
            blobs.append(
                conn.execute(
                    text("SELECT pg_read_binary_file(:p)"), {"p": f"pg_wal/{name}"}
                ).scalar()
            )
    return b"".join(bytes(b) for b in blobs if b)


@pytest.fixture
def sealed_round(
    committed_database_url: str, sample_data: Path
) -> Iterator[tuple[Engine, sessionmaker[Session], int, list[str]]]:
    """A sealed round (3 of 5) with 12 ballots cast and committed, still open."""
    engine = make_engine(committed_database_url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        round_id, slips, shares = _setup(session, sample_data, HOLDERS)
    with transaction(factory) as session:
        _cast_all(session, slips, TAG)
    yield engine, factory, round_id, shares
    engine.dispose()


@pytest.fixture(params=["in the close's process", "in worker processes"])
def opening(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Where the close opens boxes: a handful in its own process; many on every core."""
    if request.param == "in worker processes":
        monkeypatch.setattr(box_opening, "POOL_FROM", 1)
    return str(request.param)


def _close(
    factory: sessionmaker[Session], round_id: int, shares: list[str]
) -> lifecycle.Transition:
    with transaction(factory) as session:
        return lifecycle.close_round(session, round_id, actor="t", shares=shares)


def _state(engine: Engine, round_id: int) -> tuple[str, int, int, bytes]:
    with engine.connect() as conn:
        status = conn.execute(
            text("SELECT status FROM rounds WHERE id = :r"), {"r": round_id}
        ).scalar()
        boxes = conn.execute(text("SELECT count(*) FROM sealed_boxes")).scalar()
        plain = conn.execute(text("SELECT count(*) FROM ballots")).scalar()
        digest = b"".join(
            bytes(b) for (b,) in conn.execute(text("SELECT box FROM sealed_boxes ORDER BY id"))
        )
    return str(status), int(boxes or 0), int(plain or 0), digest


class TestSealedWhileOpen:
    """While the round is open, nothing of a ballot's content is readable anywhere."""

    def test_dump_and_raw_files_hold_no_rating_and_no_text_while_open(
        self,
        sealed_round: tuple[Engine, sessionmaker[Session], int, list[str]],
        committed_database_url: str,
    ) -> None:
        """A dump and the raw database files hold none of the markers; boxes are all there."""
        engine, _, _, _ = sealed_round
        needles = _needles(12, TAG)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM sealed_boxes")).scalar() == 12
            assert conn.execute(text("SELECT count(*) FROM ballots")).scalar() == 0
            assert conn.execute(text("SELECT count(*) FROM free_text_answers")).scalar() == 0
        assert _found(_dump(engine), needles) == []
        assert _found(_raw_files(engine, committed_database_url), needles) == []

    def test_the_search_finds_the_markers_in_an_unsealed_round(
        self, committed_database_url: str, sample_data: Path
    ) -> None:
        """The measurement works: the same ballots unsealed are in the dump and the files."""
        engine = make_engine(committed_database_url)
        factory = make_session_factory(engine)
        with transaction(factory) as session:
            _, slips, _ = _setup(session, sample_data, None)
        with transaction(factory) as session:
            _cast_all(session, slips, "UNSEALED" + TAG)
        needles = _needles(12, "UNSEALED" + TAG)
        assert len(_found(_dump(engine), needles)) == len(needles)
        in_files = _found(_raw_files(engine, committed_database_url), needles)
        # PostgreSQL keeps ratings as binary jsonb in its files; the texts are there as UTF-8.
        expected = set(needles) - ({"rating pattern"} if engine.dialect.name != "sqlite" else set())
        assert set(in_files) >= expected
        engine.dispose()

    def test_every_box_of_a_round_has_the_same_length(
        self, sealed_round: tuple[Engine, sessionmaker[Session], int, list[str]]
    ) -> None:
        """Boxes with and without long texts are the same size."""
        engine, _, _, _ = sealed_round
        with engine.connect() as conn:
            sizes = set(conn.execute(text("SELECT length(box) FROM sealed_boxes")).scalars())
        assert len(sizes) == 1

    def test_turnout_counts_sealed_ballots(
        self, sealed_round: tuple[Engine, sessionmaker[Session], int, list[str]]
    ) -> None:
        """Turnout per unit keeps working while the ballots are sealed."""
        _, factory, round_id, _ = sealed_round
        with factory() as session:
            assert sorted(tally.ballots_per_unit(session, round_id).values()) == [6, 6]


class TestCloseWithShares:
    """Any k of the n shares open the box; k - 1 do not; a bad share is refused."""

    def test_every_three_of_five_opens_and_every_two_is_refused(
        self, db: Session, sample_data: Path
    ) -> None:
        """All 10 subsets of three close the round; all 10 pairs are refused, 1 more needed."""
        round_id, slips, shares = _setup(db, sample_data, HOLDERS)
        _cast_all(db, slips)
        for pair in itertools.combinations(shares, 2):
            with pytest.raises(SharesRefused) as refused:
                lifecycle.close_round(db, round_id, actor="t", shares=list(pair))
            assert refused.value.details["missing"] == 1
            assert "1 more needed" in refused.value.message
        for trio in itertools.combinations(range(5), 3):
            nested = db.begin_nested()
            done = lifecycle.close_round(db, round_id, actor="t", shares=[shares[i] for i in trio])
            assert done.round.status is RoundStatus.CLOSED
            assert ballot_box.ballot_count(db, round_id) == 12
            assert db.scalar(select(SealedBox.id).limit(1)) is None
            nested.rollback()
            db.expire_all()

    def test_two_shares_rebuild_nothing_of_the_seed(self, db: Session, sample_data: Path) -> None:
        """K - 1 points interpolate to a value that is not the key's seed."""
        round_id, _, shares = _setup(db, sample_data, HOLDERS)
        parsed = [key_shares.parse_share(s) for s in shares]
        seed = shamir.combine([(s.number, s.value) for s in parsed[:3]])
        key = key_ceremony.box_key(db, round_id)
        assert key is not None
        assert sealing.public_key_bytes(seed) == key.public_key
        for pair in itertools.combinations(parsed, 2):
            assert shamir.combine([(s.number, s.value) for s in pair]) != seed

    def test_forged_or_altered_share_is_rejected_by_its_commitment(
        self, db: Session, sample_data: Path
    ) -> None:
        """A share with a changed symbol (check symbols fixed up) is named and refused."""
        round_id, slips, shares = _setup(db, sample_data, HOLDERS)
        _cast_all(db, slips)
        real = key_shares.parse_share(shares[1])
        forged = key_shares.share_text(
            key_shares.Share(real.round_id, real.number, real.needed, real.holders, real.value ^ 1)
        )
        with pytest.raises(SharesRefused) as refused:
            lifecycle.close_round(db, round_id, actor="t", shares=[shares[0], forged, shares[2]])
        assert "share 2" in refused.value.message
        assert "commitment" in refused.value.message
        assert refused.value.details["valid"] == [1, 3]
        other = key_shares.share_text(key_shares.Share(round_id + 1, 1, 3, 5, real.value))
        with pytest.raises(SharesRefused) as refused:
            lifecycle.close_round(db, round_id, actor="t", shares=[other, *shares[1:3]])
        assert "belongs to round" in str(refused.value.details["rejected"])

    def test_a_typo_is_caught_by_the_group_check_symbol(self) -> None:
        """One mistyped symbol names its group before any commitment is looked at."""
        share = key_shares.Share(3, 2, 3, 5, 123456789)
        groups = key_shares.typed_groups(share)
        bad = groups[4][:1] + ("A" if groups[4][1] != "A" else "B") + groups[4][2:]
        typed = key_shares.header(share) + " " + " ".join([*groups[:4], bad, *groups[5:]])
        with pytest.raises(key_shares.InvalidShare, match="group 5"):
            key_shares.parse_share(typed)
        swapped = key_shares.header(share) + " " + " ".join([groups[1], groups[0], *groups[2:]])
        with pytest.raises(key_shares.InvalidShare, match="group 1"):
            key_shares.parse_share(swapped)
        assert check_symbol(ALPHABET[0] + groups[0][:4]) == groups[0][4]


class TestCloseStopsOnABadBox:
    """An altered or moved box stops the close, which then changes nothing."""

    @pytest.mark.parametrize("tamper", ["altered", "moved"])
    def test_altered_or_moved_box_stops_the_close_with_nothing_changed(
        self,
        sealed_round: tuple[Engine, sessionmaker[Session], int, list[str]],
        tamper: str,
        opening: str,
    ) -> None:
        """The close names how many boxes failed; round, boxes and ballots are as before."""
        engine, factory, round_id, shares = sealed_round
        with transaction(factory) as session:
            victim = session.scalars(select(SealedBox).limit(1)).one()
            if tamper == "altered":
                box = bytearray(victim.box)
                box[-40] ^= 0x01
                session.execute(
                    update(SealedBox).where(SealedBox.id == victim.id).values(box=bytes(box))
                )
            else:
                other = session.scalar(
                    select(SealedBox.unit_id).where(SealedBox.unit_id != victim.unit_id).limit(1)
                )
                session.execute(
                    update(SealedBox).where(SealedBox.id == victim.id).values(unit_id=other)
                )
        before = _state(engine, round_id)
        with pytest.raises(BoxesUnopened) as stopped:
            _close(factory, round_id, shares[:3])
        assert stopped.value.details == {"failed": 1, "boxes": 12}
        assert "1 of 12" in stopped.value.message
        assert _state(engine, round_id) == before
        assert before[:3] == ("open", 12, 0)


class TestSealedResults:
    """Sealing changes nothing in the results."""

    def test_results_equal_those_of_the_same_ballots_unsealed(
        self, db: Session, sample_data: Path, opening: str
    ) -> None:
        """Counts per subject, criterion and value, and the comments, are the same."""
        results = []
        for holders in (HOLDERS, None):
            round_id, slips, shares = _setup(db, sample_data, holders)
            _cast_all(db, slips)
            done = lifecycle.close_round(db, round_id, actor="t", shares=shares[2:])
            assert done.round.status is RoundStatus.CLOSED
            subjects = list_subjects(db, round_id)
            by_name = {s.person.full_name: s.id for s in subjects}
            counts = tally.criterion_counts(db, round_id)
            results.append(
                {
                    name: (
                        {p: dict(v) for p, v in counts[sid].items()},
                        sorted(tally.comments(db, round_id, sid)),
                    )
                    for name, sid in by_name.items()
                }
            )
        assert results[0] == results[1]
        assert any(c for _, c in results[0].values())  # comments were compared, not nothing


class TestKeyNeverKept:
    """The private key and the shares reach no table, no log line and no other file."""

    def test_key_and_shares_never_reach_the_database_or_a_log(
        self,
        committed_database_url: str,
        sample_data: Path,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Searched after the ceremony and after the close: database dump, files, logs."""
        caplog.set_level(logging.DEBUG)
        engine = make_engine(committed_database_url, echo=True)
        factory = make_session_factory(engine)
        with transaction(factory) as session:
            round_id, slips, shares = _setup(session, sample_data, HOLDERS)
        with transaction(factory) as session:
            _cast_all(session, slips)
        parsed = [key_shares.parse_share(s) for s in shares]
        seed = shamir.combine([(s.number, s.value) for s in parsed[:3]])
        secrets_ = _secret_forms(seed, parsed)
        for stage in ("ceremony", "close"):
            if stage == "close":
                _close(factory, round_id, shares[1:4])
                scrub.scrub(engine)
            blob = _dump(engine) + _raw_files(engine, committed_database_url)
            logs = "\n".join(r.getMessage() for r in caplog.records).encode()
            assert _found(blob, secrets_) == [], stage
            assert _found(logs, secrets_) == [], stage
        assert "round.opened" in _audit_actions(engine)
        engine.dispose()


def _secret_forms(seed: int, shares: list[key_shares.Share]) -> dict[str, list[bytes]]:
    """The seed, the private key's parts, and each share's value, in the forms they take."""
    private = sealing.private_key(seed)
    assert private is not None
    seed_bytes = seed.to_bytes(32, "big")
    forms: dict[str, list[bytes]] = {
        "seed": [seed_bytes, seed_bytes.hex().encode(), str(seed).encode()]
    }
    kem, dh = sealing._parts(seed)
    forms["ML-KEM seed"] = [kem.private_bytes_raw()]
    forms["X25519 private key"] = [dh.private_bytes_raw()]
    for s in shares:
        groups = key_shares.typed_groups(s)
        forms[f"share {s.number}"] = [
            key_shares.share_text(s).encode(),
            " ".join(groups).encode(),
            "".join(g[:4] for g in groups).encode(),
            s.value.to_bytes(32, "big"),
            str(s.value).encode(),
        ]
    return forms


def _audit_actions(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT action FROM audit_entries")).scalars())


class TestBoxSizeBudget:
    """A head's comments share one budget, so a box is small and every ballot fits it."""

    def _longest(self, form: casting.BallotForm, units: int) -> dict[str, Any]:
        keys = [c.key for c in form.questionnaire.criteria]
        # 'ễ' is 3 UTF-8 bytes and one UTF-16 unit: the most bytes a unit can cost.
        return {
            "ratings": {str(s.id): dict.fromkeys(keys, 4) for s in form.subjects},
            "texts": {
                str(s.id): {
                    "strengths": "ễ" * (units - 2),
                    "suggestions": '"😀' if units >= 2 else "",
                }
                for s in form.subjects
            },
        }

    def test_the_longest_ballot_allowed_fits_its_box_and_opens(
        self, db: Session, sample_data: Path
    ) -> None:
        """Every head's budget filled with the costliest characters casts, seals and opens."""
        round_id, slips, shares = _setup(db, sample_data, HOLDERS)
        form = casting.preview(db, slips["PHUONG-BODE"][0])
        assert len(form.subjects) == 2
        answers = self._longest(form, questionnaire.HEAD_TEXT_CHARS - 1)  # emoji: 2 units
        casting.cast(db, slips["PHUONG-BODE"][0], answers)
        size = db.scalar(select(func.length(SealedBox.box)))
        assert size is not None
        assert size < 12_000  # a ward's box: two heads, 7 criteria
        lifecycle.close_round(db, round_id, actor="t", shares=shares[:3])
        texts = {t for _, t in tally.comments(db, round_id, form.subjects[0].id)}
        assert "ễ" * (questionnaire.HEAD_TEXT_CHARS - 3) in texts

    def test_a_head_over_the_budget_is_refused_and_the_slip_stays_unspent(
        self, db: Session, sample_data: Path
    ) -> None:
        """One unit over the budget: refused naming the head's texts; nothing stored."""
        _, slips, _ = _setup(db, sample_data, HOLDERS)
        token = slips["PHUONG-BODE"][0]
        form = casting.preview(db, token)
        answers = self._longest(form, questionnaire.HEAD_TEXT_CHARS + 1)
        with pytest.raises(InvalidBallot) as refused:
            casting.cast(db, token, answers)
        assert refused.value.details["field"] == f"texts.{form.subjects[0].id}"
        assert db.scalar(select(func.count()).select_from(SealedBox)) == 0
        assert casting.preview(db, token).subjects  # the slip still opens the ballot
