"""Printed slips: every QR code scans back to its token's URL, text and layout hold."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
import zxingcpp
from PIL import Image, ImageOps

from ballots.slips import render_slips_pdf
from crypto.qr import qr_matrix, slip_url
from crypto.tokens import InvalidToken, format_token, new_token

BASE = "http://127.0.0.1:8000"
ROUND = "Lấy ý kiến người đứng đầu năm 2023"
WARD = "Phường Bồ Đề"
SCHOOL = "Trường Mầm non Đức Giang"
DPI = 200
MM_PER_PX = 25.4 / DPI
CODE = re.compile(r"[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")


@dataclass(frozen=True)
class Printed:
    """A rendered batch: its tokens, the PDF, and what reading it back found."""

    tokens: list[str]
    pdf: bytes
    pages: int
    page_sizes: list[tuple[float, float]]
    texts: list[str]
    images: list[Image.Image]
    barcodes: list[zxingcpp.Barcode]


def print_batch(tokens: list[str], unit_name: str) -> Printed:
    """Render tokens to a PDF, then rasterise each page and decode every QR code."""
    pdf = render_slips_pdf(tokens, round_title=ROUND, unit_name=unit_name, base_url=BASE)
    document = pdfium.PdfDocument(pdf)
    texts, images, barcodes, sizes = [], [], [], []
    for page in document:
        sizes.append(page.get_size())
        texts.append(page.get_textpage().get_text_bounded())
        image = page.render(scale=DPI / 72, grayscale=True).to_pil()
        images.append(image)
        barcodes.extend(read_qr_codes(image))
    return Printed(tokens, pdf, len(document), sizes, texts, images, barcodes)


def read_qr_codes(image: Image.Image) -> list[zxingcpp.Barcode]:
    """Return every QR code zxing-cpp finds in an image."""
    return zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )


def is_dark(image: Image.Image, x: float, y: float) -> bool:
    """Return whether the grey pixel at (x, y) is closer to black than to white."""
    value = image.getpixel((int(x), int(y)))
    assert isinstance(value, int)
    return value < 128


def darkest(image: Image.Image) -> int:
    """Return the darkest grey level in an image (0 black, 255 white)."""
    return next(level for level, count in enumerate(image.histogram()) if count)


def symbol_bounds(image: Image.Image, barcode: zxingcpp.Barcode) -> tuple[int, int, int, int]:
    """Return the exact pixel box of a decoded symbol's dark modules."""
    p = barcode.position
    margin = (p.top_right.x - p.top_left.x) // 10
    x0, y0 = p.top_left.x - margin, p.top_left.y - margin
    region = image.crop((x0, y0, p.bottom_right.x + margin, p.bottom_right.y + margin))
    box = ImageOps.invert(region).point(lambda v: 255 if v > 128 else 0).getbbox()
    assert box is not None
    return box[0] + x0, box[1] + y0, box[2] + x0, box[3] + y0


@pytest.fixture(scope="module")
def ward_batch() -> Printed:
    """23 slips for a ward: two full pages and a third with three slips."""
    return print_batch([new_token() for _ in range(23)], WARD)


@pytest.fixture(scope="module")
def school_batch() -> Printed:
    """40 slips for a school: four full pages."""
    return print_batch([new_token() for _ in range(40)], SCHOOL)


class TestQrCodesOnPaper:
    """Every slip's QR code, rasterised at 200 dpi, decodes to its token's URL."""

    def test_decoded_urls_are_exactly_the_batch(self, ward_batch: Printed) -> None:
        decoded = [b.text for b in ward_batch.barcodes]
        assert len(decoded) == 23
        assert set(decoded) == {slip_url(BASE, t) for t in ward_batch.tokens}

    def test_large_batch_decodes_completely_too(self, school_batch: Printed) -> None:
        decoded = [b.text for b in school_batch.barcodes]
        assert sorted(decoded) == sorted(slip_url(BASE, t) for t in school_batch.tokens)

    def test_every_printed_module_matches_the_matrix(self, ward_batch: Printed) -> None:
        # Error correction would hide a few wrong modules from the decoder; sampling
        # each module's centre does not.
        checked = 0
        for image in ward_batch.images:
            for barcode in read_qr_codes(image):
                token = barcode.text.partition("#")[2]
                matrix = qr_matrix(BASE, token)
                left, top, right, bottom = symbol_bounds(image, barcode)
                step_x = (right - left) / len(matrix)
                step_y = (bottom - top) / len(matrix)
                printed = tuple(
                    tuple(
                        is_dark(image, left + (x + 0.5) * step_x, top + (y + 0.5) * step_y)
                        for x in range(len(matrix))
                    )
                    for y in range(len(matrix))
                )
                assert printed == matrix
                checked += 1
        assert checked == 23

    def test_qr_code_prints_at_least_30_mm_wide(self, ward_batch: Printed) -> None:
        for barcode in ward_batch.barcodes:
            width_px = barcode.position.top_right.x - barcode.position.top_left.x
            assert 30 <= width_px * MM_PER_PX <= 40

    def test_nothing_is_printed_in_the_four_module_quiet_zone(self, ward_batch: Printed) -> None:
        checked = 0
        for image in ward_batch.images:
            for barcode in read_qr_codes(image):
                left, top, right, bottom = symbol_bounds(image, barcode)
                quiet = 4 * (right - left) / 29
                ring = image.crop(
                    (
                        round(left - quiet),
                        round(top - quiet),
                        round(right + quiet),
                        round(bottom + quiet),
                    )
                )
                # Blank the symbol itself, with a pixel for anti-aliasing; what is
                # left must be white paper.
                inner = round(quiet)
                ring.paste(
                    255, (inner - 1, inner - 1, inner + right - left + 1, inner + bottom - top + 1)
                )
                assert darkest(ring) > 200
                checked += 1
        assert checked == 23

    def test_qr_codes_are_vector_paths_not_images(self, ward_batch: Printed) -> None:
        document = pdfium.PdfDocument(ward_batch.pdf)
        for page in document:
            kinds = {obj.type for obj in page.get_objects(max_depth=3)}
            assert pdfium_c.FPDF_PAGEOBJ_IMAGE not in kinds
            assert pdfium_c.FPDF_PAGEOBJ_PATH in kinds


class TestSlipText:
    """Slips carry the Vietnamese text intact and each token's short code."""

    def test_batch_of_23_fills_three_a4_pages(self, ward_batch: Printed) -> None:
        assert ward_batch.pages == 3
        for width, height in ward_batch.page_sizes:
            assert width == pytest.approx(595.28, abs=0.1)
            assert height == pytest.approx(841.89, abs=0.1)

    def test_unit_name_and_heading_keep_their_diacritics(
        self, ward_batch: Printed, school_batch: Printed
    ) -> None:
        for batch, unit in ((ward_batch, WARD), (school_batch, SCHOOL)):
            for text in batch.texts:
                assert unit in text
                assert "Phiếu lấy ý kiến" in text
                assert "Quét mã QR bằng camera" in text

    def test_each_short_code_is_printed_once(self, ward_batch: Printed) -> None:
        text = "\n".join(ward_batch.texts)
        for token in ward_batch.tokens:
            assert text.count(format_token(token)) == 1
        assert len(CODE.findall(text)) == 23

    def test_manual_entry_address_is_printed(self, ward_batch: Printed) -> None:
        assert f"{BASE}/v" in ward_batch.texts[0]

    def test_fonts_are_embedded(self, ward_batch: Printed) -> None:
        # A printer without DejaVu must still print the same glyphs.
        assert ward_batch.pdf.count(b"/FontFile2") == 3


class TestPrintOrder:
    """Slips are printed in an order unrelated to the order tokens were issued."""

    def test_print_order_differs_from_issue_order(self, school_batch: Printed) -> None:
        printed = CODE.findall("\n".join(school_batch.texts))
        issued = [format_token(t) for t in school_batch.tokens]
        assert sorted(printed) == sorted(issued)
        # 40 slips in issue order by chance: probability 1/40!, about 1e-48.
        assert printed != issued

    def test_two_renders_of_one_batch_differ_in_order(self) -> None:
        tokens = [new_token() for _ in range(40)]
        orders = []
        for _ in range(2):
            pdf = render_slips_pdf(tokens, round_title=ROUND, unit_name=WARD, base_url=BASE)
            document = pdfium.PdfDocument(pdf)
            text = "\n".join(p.get_textpage().get_text_bounded() for p in document)
            orders.append(CODE.findall(text))
        assert orders[0] != orders[1]


class TestRefusedInput:
    """The renderer refuses batches that would print unusable or shared slips."""

    def test_empty_batch_is_refused(self) -> None:
        with pytest.raises(ValueError, match="no tokens"):
            render_slips_pdf([], round_title=ROUND, unit_name=WARD, base_url=BASE)

    def test_duplicate_token_is_refused(self) -> None:
        token = new_token()
        with pytest.raises(ValueError, match="duplicate"):
            render_slips_pdf([token, token], round_title=ROUND, unit_name=WARD, base_url=BASE)

    def test_non_canonical_token_is_refused(self) -> None:
        with pytest.raises(InvalidToken):
            render_slips_pdf(
                [format_token(new_token())], round_title=ROUND, unit_name=WARD, base_url=BASE
            )

    def test_decomposed_vietnamese_input_prints_as_composed_text(self) -> None:
        decomposed = "Phu\u031bo\u031b\u0300ng Bo\u0302\u0300 \u0110e\u0302\u0300"
        pdf = render_slips_pdf(
            [new_token()], round_title=ROUND, unit_name=decomposed, base_url=BASE
        )
        text = pdfium.PdfDocument(pdf)[0].get_textpage().get_text_bounded()
        assert unicodedata.is_normalized("NFD", decomposed)
        assert WARD in text
