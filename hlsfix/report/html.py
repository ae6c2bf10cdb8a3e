"""The charts of report.html, as inline SVG (no scripts, no links out): cycles per kernel, and a
co-design's host cycles. (Capacities are bars in a table: see the template.)"""

from __future__ import annotations

from html import escape

BAR_COLOURS = ("#4c78a8", "#f58518")


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _legend(left: int, *entries: tuple[str, int]) -> list[str]:
    """A colour key above paired bars: (label, space it takes) per bar colour, left to right."""
    body, x = [], left
    for colour, (label, space) in zip(BAR_COLOURS, entries, strict=False):
        body.append(
            f'<rect x="{x}" y="4" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="13">{label}</text>'
        )
        x += space
    return body


def cycles_svg(per_kernel: list[dict]) -> str:
    """Measured and ideal cycles of each kernel, as paired horizontal bars."""
    if not per_kernel:
        return ""
    left, width, bar_h = 230, 380, 8
    top = 24
    most = max(max(k["cycles"], k["ideal"]) for k in per_kernel) or 1
    height = top + len(per_kernel) * (2 * bar_h + 6) + 10
    body = _legend(left, ("measured", 90), ("ideal ⌈work / P⌉", 0))
    for i, k in enumerate(per_kernel):
        y = top + i * (2 * bar_h + 6)
        name = k["kernel"] if len(k["kernel"]) <= 34 else k["kernel"][:33] + "…"
        body += [
            f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">{escape(name)}</text>',
            f'<rect x="{left}" y="{y}" width="{k["cycles"] / most * width:.1f}" height="{bar_h}" '
            f'fill="{BAR_COLOURS[0]}"/>',
            f'<rect x="{left}" y="{y + bar_h}" width="{k["ideal"] / most * width:.1f}" height="{bar_h}" '
            f'fill="{BAR_COLOURS[1]}"/>',
            f'<text x="{left + width + 6}" y="{y + 12}">{k["cycles"]} / {k["ideal"]}</text>',
        ]
    return _svg(left + width + 90, height, body, "cycles per kernel")


def codesign_svg(cd: dict) -> str:
    """Predicted and co-simulated host cycles of the chosen partition and the two baselines."""
    rows = [
        ("the chosen split", cd["predicted"], cd["simulated"]),
        ("all on the host", cd["baselines"]["all_mcu"], cd["baselines_simulated"]["all_mcu"]),
        ("all on the FPGA", cd["baselines"]["all_fpga"], cd["baselines_simulated"]["all_fpga"]),
    ]
    left, width, bar_h, top = 200, 380, 10, 24
    most = max(max(p["total_cycles"], s["total_cycles"]) for _, p, s in rows) or 1
    height = top + len(rows) * (2 * bar_h + 8) + 10
    body = _legend(left, ("co-simulated", 110), ("predicted", 0))
    for i, (label, pred, sim) in enumerate(rows):
        y = top + i * (2 * bar_h + 8)
        name = label if len(label) <= 28 else label[:27] + "…"
        body += [
            f'<text x="{left - 6}" y="{y + 14}" text-anchor="end">{escape(name)}</text>',
            f'<rect x="{left}" y="{y}" width="{sim["total_cycles"] / most * width:.1f}" height="{bar_h}" '
            f'fill="{BAR_COLOURS[0]}"/>',
            f'<rect x="{left}" y="{y + bar_h}" width="{pred["total_cycles"] / most * width:.1f}" '
            f'height="{bar_h}" fill="{BAR_COLOURS[1]}"/>',
            f'<text x="{left + width + 6}" y="{y + 14}">{sim["total_cycles"]:,.0f} / '
            f"{pred['total_cycles']:,.0f}</text>",
        ]
    return _svg(left + width + 150, height, body, "host cycles per inference")
