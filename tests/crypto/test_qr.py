"""The slip's QR code: its URL, and that an independent decoder reads it back."""

from __future__ import annotations

import pytest
import qrcode
import zxingcpp
from PIL import Image
from qrcode.util import MODE_8BIT_BYTE, MODE_ALPHA_NUM, QRData

from crypto.qr import Matrix, qr_matrix, qr_rows, qr_version, slip_url
from crypto.tokens import ALPHABET, InvalidToken, check_symbol, new_token

LOCAL = "http://127.0.0.1:8000"
PUBLIC = "https://phieukin.longbien.hanoi.gov.vn/"
TOKEN = "B8BPTNZMZ3BMS2X043RKAGGCAF9"


def render(matrix: Matrix, module_px: int = 6, quiet: int = 4) -> Image.Image:
    """Draw a matrix as a black-on-white image with a quiet zone, as a printer would."""
    n = len(matrix)
    size = n + 2 * quiet
    pixels = bytearray(b"\xff" * size * size)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                pixels[(y + quiet) * size + x + quiet] = 0
    small = Image.frombytes("L", (size, size), bytes(pixels))
    return small.resize((size * module_px, size * module_px), Image.Resampling.NEAREST)


def library_matrix(base: str, token: str) -> Matrix:
    """Encode a slip URL with the qrcode library alone, with the slip code's settings."""
    prefix, _, _ = slip_url(base, token).partition("#")
    alphanumeric = set(prefix) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    code = qrcode.QRCode(
        version=qr_version(base),
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=0,
        mask_pattern=0,
    )
    code.add_data(QRData(prefix.encode(), mode=MODE_ALPHA_NUM if alphanumeric else MODE_8BIT_BYTE))
    code.add_data(QRData(b"#", mode=MODE_8BIT_BYTE))
    code.add_data(QRData(token.encode(), mode=MODE_ALPHA_NUM))
    code.make(fit=False)
    return tuple(tuple(row) for row in code.get_matrix())


def unpack(size: int, rows: bytes) -> Matrix:
    """Return packed rows (eight modules a byte, high bit leftmost) as a matrix."""
    width = len(rows) // size
    bits = [format(byte, "08b") for byte in rows]
    return tuple(
        tuple("".join(bits[y * width : (y + 1) * width])[x] == "1" for x in range(size))
        for y in range(size)
    )


def decode_one(image: Image.Image) -> zxingcpp.Barcode:
    """Return the single QR code zxing-cpp finds in an image."""
    qr_only = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    found = zxingcpp.read_barcodes(image, formats=qr_only)
    assert len(found) == 1
    return found[0]


class TestSlipUrl:
    """slip_url puts the token in the fragment of an upper-cased URL."""

    def test_url_is_upper_cased_base_then_v_then_fragment(self) -> None:
        assert slip_url(LOCAL, TOKEN) == f"HTTP://127.0.0.1:8000/V#{TOKEN}"

    def test_trailing_slash_of_base_is_dropped(self) -> None:
        assert slip_url(PUBLIC, TOKEN) == f"HTTPS://PHIEUKIN.LONGBIEN.HANOI.GOV.VN/V#{TOKEN}"

    def test_token_appears_only_after_the_hash(self) -> None:
        url = slip_url(LOCAL, TOKEN)
        before, _, after = url.partition("#")
        assert after == TOKEN
        assert TOKEN not in before

    def test_non_canonical_token_is_refused(self) -> None:
        with pytest.raises(InvalidToken):
            slip_url(LOCAL, TOKEN.lower())
        with pytest.raises(InvalidToken):
            qr_matrix(LOCAL, TOKEN[:-1] + "0")

    @pytest.mark.parametrize(
        "base", ["127.0.0.1:8000", "ftp://example.vn", "https://x.vn/?a=1", "https://x.vn/#f"]
    )
    def test_base_url_that_is_not_a_plain_http_url_is_refused(self, base: str) -> None:
        with pytest.raises(ValueError, match="base URL must"):
            slip_url(base, TOKEN)


class TestQrMatrix:
    """qr_matrix builds a small, decodable code with fixed settings."""

    @pytest.mark.parametrize("base", [LOCAL, PUBLIC, "http://localhost:8000/"])
    def test_decoder_reads_back_the_slip_url(self, base: str) -> None:
        for token in [TOKEN] + [new_token() for _ in range(5)]:
            barcode = decode_one(render(qr_matrix(base, token)))
            assert barcode.text == slip_url(base, token)

    def test_local_base_gives_version_3_and_public_base_version_4(self) -> None:
        # Measured: 23 + 27 alphanumeric characters and one byte fit version 3-M;
        # a 38-character host needs version 4. Byte mode throughout would need 4 and 5.
        assert qr_version(LOCAL) == 3
        assert len(qr_matrix(LOCAL, TOKEN)) == 29
        assert qr_version(PUBLIC) == 4
        assert len(qr_matrix(PUBLIC, TOKEN)) == 33

    def test_error_correction_is_m_and_mask_is_fixed(self) -> None:
        masks = set()
        for _ in range(5):
            barcode = decode_one(render(qr_matrix(LOCAL, new_token())))
            assert barcode.ec_level == "M"
            extra = barcode.extra
            assert isinstance(extra, dict)
            masks.add(extra["DataMask"])
        assert masks == {0}

    def test_matrix_is_square_of_booleans(self) -> None:
        matrix = qr_matrix(LOCAL, TOKEN)
        assert all(len(row) == len(matrix) for row in matrix)
        assert {v for row in matrix for v in row} == {True, False}

    def test_same_token_gives_same_matrix(self) -> None:
        assert qr_matrix(LOCAL, TOKEN) == qr_matrix(LOCAL, TOKEN)

    def test_base_with_characters_outside_alphanumeric_mode_still_decodes(self) -> None:
        base = "https://phieu_kin.example.vn"
        barcode = decode_one(render(qr_matrix(base, TOKEN)))
        assert barcode.text == slip_url(base, TOKEN)


class TestTableBuiltCodes:
    """Slip codes come from precomputed tables; they must be the library's codes exactly."""

    # Tokens at the edges of every pair's value (all "0", all "Z") and random ones.
    EDGES = (
        "0" * 26 + check_symbol("0" * 26),
        "Z" * 26 + check_symbol("Z" * 26),
        ALPHABET[:26] + check_symbol(ALPHABET[:26]),
        ALPHABET[-26:] + check_symbol(ALPHABET[-26:]),
    )

    @pytest.mark.parametrize("base", [LOCAL, PUBLIC, "https://phieu_kin.example.vn"])
    def test_packed_rows_equal_the_librarys_own_encoding(self, base: str) -> None:
        for token in (*self.EDGES, TOKEN, *(new_token() for _ in range(300))):
            size, rows = qr_rows(base, token)
            assert unpack(size, rows) == library_matrix(base, token)
            assert qr_matrix(base, token) == library_matrix(base, token)

    def test_rows_are_padded_to_whole_bytes_with_light_modules(self) -> None:
        size, rows = qr_rows(LOCAL, TOKEN)
        assert (size, len(rows)) == (29, 29 * 4)
        # Modules 29 to 31 of each row are padding: the low three bits of its last byte.
        assert all(rows[y * 4 + 3] & 0b111 == 0 for y in range(size))
        assert qr_rows(PUBLIC, TOKEN)[0] == 33

    def test_non_canonical_token_is_refused(self) -> None:
        with pytest.raises(InvalidToken):
            qr_rows(LOCAL, TOKEN[:-1] + "0")
