"""The charts of report.html, as inline SVG (no scripts, no links out): resources against the part's
capacity, cycles per kernel, and a co-design's host cycles."""

from __future__ import annotations

from html import escape

BAR_COLOURS = ("#4c78a8", "#f58518")


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def resources_svg(fpga: dict) -> str:
    """Horizontal bars: each resource's use as a share of the part, with the fit margin marked."""
    cap = fpga["capacity"]
    rows = [("LUT", "lut"), ("FF", "ff"), ("DSP48E1", "dsp"), ("BRAM36", "bram36")]
    left, width, bar_h, gap = 80, 420, 18, 10
    height = 30 + len(rows) * (bar_h + gap)
    body = []
    for i, (label, key) in enumerate(rows):
        y = 20 + i * (bar_h + gap)
        share = fpga[key] / cap[key] if cap[key] else 0.0
        w = min(share, 1.0) * width
        colour = BAR_COLOURS[0] if share <= fpga.get("margin", 0.9) else "#e45756"
        body += [
            f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{label}</text>',
            f'<rect x="{left}" y="{y}" width="{width}" height="{bar_h}" fill="#eee"/>',
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>',
            f'<text x="{left + width + 6}" y="{y + 13}">{fpga[key]:g} / {cap[key]} ({share:.1%})</text>',
        ]
    mx = left + fpga.get("margin", 0.9) * width
    body.append(
        f'<line x1="{mx:.1f}" y1="12" x2="{mx:.1f}" y2="{height - 4}" stroke="#333" stroke-dasharray="4 3"/>'
    )
    body.append(f'<text x="{mx:.1f}" y="10" text-anchor="middle">{fpga.get("margin", 0.9):.0%}</text>')
    return _svg(left + width + 190, height, body, "resources against capacity")


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
        ("chosen " + cd["simulated"]["partition"], cd["predicted"], cd["simulated"]),
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
