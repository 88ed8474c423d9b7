"""A tiny server-side SVG line chart of the gate metric across versions (no JavaScript, no CDN).

Axes carry titles (x: model version, y: validation nDCG@10) and integer version ticks; a
legend on the right names each tenant's line colour and the status each dot colour means.
"""

from __future__ import annotations

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

COLORS = ("#417690", "#c0392b", "#27ae60", "#8e44ad", "#d35400", "#2c3e50")
STATUS_FILL = {"active": "#27ae60", "failed": "#c0392b", "candidate": "#f1c40f"}
RETIRED_FILL = "#ffffff"  # retired versions: a hollow dot in the tenant's colour
STATUS_LEGEND = (
    ("active", STATUS_FILL["active"]),
    ("candidate", STATUS_FILL["candidate"]),
    ("retired", RETIRED_FILL),
    ("failed", STATUS_FILL["failed"]),
)
X_TITLE = "model version"
Y_TITLE = "validation nDCG@10"
MAX_X_TICKS = 12


def _x_ticks(n_min: int, n_max: int) -> list[int]:
    """At most :data:`MAX_X_TICKS` integer versions from ``n_min`` to ``n_max`` (both kept)."""
    span = n_max - n_min
    step = max(1, -(-span // (MAX_X_TICKS - 1)))
    ticks = list(range(n_min, n_max + 1, step))
    if ticks[-1] != n_max:
        ticks.append(n_max)
    return ticks


def gate_metric_svg(
    series: dict[str, list[tuple[int, float | None, str]]],
    *,
    width: int = 760,
    height: int = 260,
    title: str = "Validation nDCG@10 by version",
) -> SafeString:
    """``series``: label → [(version number, metric or None, status)], oldest first.

    One polyline per label; a dot per version (green = active, yellow = candidate, hollow =
    retired, red = failed). Versions without a metric are skipped.
    """
    points = [(n, v) for rows in series.values() for n, v, _ in rows if v is not None]
    if not points:
        return mark_safe('<p class="m6rec-chart-empty">No versions with a gate metric yet.</p>')
    pad_l, pad_r, pad_t, pad_b = 64, 150, 30, 44
    n_min = min(n for n, _ in points)
    n_max = max(n for n, _ in points)
    v_min = min(v for _, v in points)
    v_max = max(v for _, v in points)
    if v_max - v_min < 1e-6:
        v_min, v_max = v_min - 0.01, v_max + 0.01
    span_n = max(n_max - n_min, 1)
    plot_r, plot_b = width - pad_r, height - pad_b

    def x(n: int) -> float:
        if n_max == n_min:
            return (pad_l + plot_r) / 2
        return pad_l + (n - n_min) / span_n * (plot_r - pad_l)

    def y(v: float) -> float:
        return pad_t + (1 - (v - v_min) / (v_max - v_min)) * (plot_b - pad_t)

    mid_y = (pad_t + plot_b) / 2
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="m6rec-gate-chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{escape(title)}" font-family="sans-serif">',
        f"<title>{escape(title)}</title>",
        f'<text x="{pad_l}" y="18" font-size="13" font-weight="bold">{escape(title)}</text>',
        # axes
        f'<line x1="{pad_l}" y1="{plot_b}" x2="{plot_r}" y2="{plot_b}" stroke="#999"/>',
        f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{plot_b}" stroke="#999"/>',
        # y ticks (min, middle, max) and title
        *(
            f'<text x="{pad_l - 6}" y="{y(v) + 4:.1f}" font-size="11" text-anchor="end">'
            f"{v:.3f}</text>"
            for v in (v_max, (v_min + v_max) / 2, v_min)
        ),
        f'<text class="m6rec-axis-title" x="14" y="{mid_y:.1f}" font-size="11" '
        f'text-anchor="middle" transform="rotate(-90 14 {mid_y:.1f})">{Y_TITLE}</text>',
        # x ticks and title
        *(
            f'<text x="{x(n):.1f}" y="{plot_b + 15}" font-size="11" text-anchor="middle">'
            f"v{n}</text>"
            for n in _x_ticks(n_min, n_max)
        ),
        f'<text class="m6rec-axis-title" x="{(pad_l + plot_r) / 2:.1f}" y="{height - 6}" '
        f'font-size="11" text-anchor="middle">{X_TITLE}</text>',
    ]
    legend = ['<g class="m6rec-legend" font-size="11">']
    lx, ly = plot_r + 16, pad_t + 4
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
                f'fill="{STATUS_FILL.get(s, RETIRED_FILL)}" stroke="{color}" stroke-width="2">'
                f"<title>{escape(label)} v{n}: {v:.4f} ({escape(s)})</title></circle>"
            )
        if idx < len(COLORS):  # more tenants than colours: the legend names the first six
            legend.append(
                f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 18}" y2="{ly - 4}" stroke="{color}" '
                f'stroke-width="2"/><text x="{lx + 24}" y="{ly}">{escape(label)}</text>'
            )
            ly += 16
    ly += 6
    for status, fill in STATUS_LEGEND:
        legend.append(
            f'<circle cx="{lx + 9}" cy="{ly - 4}" r="4" fill="{fill}" stroke="#555"/>'
            f'<text x="{lx + 24}" y="{ly}">{status}</text>'
        )
        ly += 16
    legend.append("</g>")
    parts.extend(legend)
    parts.append("</svg>")
    return format_html('<div class="m6rec-chart">{}</div>', mark_safe("".join(parts)))  # noqa: S308
