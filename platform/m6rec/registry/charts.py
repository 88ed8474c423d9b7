"""A tiny server-side SVG line chart of the gate metric across versions (no JavaScript, no CDN)."""

from __future__ import annotations

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

COLORS = ("#417690", "#c0392b", "#27ae60", "#8e44ad", "#d35400", "#2c3e50")
STATUS_FILL = {"active": "#27ae60", "failed": "#c0392b", "candidate": "#f1c40f"}


def gate_metric_svg(
    series: dict[str, list[tuple[int, float | None, str]]],
    *,
    width: int = 640,
    height: int = 220,
    title: str = "Validation nDCG@10 by version",
) -> SafeString:
    """``series``: label → [(version number, metric or None, status)], oldest first.

    One polyline per label; a dot per version (green = active, red = failed, yellow =
    candidate, blue = retired). Versions without a metric are skipped.
    """
    points = [(n, v) for rows in series.values() for n, v, _ in rows if v is not None]
    if not points:
        return mark_safe('<p class="m6rec-chart-empty">No versions with a gate metric yet.</p>')
    pad_l, pad_r, pad_t, pad_b = 48, 16, 28, 28
    n_min = min(n for n, _ in points)
    n_max = max(n for n, _ in points)
    v_min = min(v for _, v in points)
    v_max = max(v for _, v in points)
    if v_max - v_min < 1e-6:
        v_min, v_max = v_min - 0.01, v_max + 0.01
    span_n = max(n_max - n_min, 1)

    def x(n: int) -> float:
        return pad_l + (n - n_min) / span_n * (width - pad_l - pad_r)

    def y(v: float) -> float:
        return pad_t + (1 - (v - v_min) / (v_max - v_min)) * (height - pad_t - pad_b)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="m6rec-gate-chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{escape(title)}">',
        f'<text x="{pad_l}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{pad_l}" y1="{height - pad_b}" x2="{width - pad_r}" y2="{height - pad_b}" '
        'stroke="#999"/>',
        f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{height - pad_b}" stroke="#999"/>',
        f'<text x="4" y="{y(v_max) + 4:.1f}" font-size="11">{v_max:.3f}</text>',
        f'<text x="4" y="{y(v_min) + 4:.1f}" font-size="11">{v_min:.3f}</text>',
        f'<text x="{pad_l}" y="{height - 8}" font-size="11">v{n_min}</text>',
        f'<text x="{width - pad_r - 24}" y="{height - 8}" font-size="11">v{n_max}</text>',
    ]
    for idx, (label, rows) in enumerate(series.items()):
        color = COLORS[idx % len(COLORS)]
        pts = [(n, v, s) for n, v, s in rows if v is not None]
        if len(pts) > 1:
            coords = " ".join(f"{x(n):.1f},{y(v):.1f}" for n, v, _ in pts)
            parts.append(
                f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{coords}"/>'
            )
        for n, v, s in pts:
            parts.append(
                f'<circle cx="{x(n):.1f}" cy="{y(v):.1f}" r="4" '
                f'fill="{STATUS_FILL.get(s, color)}" stroke="{color}">'
                f"<title>{escape(label)} v{n}: {v:.4f} ({escape(s)})</title></circle>"
            )
        if len(series) > 1:
            parts.append(
                f'<text x="{width - pad_r - 120}" y="{pad_t + 14 * idx}" font-size="11" '
                f'fill="{color}">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return format_html('<div class="m6rec-chart">{}</div>', mark_safe("".join(parts)))  # noqa: S308
