"""Opening a sealed round's boxes at the close, on every core when there are many.

Opening one box costs about 75-100 µs of CPU, nearly all of it the hybrid KEM
(docs/PERFORMANCE.md), so a city-wide round's million boxes want both cores. Worker
processes receive the round key's seed through a pipe when they start (memory only: nothing
is written to a file or a log) and exit when the opening ends; they return each box's
ratings and texts, or count it as failed. The close's own process reads the boxes from the
database and writes the opened rows: one transaction, as before.

Worker processes are started with "forkserver" so that a close run from a threaded web
server never forks that server's threads and locks.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field

from crypto import sealing

# Below this many boxes the close opens them in its own process: starting workers (an
# interpreter each, importing this package) costs more than it saves.
POOL_FROM = 4000

Texts = list[tuple[int, str, str]]
Ratings = dict[str, list[int]]


def encode_ballot(
    ratings: Mapping[str, Sequence[int]], texts: Sequence[tuple[int, str, str]]
) -> bytes:
    """A ballot as the bytes a box seals: compact JSON, UTF-8 (sized by ballot_box.box_size)."""
    body = {"r": {k: list(v) for k, v in ratings.items()}, "t": [list(t) for t in texts]}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode_ballot(plain: bytes) -> tuple[Ratings, Texts]:
    """The ratings and texts of an opened box; ValueError, KeyError or TypeError if malformed."""
    body = json.loads(plain)
    return body["r"], [(int(s), str(q), str(t)) for s, q, t in body["t"]]


@dataclass
class Opened:
    """What the boxes held: one (unit, ratings) a ballot, the texts apart; and the failures."""

    ballots: list[tuple[int, Ratings]] = field(default_factory=list)
    texts: list[tuple[int, str, str]] = field(default_factory=list)
    failed: int = 0

    def add(self, other: Opened) -> None:
        """Take in another part's results."""
        self.failed += other.failed
        if not self.failed:  # the close will stop: nothing more needs keeping
            self.ballots.extend(other.ballots)
            self.texts.extend(other.texts)


def _open_part(
    private: sealing.PrivateKey, round_id: int, part: Iterable[tuple[int, bytes]]
) -> Opened:
    out = Opened()
    for unit_id, box in part:
        try:
            plain = sealing.open_box(private, box, round_id=round_id, unit_id=unit_id)
            ratings, texts = decode_ballot(plain)
        except (sealing.BoxBroken, ValueError, KeyError, TypeError):
            out.failed += 1
            continue
        out.ballots.append((unit_id, ratings))
        out.texts.extend(texts)
    return out


# A worker process's copy of the round key, made from the seed it was started with.
_worker_key: sealing.PrivateKey | None = None


def _worker_start(seed: int) -> None:
    global _worker_key  # one key per worker process, for its whole (short) life
    _worker_key = sealing.private_key(seed)


def _worker_open(round_id: int, part: list[tuple[int, bytes]]) -> Opened:
    assert _worker_key is not None, "started without the round key"
    return _open_part(_worker_key, round_id, part)


def open_all(
    seed: int, round_id: int, parts: Iterator[Sequence[tuple[int, bytes]]], boxes: int
) -> Opened:
    """Open every box of ``parts`` (lists of (unit id, box)); in workers if ``boxes`` is many."""
    workers = min(os.cpu_count() or 1, 8)
    if boxes < POOL_FROM or workers < 2:
        private = sealing.private_key(seed)
        opened = Opened()
        for part in parts:
            opened.add(_open_part(private, round_id, part))
        return opened
    context = multiprocessing.get_context("forkserver")
    opened = Opened()
    with ProcessPoolExecutor(workers, context, initializer=_worker_start, initargs=(seed,)) as pool:
        # A few parts in flight a worker: the cores stay busy while the reading goes on, and
        # at most that many parts of boxes wait in memory.
        pending: list[Future[Opened]] = []
        for part in parts:
            pending.append(pool.submit(_worker_open, round_id, [(u, bytes(b)) for u, b in part]))
            while len(pending) >= 2 * workers:
                opened.add(pending.pop(0).result())
        for future in pending:
            opened.add(future.result())
    return opened
