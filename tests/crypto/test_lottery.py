"""Tests for the verifiable stratified school lottery (crypto/lottery.py)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.lottery import (
    ALGORITHM_VERSION,
    DEFAULT_COUNTS,
    LEVELS,
    DrawStream,
    LotteryResult,
    PoolSchool,
    canonical_pool,
    derive_seed,
    draw,
    level_order,
    normalize_phrase,
    pool_digest,
    pool_encoding,
    seed_material,
    shuffle,
)

VECTORS_PATH = Path(__file__).parent / "vectors" / "lottery_v1.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = VECTORS["cases"]

# Upper 99.9% points of the chi-square distribution, from standard tables (checked
# against a numerical inverse of the regularised incomplete gamma function). A correct
# sampler exceeds them one time in a thousand; with fixed seeds the outcome is fixed.
CHI2_999 = {5: 20.515, 14: 36.123, 199: 266.386, 299: 380.299}

PREFIXES = {"kindergarten": "MN", "primary": "TH", "lower_secondary": "THCS"}


def make_pool(per_level: int = 15) -> list[PoolSchool]:
    """Return a pool of per_level schools at each level, coded like MN-01."""
    return [
        PoolSchool(f"{PREFIXES[level]}-{i:02d}", level)
        for level in LEVELS
        for i in range(1, per_level + 1)
    ]


def seed_for(label: str) -> str:
    """Return a fixed test seed derived from a label (deterministic, not random)."""
    return hashlib.sha256(label.encode()).hexdigest()


def chi_square(observed: Counter[int] | Counter[str], keys: list[Any]) -> float:
    """Return the chi-square statistic of observed counts against a uniform spread."""
    total = sum(observed[k] for k in keys)
    expected = total / len(keys)
    return sum((observed[k] - expected) ** 2 / expected for k in keys)


def run_pipeline(pool: list[PoolSchool], phrase: str, round_id: int = 1) -> LotteryResult:
    """Run digest, seed and draw with the default counts, as the service does."""
    seed = derive_seed(round_id, pool_digest(pool), phrase)
    return draw(pool, DEFAULT_COUNTS, seed)


def case_pool(case: dict[str, Any]) -> list[PoolSchool]:
    """Return the pool of a vector case as PoolSchool entries, in file order."""
    return [PoolSchool(entry["code"], entry["level"]) for entry in case["pool"]]


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
class TestKnownAnswerVectors:
    """The implementation reproduces every published vector exactly."""

    def test_vector_file_is_for_this_algorithm(self, case: dict[str, Any]) -> None:
        """The vector file names this algorithm version and level order."""
        assert VECTORS["algorithm_version"] == ALGORITHM_VERSION
        assert tuple(VECTORS["levels"]) == LEVELS

    def test_phrase_normalises_as_published(self, case: dict[str, Any]) -> None:
        """The raw phrase normalises to the published phrase."""
        assert normalize_phrase(case["phrase"]) == case["expected"]["normalized_phrase"]

    def test_pool_encoding_and_digest_match(self, case: dict[str, Any]) -> None:
        """The pool encodes and hashes to the published bytes and digest."""
        pool = case_pool(case)
        expected = case["expected"]
        assert pool_encoding(pool) == expected["pool_encoding_utf8"].encode("utf-8")
        assert pool_digest(pool) == expected["pool_digest"]

    def test_seed_material_and_seed_match(self, case: dict[str, Any]) -> None:
        """The seed material and seed match the published hex."""
        expected = case["expected"]
        material = seed_material(case["round_id"], expected["pool_digest"], case["phrase"])
        assert material.hex() == expected["seed_material_hex"]
        seed = derive_seed(case["round_id"], expected["pool_digest"], case["phrase"])
        assert seed == expected["seed"]

    def test_shuffled_order_of_each_level_matches(self, case: dict[str, Any]) -> None:
        """Each level shuffles into the published full order."""
        pool = case_pool(case)
        for level in LEVELS:
            shuffled = level_order(pool, level, case["expected"]["seed"])
            assert list(shuffled) == case["expected"]["shuffled"][level]

    def test_draw_picks_the_published_schools(self, case: dict[str, Any]) -> None:
        """The draw returns the published codes, in draw order, with its inputs."""
        expected = case["expected"]
        result = draw(case_pool(case), case["counts"], expected["seed"])
        assert {level: list(codes) for level, codes in result.chosen.items()} == (
            expected["chosen"]
        )
        assert result.algorithm_version == ALGORITHM_VERSION
        assert result.seed == expected["seed"]
        assert result.pool_digest == expected["pool_digest"]
        assert result.counts == case["counts"]
        assert result.to_dict()["chosen"] == expected["chosen"]


class TestCanonicalPool:
    """canonical_pool orders and validates the pool."""

    def test_sorts_by_level_order_then_code(self) -> None:
        """Entries sort by the fixed level order first, then by code."""
        pool = [
            PoolSchool("THCS-01", "lower_secondary"),
            PoolSchool("TH-02", "primary"),
            PoolSchool("MN-02", "kindergarten"),
            PoolSchool("TH-01", "primary"),
            PoolSchool("MN-01", "kindergarten"),
        ]
        assert [s.code for s in canonical_pool(pool)] == [
            "MN-01",
            "MN-02",
            "TH-01",
            "TH-02",
            "THCS-01",
        ]

    def test_codes_sort_by_utf8_bytes(self) -> None:
        """Codes compare by UTF-8 bytes, so uppercase precedes lowercase and accents last."""
        pool = [
            PoolSchool("MN-é", "kindergarten"),
            PoolSchool("MN-a", "kindergarten"),
            PoolSchool("MN-B", "kindergarten"),
        ]
        assert [s.code for s in canonical_pool(pool)] == ["MN-B", "MN-a", "MN-é"]

    def test_rejects_duplicate_code_within_a_level(self) -> None:
        """A school listed twice is refused."""
        pool = [PoolSchool("MN-01", "kindergarten"), PoolSchool("MN-01", "kindergarten")]
        with pytest.raises(ValueError, match="duplicate school code 'MN-01'"):
            canonical_pool(pool)

    def test_rejects_duplicate_code_across_levels(self) -> None:
        """One code under two levels is refused, so no school gets two chances."""
        pool = [PoolSchool("X-01", "kindergarten"), PoolSchool("X-01", "primary")]
        with pytest.raises(ValueError, match="duplicate"):
            canonical_pool(pool)

    def test_rejects_unknown_level(self) -> None:
        """A level outside LEVELS is refused with the allowed names."""
        with pytest.raises(ValueError, match="unknown level 'upper_secondary'"):
            canonical_pool([PoolSchool("THPT-01", "upper_secondary")])

    @pytest.mark.parametrize(
        "code", ["", "MN 01", "MN\t01", "MN-01\n", "MN\u00a001", "MN-\x7f", "\u3000MN"]
    )
    def test_rejects_codes_that_would_break_the_encoding(self, code: str) -> None:
        """Empty codes and codes with whitespace or control characters are refused."""
        with pytest.raises(ValueError, match="school code"):
            canonical_pool([PoolSchool(code, "kindergarten")])

    def test_rejects_code_not_in_nfc(self) -> None:
        """A code with combining marks is refused so look-alike codes cannot differ."""
        with pytest.raises(ValueError, match="NFC"):
            canonical_pool([PoolSchool("MN-Hoa\u0300", "kindergarten")])

    def test_empty_pool_is_allowed_and_has_a_digest(self) -> None:
        """An empty pool is canonical and hashes the empty byte string."""
        assert canonical_pool([]) == ()
        assert pool_digest([]) == hashlib.sha256(b"").hexdigest()


class TestPoolDigest:
    """pool_digest hashes the documented line encoding of the canonical pool."""

    def test_digest_is_sha256_of_documented_lines(self) -> None:
        """The digest is SHA-256 over 'level TAB code LF' lines in canonical order."""
        pool = [PoolSchool("TH-A", "primary"), PoolSchool("MN-A", "kindergarten")]
        expected = hashlib.sha256(b"kindergarten\tMN-A\nprimary\tTH-A\n").hexdigest()
        assert pool_digest(pool) == expected

    def test_input_order_does_not_matter(self) -> None:
        """Reversing the pool leaves the digest unchanged."""
        pool = make_pool()
        assert pool_digest(pool) == pool_digest(list(reversed(pool)))

    def test_adding_or_removing_a_school_changes_the_digest(self) -> None:
        """One school more or less gives a different digest."""
        pool = make_pool()
        digest = pool_digest(pool)
        assert pool_digest(pool[1:]) != digest
        assert pool_digest([*pool, PoolSchool("MN-16", "kindergarten")]) != digest

    def test_moving_a_school_to_another_level_changes_the_digest(self) -> None:
        """The level is part of what is hashed."""
        pool = [PoolSchool("S-1", "kindergarten")]
        assert pool_digest(pool) != pool_digest([PoolSchool("S-1", "primary")])


class TestNormalizePhrase:
    """normalize_phrase makes equivalent typings of the phrase identical."""

    def test_nfd_and_nfc_typing_agree(self) -> None:
        """Combining-mark and precomposed Vietnamese normalise to the same NFC text."""
        nfc = "Kết quả xổ số ngày 12/5"
        nfd = unicodedata.normalize("NFD", nfc)
        assert nfd != nfc
        assert normalize_phrase(nfd) == nfc

    def test_trims_and_collapses_whitespace(self) -> None:
        """Leading, trailing and repeated whitespace of any listed kind becomes one space."""
        raw = " \t Xúc  xắc:\n3\u00a0 5\u3000\u20021 \r\n"
        assert normalize_phrase(raw) == "Xúc xắc: 3 5 1"

    def test_keeps_case_and_punctuation(self) -> None:
        """Case, digits and punctuation are kept as typed."""
        assert normalize_phrase("Đỏ, ĐEN; 6-6!") == "Đỏ, ĐEN; 6-6!"

    def test_is_idempotent(self) -> None:
        """Normalising twice changes nothing more."""
        once = normalize_phrase("  Bốc   thăm ")
        assert normalize_phrase(once) == once

    @pytest.mark.parametrize("phrase", ["", "   ", "\t\n", "\u00a0\u3000"])
    def test_rejects_empty_phrase(self, phrase: str) -> None:
        """A phrase with nothing but whitespace is refused."""
        with pytest.raises(ValueError, match="empty"):
            normalize_phrase(phrase)

    def test_rejects_non_string(self) -> None:
        """Bytes or numbers are not phrases."""
        with pytest.raises(TypeError):
            normalize_phrase(b"123")  # type: ignore[arg-type]


class TestDeriveSeed:
    """derive_seed binds version, round, pool and phrase into one seed."""

    DIGEST = pool_digest(make_pool())

    def test_seed_material_is_length_prefixed_fields(self) -> None:
        """The material is four uint32-length-prefixed fields in the documented order."""
        material = seed_material(258, self.DIGEST, "a  b")
        version = ALGORITHM_VERSION.encode()
        expected = (
            len(version).to_bytes(4, "big")
            + version
            + (8).to_bytes(4, "big")
            + (258).to_bytes(8, "big")
            + (32).to_bytes(4, "big")
            + bytes.fromhex(self.DIGEST)
            + (3).to_bytes(4, "big")
            + b"a b"
        )
        assert material == expected
        assert derive_seed(258, self.DIGEST, "a  b") == hashlib.sha256(expected).hexdigest()

    def test_one_character_of_the_phrase_changes_the_seed(self) -> None:
        """Changing one digit or one diacritic gives a different seed."""
        seed = derive_seed(1, self.DIGEST, "Xúc xắc: 3 5 1")
        assert derive_seed(1, self.DIGEST, "Xúc xắc: 3 5 2") != seed
        assert derive_seed(1, self.DIGEST, "Xúc xác: 3 5 1") != seed

    def test_equivalent_phrases_give_the_same_seed(self) -> None:
        """Typing differences removed by normalisation do not change the seed."""
        nfd = unicodedata.normalize("NFD", "  Xúc   xắc ")
        assert derive_seed(1, self.DIGEST, nfd) == derive_seed(1, self.DIGEST, "Xúc xắc")

    def test_round_id_and_pool_change_the_seed(self) -> None:
        """Another round or another pool gives another seed."""
        seed = derive_seed(1, self.DIGEST, "đỏ")
        assert derive_seed(2, self.DIGEST, "đỏ") != seed
        assert derive_seed(1, pool_digest(make_pool()[1:]), "đỏ") != seed

    @pytest.mark.parametrize("digest", ["", "00" * 31, "AB" * 32, "zz" * 32, "00" * 33])
    def test_rejects_malformed_pool_digest(self, digest: str) -> None:
        """The pool digest must be exactly 64 lowercase hex characters."""
        with pytest.raises(ValueError, match="pool digest"):
            derive_seed(1, digest, "đỏ")

    def test_rejects_round_id_out_of_range(self) -> None:
        """A negative or over-wide round id is refused."""
        with pytest.raises(ValueError, match="round_id"):
            derive_seed(-1, self.DIGEST, "đỏ")
        with pytest.raises(ValueError, match="round_id"):
            derive_seed(2**64, self.DIGEST, "đỏ")

    def test_rejects_non_integer_round_id(self) -> None:
        """A bool or string round id is refused rather than coerced."""
        with pytest.raises(TypeError):
            derive_seed(True, self.DIGEST, "đỏ")
        with pytest.raises(TypeError):
            derive_seed("1", self.DIGEST, "đỏ")  # type: ignore[arg-type]


class TestDrawStream:
    """DrawStream is the documented SHA-256 counter stream and samples without bias."""

    SEED = seed_for("stream")

    def test_blocks_follow_the_documented_formula(self) -> None:
        """The stream is SHA-256(seed || label || uint64_be(i)) concatenated over i."""
        seed_bytes = bytes.fromhex(self.SEED)
        blocks = b"".join(
            hashlib.sha256(seed_bytes + b"primary" + i.to_bytes(8, "big")).digest()
            for i in range(3)
        )
        stream = DrawStream(self.SEED, "primary")
        # Uneven reads that straddle block boundaries must still yield the same bytes.
        assert stream.take(5) + stream.take(40) + stream.take(51) == blocks

    def test_labels_give_independent_streams(self) -> None:
        """Two labels under one seed start with different bytes."""
        first = DrawStream(self.SEED, "primary").take(32)
        assert DrawStream(self.SEED, "kindergarten").take(32) != first

    def test_uniform_below_one_consumes_nothing(self) -> None:
        """N = 1 returns 0 without reading the stream."""
        stream = DrawStream(self.SEED, "x")
        assert stream.uniform_below(1) == 0
        assert stream.take(4) == DrawStream(self.SEED, "x").take(4)

    def test_uniform_below_rejects_instead_of_reducing(self) -> None:
        """A masked value >= n is discarded and the next bytes are read."""
        stream = DrawStream(self.SEED, "x")
        raw = DrawStream(self.SEED, "x").take(64)
        # Replay the documented rule for n = 5 (mask 0x07) on the raw bytes.
        values = [b & 0x07 for b in raw]
        expected = [v for v in values if v < 5][:20]
        assert [stream.uniform_below(5) for _ in range(20)] == expected

    def test_uniform_below_reads_two_bytes_above_256(self) -> None:
        """N = 300 reads big-endian byte pairs masked to 9 bits, rejecting >= 300."""
        raw = DrawStream(self.SEED, "x").take(200)
        pairs = [int.from_bytes(raw[k : k + 2], "big") & 0x1FF for k in range(0, 200, 2)]
        expected = [v for v in pairs if v < 300][:30]
        # With 9-bit candidates about 40% are rejected, so the replay covers both paths.
        assert len(expected) < len(pairs)
        stream = DrawStream(self.SEED, "x")
        assert [stream.uniform_below(300) for _ in range(30)] == expected

    @pytest.mark.parametrize("n", [0, -3, True])
    def test_uniform_below_rejects_bad_bounds(self, n: int) -> None:
        """N must be an integer of at least 1."""
        with pytest.raises(ValueError, match="n >= 1"):
            DrawStream(self.SEED, "x").uniform_below(n)

    def test_rejects_malformed_seed(self) -> None:
        """The seed must be 64 lowercase hex characters."""
        with pytest.raises(ValueError, match="seed"):
            DrawStream(self.SEED.upper(), "x")

    @pytest.mark.parametrize(("n", "per_value"), [(6, 1000), (15, 400), (200, 60), (300, 40)])
    def test_uniform_below_passes_chi_square(self, n: int, per_value: int) -> None:
        """Values over a fixed set of seeds are spread evenly (99.9% chi-square bound)."""
        seeds = 25
        per_seed = n * per_value // seeds
        counts: Counter[int] = Counter()
        for s in range(seeds):
            stream = DrawStream(seed_for(f"uniform-{n}-{s}"), "x")
            counts.update(stream.uniform_below(n) for _ in range(per_seed))
        assert set(counts) <= set(range(n))
        assert chi_square(counts, list(range(n))) < CHI2_999[n - 1]

    def test_the_chi_square_bound_catches_modulo_bias(self) -> None:
        """The same bound rejects a naive byte % 200 sampler on the same kind of stream."""
        counts: Counter[int] = Counter()
        for s in range(25):
            stream = DrawStream(seed_for(f"uniform-200-{s}"), "x")
            counts.update(b % 200 for b in stream.take(480))
        assert chi_square(counts, list(range(200))) > CHI2_999[199]


class TestShuffle:
    """shuffle is a Fisher-Yates permutation driven by the stream."""

    def test_returns_a_permutation(self) -> None:
        """Every item appears exactly once after shuffling."""
        items = [f"S-{i}" for i in range(30)]
        shuffled = shuffle(items, DrawStream(seed_for("perm"), "x"))
        assert sorted(shuffled) == sorted(items)
        assert list(shuffled) != items

    def test_follows_the_documented_loop(self) -> None:
        """Swaps run from the last index down with j = uniform_below(i + 1)."""
        items = ["a", "b", "c", "d", "e"]
        replay = DrawStream(seed_for("loop"), "x")
        expected = list(items)
        for i in range(len(expected) - 1, 0, -1):
            j = replay.uniform_below(i + 1)
            expected[i], expected[j] = expected[j], expected[i]
        assert list(shuffle(items, DrawStream(seed_for("loop"), "x"))) == expected

    @pytest.mark.parametrize("items", [[], ["only"]])
    def test_trivial_lists_read_no_bytes(self, items: list[str]) -> None:
        """Zero or one item is returned unchanged and the stream is untouched."""
        stream = DrawStream(seed_for("trivial"), "x")
        assert list(shuffle(items, stream)) == items
        assert stream.take(8) == DrawStream(seed_for("trivial"), "x").take(8)


class TestDraw:
    """draw is deterministic, sensitive to its inputs and statistically fair."""

    POOL = make_pool()
    PHRASE = "Xúc xắc: 3 – 5 – 1 – 6 – 2 – 4"

    def test_same_inputs_same_result(self) -> None:
        """Running the draw twice gives equal results."""
        assert run_pipeline(self.POOL, self.PHRASE) == run_pipeline(self.POOL, self.PHRASE)

    def test_one_character_of_the_phrase_changes_the_draw(self) -> None:
        """A phrase differing in one character draws different schools."""
        base = run_pipeline(self.POOL, self.PHRASE).chosen
        assert run_pipeline(self.POOL, self.PHRASE[:-1] + "5").chosen != base
        assert run_pipeline(self.POOL, self.PHRASE.replace("ắ", "ă")).chosen != base

    def test_adding_or_removing_a_school_changes_the_draw(self) -> None:
        """One school more or less in the pool draws different schools."""
        base = run_pipeline(self.POOL, self.PHRASE).chosen
        removed = [s for s in self.POOL if s.code != "TH-07"]
        added = [*self.POOL, PoolSchool("THCS-16", "lower_secondary")]
        assert run_pipeline(removed, self.PHRASE).chosen != base
        assert run_pipeline(added, self.PHRASE).chosen != base

    def test_pool_input_order_does_not_matter(self) -> None:
        """Shuffling the pool's input order gives the identical result."""
        reordered = sorted(self.POOL, key=lambda s: s.code[::-1])
        assert reordered != self.POOL
        assert run_pipeline(reordered, self.PHRASE) == run_pipeline(self.POOL, self.PHRASE)

    def test_chosen_are_distinct_schools_of_the_right_level(self) -> None:
        """Each level's picks are distinct codes from that level, as many as asked."""
        result = run_pipeline(self.POOL, self.PHRASE)
        for level in LEVELS:
            codes = result.chosen[level]
            assert len(codes) == DEFAULT_COUNTS[level] == len(set(codes))
            assert all(code.startswith(PREFIXES[level] + "-") for code in codes)

    def test_counts_at_one_level_do_not_perturb_the_others(self) -> None:
        """Changing the primary count leaves the other levels' picks unchanged."""
        seed = seed_for("levels")
        base = draw(self.POOL, {"kindergarten": 5, "primary": 5, "lower_secondary": 5}, seed)
        other = draw(self.POOL, {"kindergarten": 5, "primary": 9, "lower_secondary": 5}, seed)
        assert other.chosen["kindergarten"] == base.chosen["kindergarten"]
        assert other.chosen["lower_secondary"] == base.chosen["lower_secondary"]

    def test_raising_a_count_extends_the_draw(self) -> None:
        """Drawing six keeps the first five and adds one."""
        seed = seed_for("extend")
        five = draw(self.POOL, {"primary": 5}, seed).chosen["primary"]
        six = draw(self.POOL, {"primary": 6}, seed).chosen["primary"]
        assert six[:5] == five
        assert len(six) == 6

    def test_missing_level_is_drawn_zero_times(self) -> None:
        """A level left out of counts yields no schools and a recorded count of 0."""
        result = draw(self.POOL, {"primary": 2}, seed_for("missing"))
        assert result.counts == {"kindergarten": 0, "primary": 2, "lower_secondary": 0}
        assert result.chosen["kindergarten"] == ()

    def test_count_above_available_names_level_and_numbers(self) -> None:
        """Asking for more schools than a level has is refused with both numbers."""
        with pytest.raises(ValueError, match="count for primary is 16 but the pool has only 15"):
            draw(self.POOL, {"primary": 16}, seed_for("x"))

    def test_negative_count_is_refused(self) -> None:
        """A negative count is refused and names the level."""
        with pytest.raises(ValueError, match="count for kindergarten must be >= 0"):
            draw(self.POOL, {"kindergarten": -1}, seed_for("x"))

    def test_unknown_level_in_counts_is_refused(self) -> None:
        """A count for a level outside LEVELS is refused."""
        with pytest.raises(ValueError, match="unknown level"):
            draw(self.POOL, {"upper_secondary": 1}, seed_for("x"))

    def test_non_integer_count_is_refused(self) -> None:
        """A bool or float count is refused rather than coerced."""
        with pytest.raises(TypeError, match="count for primary"):
            draw(self.POOL, {"primary": True}, seed_for("x"))
        with pytest.raises(TypeError, match="count for primary"):
            draw(self.POOL, {"primary": 2.0}, seed_for("x"))  # type: ignore[dict-item]

    def test_malformed_seed_is_refused(self) -> None:
        """The seed must be 64 lowercase hex characters."""
        with pytest.raises(ValueError, match="seed"):
            draw(self.POOL, DEFAULT_COUNTS, "abc")

    def test_result_is_frozen(self) -> None:
        """A LotteryResult cannot be altered after the draw."""
        result = run_pipeline(self.POOL, self.PHRASE)
        with pytest.raises(dataclasses.FrozenInstanceError):
            result.seed = "0" * 64  # type: ignore[misc]

    def test_each_school_is_chosen_about_a_third_of_the_time(self) -> None:
        """Over 2,000 fixed seeds, 5 of 15 picks each school ~1/3 of the time."""
        pool = make_pool()[:15]
        codes = [school.code for school in pool]
        chosen: Counter[str] = Counter()
        first: Counter[str] = Counter()
        for s in range(2000):
            picks = draw(pool, {"kindergarten": 5}, seed_for(f"freq-{s}")).chosen
            chosen.update(picks["kindergarten"])
            first[picks["kindergarten"][0]] += 1
        # Sampling without replacement makes the counts less spread than a multinomial,
        # so the df = 14 chi-square bound is conservative for a fair draw yet still far
        # below what a school favoured by a few percent would produce.
        assert chi_square(chosen, codes) < CHI2_999[14]
        assert all(abs(chosen[c] / 2000 - 1 / 3) < 0.05 for c in codes)
        # The first pick alone must also be uniform (1/15 each).
        assert chi_square(first, codes) < CHI2_999[14]

    @settings(max_examples=40, deadline=None)
    @given(
        order=st.permutations(make_pool(4)),
        kindergarten=st.integers(0, 4),
        primary=st.integers(0, 4),
        lower_secondary=st.integers(0, 4),
        phrase=st.text(min_size=1, max_size=20).filter(lambda p: p.strip() != ""),
    )
    def test_any_valid_input_draws_a_prefix_of_the_level_order(
        self,
        order: list[PoolSchool],
        kindergarten: int,
        primary: int,
        lower_secondary: int,
        phrase: str,
    ) -> None:
        """For any pool order, counts and phrase, picks are a prefix of the level order."""
        try:
            seed = derive_seed(9, pool_digest(order), phrase)
        except ValueError:
            # Phrases made only of listed whitespace are refused; nothing to draw.
            return
        counts = {
            "kindergarten": kindergarten,
            "primary": primary,
            "lower_secondary": lower_secondary,
        }
        result = draw(order, counts, seed)
        for level in LEVELS:
            full = level_order(make_pool(4), level, seed)
            assert result.chosen[level] == full[: counts[level]]
