"""Small bar charts as server-rendered SVG (no script, no inline style: CSP-safe).

Text is escaped; colours are presentation attributes, the same as the workbook's
severity colours.
"""

from __future__ import annotations

from html import escape
from typing import Final

from markupsafe import Markup

__all__ = ["category_chart", "months_chart"]

#: severity -> fill (the correction list's red, amber, blue)
COLOURS: Final = {"error": "#c62828", "warning": "#e0a000", "info": "#1e66b0"}


def category_chart(rows: list[tuple[str, str, int, int, int]], width: int = 560) -> Markup:
    """Horizontal stacked bars, one per category: (category, label, error, warning, info)."""
    bar_h, gap, label_w, top = 18, 8, 290, 4
    total_max = max((e + w + i for _, _, e, w, i in rows), default=0) or 1
    scale = (width - label_w - 60) / total_max
    height = top + len(rows) * (bar_h + gap) + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="区分ごとの件数">'
    ]
    for n, (_, label, *counts) in enumerate(rows):
        y = top + n * (bar_h + gap)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + bar_h - 5}" text-anchor="end" font-size="12">{escape(label)}</text>'
        )
        x = float(label_w)
        for sev, count in zip(COLOURS, counts, strict=True):
            if count:
                w = max(count * scale, 1.0)
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{COLOURS[sev]}">'
                    f"<title>{count:,}件</title></rect>"
                )
                x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + bar_h - 5}" font-size="12">{sum(counts):,}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def months_chart(series: list[tuple[str, int]], current: str, width: int = 560, height: int = 170) -> Markup:
    """Vertical bars of findings per month (the last 12 months), the current month darker."""
    left, bottom, top = 8, 34, 18
    n = max(len(series), 1)
    slot = (width - left * 2) / n
    peak = max((c for _, c in series), default=0) or 1
    usable = height - bottom - top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="直近12か月の指摘件数">'
    ]
    for i, (month, count) in enumerate(series):
        h = count / peak * usable
        x = left + i * slot + slot * 0.15
        y = top + usable - h
        fill = "#1e66b0" if month == current else "#9bb8d8"
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" fill="{fill}">'
            f"<title>{escape(month)}: {count:,}件</title></rect>"
        )
        cx = x + slot * 0.35
        if count:
            parts.append(f'<text x="{cx:.1f}" y="{y - 4:.1f}" text-anchor="middle" font-size="11">{count:,}</text>')
        label = f"{int(month[5:7])}月" if len(month) == 7 else escape(month)
        parts.append(
            f'<text x="{cx:.1f}" y="{height - bottom + 16}" text-anchor="middle" font-size="11">{label}</text>'
        )
        if month.endswith("-01") or i == 0:
            parts.append(
                f'<text x="{cx:.1f}" y="{height - bottom + 30}" text-anchor="middle" font-size="10" '
                f'fill="#555">{escape(month[:4])}年</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
