"""Tokens and receipts: generation, check symbol, typed-input normalisation, hashing."""

from __future__ import annotations

import hashlib
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto.tokens import (
    ALPHABET,
    RECEIPT_LENGTH,
    TOKEN_LENGTH,
    InvalidToken,
    format_token,
    is_canonical,
    new_receipt,
    new_token,
    normalize_receipt,
    normalize_token,
    token_hash,
    typed_groups,
)

# Fixed tokens so that failures reproduce; each ends in its Luhn mod 32 check symbol.
FIXED_TOKENS = [
    "000000000000000000000000000",
    "ZZZZZZZZZZZZZZZZZZZZZZZZZZ" + "T",
    "B8BPTNZMZ3BMS2X043RKAGGCAF9",
]

# Any 26 data symbols; the check symbol is then computed by new_token's rules.
data_symbols = st.text(alphabet=ALPHABET, min_size=26, max_size=26)


def with_check(data: str) -> str:
    """Complete 26 data symbols with the one check symbol that makes a valid token."""
    for symbol in ALPHABET:
        if is_canonical(data + symbol):
            return data + symbol
    raise AssertionError("no check symbol fits")


def symbols_to_int(symbols: str) -> int:
    """Read symbols as a big-endian base-32 number."""
    value = 0
    for c in symbols:
        value = value * 32 + ALPHABET.index(c)
    return value


class TestAlphabet:
    """The alphabet is Crockford's base32 and fits QR alphanumeric mode."""

    def test_alphabet_has_32_distinct_symbols_without_look_alikes(self) -> None:
        assert len(set(ALPHABET)) == 32
        assert not set("ILOU") & set(ALPHABET)

    def test_every_symbol_is_a_digit_or_upper_case_letter(self) -> None:
        assert set(ALPHABET) <= set(string.digits + string.ascii_uppercase)


class TestNewToken:
    """new_token returns 130 random bits and a check symbol in canonical form."""

    def test_token_is_27_symbols_from_the_alphabet(self) -> None:
        token = new_token()
        assert len(token) == TOKEN_LENGTH == 27
        assert set(token) <= set(ALPHABET)

    def test_new_token_is_canonical(self) -> None:
        for _ in range(200):
            token = new_token()
            assert is_canonical(token)
            assert normalize_token(token) == token

    def test_one_thousand_tokens_are_distinct(self) -> None:
        tokens = {new_token() for _ in range(1000)}
        assert len(tokens) == 1000

    def test_first_26_symbols_carry_130_random_bits(self) -> None:
        tokens = [new_token() for _ in range(1000)]
        values = [symbols_to_int(t[:26]) for t in tokens]
        assert all(v < 2**130 for v in values)
        # The top bit is set in about half of all tokens, so the full 130 bits are used.
        assert max(v.bit_length() for v in values) == 130
        assert 350 < sum(v >> 129 for v in values) < 650
        # Every position uses the whole alphabet: 5 bits a symbol, none left fixed.
        for position in range(26):
            assert {t[position] for t in tokens} == set(ALPHABET)


class TestCheckSymbol:
    """The check symbol catches every substitution and nearly every adjacent swap."""

    @pytest.mark.parametrize("token", FIXED_TOKENS + [new_token() for _ in range(3)])
    def test_every_single_symbol_substitution_is_rejected(self, token: str) -> None:
        assert is_canonical(token)
        for position in range(TOKEN_LENGTH):
            for symbol in ALPHABET:
                if symbol == token[position]:
                    continue
                typo = token[:position] + symbol + token[position + 1 :]
                with pytest.raises(InvalidToken, match="check character mismatch"):
                    normalize_token(typo)

    def test_adjacent_transpositions_are_rejected_at_least_99_percent_of_the_time(
        self,
    ) -> None:
        swaps = caught = 0
        for _ in range(300):
            token = new_token()
            for i in range(TOKEN_LENGTH - 1):
                if token[i] == token[i + 1]:
                    continue
                swapped = token[:i] + token[i + 1] + token[i] + token[i + 2 :]
                swaps += 1
                caught += not is_canonical(swapped)
        # Luhn mod 32 misses only a swap of "0" and "Z": 2 of 992 ordered pairs.
        assert caught / swaps >= 0.99

    def test_the_only_missed_transposition_is_zero_and_z(self) -> None:
        missed = set()
        for a in ALPHABET:
            for b in ALPHABET:
                if a == b:
                    continue
                token = with_check("0" * 24 + a + b)
                swapped = token[:24] + b + a + token[26:]
                if is_canonical(swapped):
                    missed.add(frozenset((a, b)))
        assert missed == {frozenset("0Z")}

    def test_swap_with_the_check_symbol_is_rejected(self) -> None:
        token = with_check("1" * 25 + "2")
        assert token[25] != token[26]
        swapped = token[:25] + token[26] + token[25]
        assert not is_canonical(swapped)


class TestNormalizeToken:
    """normalize_token accepts what a person types and rejects what is malformed."""

    @given(data_symbols)
    def test_formatted_token_normalises_back_to_itself(self, data: str) -> None:
        token = with_check(data)
        assert normalize_token(format_token(token)) == token

    @given(data_symbols)
    def test_lower_case_with_spaces_normalises(self, data: str) -> None:
        token = with_check(data)
        typed = " ".join(token[i : i + 3] for i in range(0, 27, 3)).lower()
        assert normalize_token(f"  {typed}\t") == token

    def test_letter_o_reads_as_zero_and_i_l_read_as_one(self) -> None:
        token = "000000000000000000000000000"
        assert normalize_token("O0o0" + token[4:]) == token
        token_ones = with_check("1" * 26)
        assert normalize_token("IiLl" + token_ones[4:]) == token_ones

    def test_hyphens_and_typographic_dashes_are_ignored(self) -> None:
        token = FIXED_TOKENS[2]
        assert normalize_token("B8BPT-NZMZ3-BMS2X-043R-KAGG-CAF9") == token
        assert normalize_token("b8bpt\u2013nzmz3 bms2x\u2010043r-kagg-caf9") == token

    @pytest.mark.parametrize("length", [0, 1, 26, 28, 54])
    def test_wrong_length_is_rejected(self, length: int) -> None:
        with pytest.raises(InvalidToken, match="wrong length"):
            normalize_token("A" * length)

    def test_very_long_input_is_rejected_without_scanning_it(self) -> None:
        with pytest.raises(InvalidToken, match="wrong length"):
            normalize_token("A" * 10_000)

    @pytest.mark.parametrize("bad", ["U", "u", "!", "#", "_", "Đ", "ß", "\u0660"])
    def test_bad_character_is_rejected(self, bad: str) -> None:
        token = FIXED_TOKENS[2]
        with pytest.raises(InvalidToken, match="bad character at position 6"):
            normalize_token(token[:5] + bad + token[6:])

    def test_error_message_does_not_echo_the_input(self) -> None:
        token = FIXED_TOKENS[2]
        for typed in (token[:-1] + "U", token[:20], token[:-1] + "0"):
            with pytest.raises(InvalidToken) as caught:
                normalize_token(typed)
            assert token[:8] not in str(caught.value)

    def test_invalid_token_is_a_value_error(self) -> None:
        assert issubclass(InvalidToken, ValueError)


class TestFormatToken:
    """format_token prints a token in hyphenated groups of 5-5-5-4-4-4."""

    def test_groups_are_5_5_5_4_4_4(self) -> None:
        formatted = format_token(FIXED_TOKENS[2])
        assert formatted == "B8BPT-NZMZ3-BMS2X-043R-KAGG-CAF9"
        assert [len(g) for g in formatted.split("-")] == [5, 5, 5, 4, 4, 4]

    def test_non_canonical_input_is_refused(self) -> None:
        with pytest.raises(InvalidToken):
            format_token(FIXED_TOKENS[2].lower())


class TestTokenHash:
    """token_hash is SHA-256 over the canonical token's ASCII bytes."""

    def test_hash_matches_hashlib_on_fixed_vectors(self) -> None:
        token = FIXED_TOKENS[2]
        assert token_hash(token) == hashlib.sha256(b"B8BPTNZMZ3BMS2X043RKAGGCAF9").digest()
        assert token_hash(FIXED_TOKENS[0]).hex() == (
            "d18b431dbcc848237ea9d97c8ae5ad2f844148d2bd3a0da20bac52cf931582c3"
        )

    def test_hash_is_32_bytes(self) -> None:
        assert len(token_hash(new_token())) == 32

    def test_formatted_or_lower_case_token_is_refused(self) -> None:
        token = FIXED_TOKENS[2]
        for other in (format_token(token), token.lower()):
            with pytest.raises(InvalidToken):
                token_hash(other)


class TestNewReceipt:
    """new_receipt returns a 10-symbol code carrying 50 random bits."""

    def test_receipt_is_10_symbols_from_the_alphabet(self) -> None:
        receipt = new_receipt()
        assert len(receipt) == RECEIPT_LENGTH == 10
        assert set(receipt) <= set(ALPHABET)

    def test_receipts_use_all_50_bits(self) -> None:
        receipts = [new_receipt() for _ in range(1000)]
        assert len(set(receipts)) == 1000
        assert {r[0] for r in receipts} == set(ALPHABET)
        assert max(symbols_to_int(r).bit_length() for r in receipts) == 50


class TestNormalizeReceipt:
    """What a voter types back from a written-down receipt."""

    def test_case_dashes_and_lookalikes(self) -> None:
        """Lower case, dashes, spaces, O for 0 and I or L for 1 read as the receipt."""
        receipt = new_receipt()
        typed = f" {receipt[:5].lower()}-{receipt[5:]} "
        assert normalize_receipt(typed) == receipt
        assert normalize_receipt("o1Il0-00000") == "0111000000"

    def test_wrong_length_or_letter_is_refused(self) -> None:
        """Nine or eleven symbols, or a U, are a mistyped receipt."""
        for bad in ("0" * 9, "0" * 11, "U" * 10, "x" * 300):
            with pytest.raises(InvalidToken):
                normalize_receipt(bad)


class TestTypedGroups:
    """Where a mistyped code is surely wrong, group by printed group."""

    def test_groups_follow_the_print_and_flag_what_is_surely_wrong(self) -> None:
        """A bad letter or a short group is flagged; extra characters form a flagged group."""
        token = new_token()
        assert [bad for _, bad in typed_groups(format_token(token))] == [False] * 6
        assert typed_groups(token.lower())[0] == (token[:5], False)
        short = typed_groups(token[:-1])
        assert short[-1] == (token[23:26], True)
        assert typed_groups("U" + token[1:])[0][1] is True
        assert typed_groups(token + "AB")[-1] == ("AB", True)
