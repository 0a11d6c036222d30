"""Inline SVG charts for the report pages: pure functions, every text escaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

# Fill per scale value, dark to light and with distinct hues, so a grey print still tells
# the segments apart; every segment also carries its count as text and a <title>.
FILLS = {4: "#1b5e20", 3: "#66bb6a", 2: "#ffd54f", 1: "#c62828"}
NO_OPINION_FILL = "#bdbdbd"
DARK_FILLS = {"#1b5e20", "#c62828"}
WIDTH = 320
AXIS_LEFT, AXIS_RIGHT = 70.0, 298.0


def fmt_mean(value: float | None) -> str:
    """A mean the Vietnamese way, two decimals with a comma: 3,25."""
    return "" if value is None else f"{value:.2f}".replace(".", ",")


def _t(value: object) -> str:
    return escape(str(value), quote=True)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _axis_x(value: float) -> float:
    value = min(max(value, 1.0), 4.0)
    return AXIS_LEFT + (value - 1) * (AXIS_RIGHT - AXIS_LEFT) / 3


def _anchor(x: float, left: float = AXIS_LEFT, right: float = AXIS_RIGHT) -> str:
    if x < left + 30:
        return "start"
    if x > right - 30:
        return "end"
    return "middle"


def _bar(segments: list[tuple[str, int, str]], total: int) -> list[str]:
    parts = [f'<rect x="0" y="0" width="{WIDTH}" height="24" fill="#fff" stroke="#666"/>']
    x = 0.0
    for label, n, fill in segments:
        if not n or not total:
            continue
        w = WIDTH * n / total
        ink = "#fff" if fill in DARK_FILLS else "#111"
        parts.append(
            f"<g><title>{_t(label)}: {n} phiếu</title>"
            f'<rect x="{_num(x)}" y="0" width="{_num(w)}" height="24" fill="{fill}" '
            f'stroke="#fff" stroke-width="1"/>'
        )
        if w >= 14:
            parts.append(
                f'<text x="{_num(x + w / 2)}" y="16.5" text-anchor="middle" font-size="11" '
                f'font-weight="700" fill="{ink}">{n}</text>'
            )
        parts.append("</g>")
        x += w
    return parts


def _legend(segments: list[tuple[str, int, str]]) -> list[str]:
    parts = []
    x, y = 0.0, 32
    for label, n, fill in segments:
        text = f"{label}: {n}"
        width = 14 + len(text) * 6.3
        if x and x + width > WIDTH:
            x, y = 0.0, y + 17
        parts.append(
            f'<rect x="{_num(x)}" y="{y}" width="10" height="10" fill="{fill}" stroke="#666" '
            f'stroke-width=".5"/><text x="{_num(x + 14)}" y="{y + 9.5}" font-size="11">'
            f"{_t(text)}</text>"
        )
        x += width + 10
    return parts


def _scale(scale: dict[int, str], top: float, bottom: float) -> list[str]:
    """Tick labels 1-4 on top, faint grid lines down through both lanes."""
    parts = []
    for value in (1, 2, 3, 4):
        x = _num(_axis_x(value))
        parts.append(
            f'<line x1="{x}" y1="{top + 4}" x2="{x}" y2="{bottom}" stroke="#ccc"/>'
            f'<text x="{x}" y="{top}" text-anchor="{_anchor(_axis_x(value))}" font-size="10" '
            f'fill="#444">{value} {_t(scale.get(value, ""))}</text>'
        )
    return parts


def _lane(name: str, described: str, value: float | None, y: float, filled: bool) -> list[str]:
    """One labelled row with one marker: the subject's mean or the district's."""
    weight = ' font-weight="700"' if filled else ""
    parts = [
        f'<text x="0" y="{y + 4}" font-size="11"{weight}>{_t(name)}</text>'
        f'<line x1="{AXIS_LEFT}" y1="{y}" x2="{AXIS_RIGHT}" y2="{y}" stroke="#999"/>'
    ]
    if value is None:
        parts.append(f'<text x="{AXIS_LEFT}" y="{y + 4}" font-size="10" fill="#555">chưa có</text>')
        return parts
    x = _axis_x(value)
    left = x > AXIS_RIGHT - 36
    marker = (
        f'<circle cx="{_num(x)}" cy="{y}" r="5.5" fill="#8b0000"/>'
        if filled
        else f'<path d="M{_num(x)} {y - 6} L{_num(x + 6)} {y} L{_num(x)} {y + 6} '
        f'L{_num(x - 6)} {y} Z" fill="#fff" stroke="#1a1a1a" stroke-width="1.5"/>'
    )
    parts.append(
        f"<g><title>{_t(described)}: {fmt_mean(value)}</title>{marker}"
        f'<text x="{_num(x - 9 if left else x + 9)}" y="{y + 4}" '
        f'text-anchor="{"end" if left else "start"}" font-size="11"{weight} '
        f'stroke="#fafafa" stroke-width="4" paint-order="stroke">'
        f"{fmt_mean(value)}</text></g>"
    )
    return parts


def criterion_chart(
    title: str,
    counts: dict[int, int],
    no_opinion: int,
    scale: dict[int, str],
    no_opinion_label: str,
    mean: float | None,
    district_mean: float | None,
) -> str:
    """One criterion: stacked bar of answers with legend, then both means on a 1-4 scale."""
    segments = [
        (scale.get(v, str(v)), counts.get(v, 0), FILLS.get(v, "#888"))
        for v in sorted(scale, reverse=True)
    ]
    segments.append((no_opinion_label, no_opinion, NO_OPINION_FILL))
    total = sum(n for _, n, _ in segments)
    described = ", ".join(f"{label} {n}" for label, n, _ in segments)
    summary = (
        f"{title}. Số phiếu theo mức: {described}. Điểm trung bình: "
        f"{fmt_mean(mean) or 'chưa có'}; trung bình quận: {fmt_mean(district_mean) or 'chưa có'}."
    )
    parts = [
        f'<svg class="chart" viewBox="-2 -2 {WIDTH + 4} 134" role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{_t(summary)}</title>',
        *_bar(segments, total),
        *_legend(segments),
        *_scale(scale, 80, 128),
        *_lane("Đồng chí", "Điểm trung bình", mean, 96, filled=True),
        *_lane("TB quận", "Trung bình quận, cùng chức danh", district_mean, 118, filled=False),
        "</svg>",
    ]
    return "".join(parts)


def trend_chart(points: Sequence[tuple[str, float | None]]) -> str:
    """A small line of overall means across rounds (label, mean); rounds below k are gaps."""
    height, top, bottom, left, right = 150, 18.0, 112.0, 30.0, WIDTH - 20.0
    step = (right - left) / max(len(points) - 1, 1)

    def y_of(value: float) -> float:
        return bottom - (min(max(value, 1.0), 4.0) - 1) * (bottom - top) / 3

    shown = "; ".join(
        f"{label}: {fmt_mean(m) if m is not None else 'chưa đủ phiếu'}" for label, m in points
    )
    parts = [
        f'<svg class="chart trend" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>Điểm trung bình chung qua các đợt: '
        f"{_t(shown)}</title>"
    ]
    for v in (1, 2, 3, 4):
        grid = _num(y_of(v))
        parts.append(
            f'<line x1="{left}" y1="{grid}" x2="{right}" y2="{grid}" stroke="#ddd"/>'
            f'<text x="{left - 8}" y="{_num(y_of(v) + 4)}" text-anchor="end" font-size="10" '
            f'fill="#555">{v}</text>'
        )
    coords = [
        (left + i * step if len(points) > 1 else (left + right) / 2, m)
        for i, (_, m) in enumerate(points)
    ]
    line = " ".join(f"{_num(x)},{_num(y_of(m))}" for x, m in coords if m is not None)
    parts.append(f'<polyline points="{line}" fill="none" stroke="#8b0000" stroke-width="2"/>')
    for (label, mean), (x, _) in zip(points, coords, strict=True):
        parts.append(
            f'<text x="{_num(x)}" y="{bottom + 18}" text-anchor="{_anchor(x, left, right)}" '
            f'font-size="10">{_t(label)}</text>'
        )
        if mean is None:
            parts.append(
                f'<text x="{_num(x)}" y="{bottom + 32}" text-anchor="{_anchor(x, left, right)}" '
                f'font-size="9" fill="#555">chưa đủ phiếu</text>'
            )
            continue
        y = y_of(mean)
        parts.append(
            f"<g><title>{_t(label)}: {fmt_mean(mean)}</title>"
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="4" fill="#8b0000"/>'
            f'<text x="{_num(x)}" y="{_num(y - 8)}" text-anchor="{_anchor(x, left, right)}" '
            f'font-size="11" font-weight="700">{fmt_mean(mean)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
