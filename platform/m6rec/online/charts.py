"""Server-side SVG chart of a version's daily online rates (no JavaScript, no CDN): the
click-through and conversion rates per UTC day, each with its Wilson 95% band, axis titles
and a legend."""

from __future__ import annotations

from typing import Any

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

SERIES = (
    ("ctr", "click-through rate", "#417690"),
    ("conversion_rate", "conversion rate", "#27ae60"),
)


def online_rates_svg(metrics: dict[str, Any], *, width: int = 760, height: int = 240) -> SafeString:
    """``metrics``: :func:`m6rec.online.selectors.version_online_metrics`'s result."""
    days = [d for d in metrics.get("days", []) if d["impressions"] > 0]
    title = f"Online rates of v{metrics.get('version')} by day (95% intervals)"
    if not days:
        return mark_safe(
            '<p class="m6rec-chart-empty">No impressions yet: send recommendation_id with the '
            "interactions recommendations lead to (README, “The online loop”).</p>"
        )
    pad_l, pad_r, pad_t, pad_b = 64, 170, 30, 44
    plot_r, plot_b = width - pad_r, height - pad_b
    top = max(max(d[key]["high"] for d in days) for key, _, _ in SERIES) or 1.0
    n = len(days)

    def x(i: int) -> float:
        return (pad_l + plot_r) / 2 if n == 1 else pad_l + i / (n - 1) * (plot_r - pad_l)

    def y(v: float) -> float:
        return pad_t + (1 - v / top) * (plot_b - pad_t)

    mid_y = (pad_t + plot_b) / 2
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="m6rec-online-chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{escape(title)}" font-family="sans-serif">',
        f"<title>{escape(title)}</title>",
        f'<text x="{pad_l}" y="18" font-size="13" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{pad_l}" y1="{plot_b}" x2="{plot_r}" y2="{plot_b}" stroke="#999"/>',
        f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{plot_b}" stroke="#999"/>',
        *(
            f'<text x="{pad_l - 6}" y="{y(v) + 4:.1f}" font-size="11" text-anchor="end">'
            f"{v:.1%}</text>"
            for v in (top, top / 2, 0.0)
        ),
        f'<text class="m6rec-axis-title" x="14" y="{mid_y:.1f}" font-size="11" '
        f'text-anchor="middle" transform="rotate(-90 14 {mid_y:.1f})">rate per impression</text>',
        *(
            f'<text x="{x(i):.1f}" y="{plot_b + 15}" font-size="10" text-anchor="middle">'
            f"{escape(d['day'][5:])}</text>"
            for i, d in enumerate(days)
            if n <= 12 or i % max(1, n // 12) == 0
        ),
        f'<text class="m6rec-axis-title" x="{(pad_l + plot_r) / 2:.1f}" y="{height - 6}" '
        f'font-size="11" text-anchor="middle">day of the recommendation (UTC)</text>',
    ]
    ly = pad_t + 4
    for key, label, color in SERIES:
        band = [(x(i), y(d[key]["high"])) for i, d in enumerate(days)] + [
            (x(i), y(d[key]["low"])) for i, d in reversed(list(enumerate(days)))
        ]
        parts.append(
            f'<polygon fill="{color}" fill-opacity="0.15" stroke="none" points="'
            + " ".join(f"{a:.1f},{b:.1f}" for a, b in band)
            + '"/>'
        )
        coords = " ".join(f"{x(i):.1f},{y(d[key]['rate']):.1f}" for i, d in enumerate(days))
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{coords}"/>')
        for i, d in enumerate(days):
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(d[key]["rate"]):.1f}" r="3" fill="{color}">'
                f"<title>{escape(d['day'])} {label}: {d[key]['rate']:.2%} of "
                f"{d['impressions']} impressions</title></circle>"
            )
        parts.append(
            f'<line x1="{plot_r + 16}" y1="{ly - 4}" x2="{plot_r + 34}" y2="{ly - 4}" '
            f'stroke="{color}" stroke-width="2"/>'
            f'<text x="{plot_r + 40}" y="{ly}" font-size="11">{label}</text>'
        )
        ly += 16
    parts.append("</svg>")
    return format_html('<div class="m6rec-chart">{}</div>', mark_safe("".join(parts)))  # noqa: S308
