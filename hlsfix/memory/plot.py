"""Pictures of an arena plan: time on x, byte address on y, one rectangle per buffer.

Both renderers draw the same picture: the PNG goes through matplotlib (imported lazily, so
the planner itself never needs it), the SVG is hand-written text for embedding in an HTML
report without any plotting dependency.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from hlsfix.memory.planner import ArenaPlan, Buffer

# A qualitative palette (matplotlib's tab10) so neighbouring buffers stay distinguishable.
_PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def _summary(plan: ArenaPlan) -> str:
    return f"arena {plan.arena_bytes} B, lower bound {plan.lower_bound_bytes} B"


def _time_range(buffers: Sequence[Buffer]) -> tuple[int, int]:
    # A buffer live on steps start..end covers [start, end + 1) on the x axis.
    if not buffers:
        return 0, 1
    return min(b.start for b in buffers), max(b.end for b in buffers) + 1


def render_plan_png(buffers: Sequence[Buffer], plan: ArenaPlan, path: str | Path, title: str) -> None:
    """Write a PNG of the plan to `path`."""
    import matplotlib

    matplotlib.use("Agg")  # headless: the compiler runs in CI and on build servers
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    t0, t1 = _time_range(buffers)
    top = max(plan.arena_bytes, 1)
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    try:
        ax.set_xlim(t0, t1)
        ax.set_ylim(0, top * 1.08)
        ax.set_xlabel("time step")
        ax.set_ylabel("address (bytes)")
        ax.set_title(title)
        fig.tight_layout()  # fix the layout first so the label-fitting test below is accurate
        to_px = ax.transData.transform
        for k, b in enumerate(buffers):
            off = plan.offset(b.name)
            width = b.end + 1 - b.start
            ax.add_patch(
                Rectangle(
                    (b.start, off),
                    width,
                    b.size,
                    facecolor=_PALETTE[k % len(_PALETTE)],
                    edgecolor="black",
                    linewidth=0.6,
                    alpha=0.75,
                )
            )
            (x0, y0), (x1, y1) = to_px((b.start, off)), to_px((b.start + width, off + b.size))
            # Only label boxes that can hold the name (~6 px per character at fontsize 7).
            if x1 - x0 >= 6 * len(b.name) + 4 and y1 - y0 >= 10:
                ax.text(b.start + width / 2, off + b.size / 2, b.name, ha="center", va="center", fontsize=7)
        ax.axhline(plan.lower_bound_bytes, color="black", linestyle="--", linewidth=1)
        ax.axhline(plan.arena_bytes, color="black", linestyle="-", linewidth=1.2)
        handles = [
            Line2D([], [], color="black", linestyle="-", label="arena"),
            Line2D([], [], color="black", linestyle="--", label="lower bound"),
        ]
        # Outside the axes so the legend never hides a buffer.
        ax.legend(
            handles=handles,
            title=_summary(plan),
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            fontsize=8,
            title_fontsize=8,
        )
        fig.savefig(path, bbox_inches="tight")
    finally:
        plt.close(fig)


def _nice_ticks(hi: float, count: int = 5) -> list[int]:
    """Round tick values from 0 to at least ``hi``, about ``count`` of them (steps of 1, 2 or 5 × 10^k)."""
    if hi <= 0:
        return [0]
    raw = hi / count
    magnitude = 10 ** max(0, len(str(int(raw))) - 1)
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return list(range(0, int(hi) + 1, max(1, step)))


def render_plan_svg_text(
    buffers: Sequence[Buffer], plan: ArenaPlan, title: str, width: int = 720, height: int = 380
) -> str:
    """Return the plan as a standalone SVG document (a string)."""
    left, right, top_m, bottom = 70, 110, 36, 64
    plot_w, plot_h = width - left - right, height - top_m - bottom
    t0, t1 = _time_range(buffers)
    y_max = max(plan.arena_bytes, 1) * 1.08

    def sx(t: float) -> float:
        return left + (t - t0) / (t1 - t0) * plot_w

    def sy(addr: float) -> float:  # SVG y grows downwards, addresses grow upwards
        return top_m + plot_h - addr / y_max * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
        f'<text x="{width / 2:.1f}" y="22" text-anchor="middle" font-size="14">{escape(title)}</text>',
        f'<rect x="{left}" y="{top_m}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#888"/>',
    ]
    for value in _nice_ticks(y_max * 0.999):
        y = sy(value)
        out.append(f'<line x1="{left - 4}" y1="{y:.1f}" x2="{left}" y2="{y:.1f}" stroke="#888"/>')
        out.append(f'<text x="{left - 7}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{value}</text>')
    for t in _nice_ticks(t1 - t0, 8):
        x = sx(t0 + t)
        out.append(
            f'<line x1="{x:.1f}" y1="{top_m + plot_h}" x2="{x:.1f}" y2="{top_m + plot_h + 4}" stroke="#888"/>'
        )
        out.append(
            f'<text x="{x:.1f}" y="{top_m + plot_h + 16}" text-anchor="middle" font-size="10">{t0 + t}</text>'
        )
    for k, b in enumerate(buffers):
        off = plan.offset(b.name)
        x0, x1 = sx(b.start), sx(b.end + 1)
        y0, y1 = sy(off + b.size), sy(off)
        tip = f"{b.name}: {b.size} B at {off}, live {b.start}..{b.end}"
        out.append(
            f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" '
            f'fill="{_PALETTE[k % len(_PALETTE)]}" fill-opacity="0.75" stroke="black" stroke-width="0.6">'
            f"<title>{escape(tip)}</title></rect>"
        )
        if x1 - x0 >= 7 * len(b.name) + 4 and y1 - y0 >= 12:
            out.append(
                f'<text x="{(x0 + x1) / 2:.1f}" y="{(y0 + y1) / 2 + 4:.1f}" text-anchor="middle" '
                f'font-size="10">{escape(b.name)}</text>'
            )
    # The arena and the bound are labelled right of the plot, so no label covers a buffer.
    bound_y, arena_y = sy(plan.lower_bound_bytes), sy(plan.arena_bytes)
    if abs(bound_y - arena_y) < 12:
        bound_y = arena_y + 12
    for value, y_line, y_text, dash, name in (
        (plan.lower_bound_bytes, sy(plan.lower_bound_bytes), bound_y, ' stroke-dasharray="6 4"', "bound"),
        (plan.arena_bytes, arena_y, arena_y, "", "arena"),
    ):
        out.append(
            f'<line x1="{left}" y1="{y_line:.1f}" x2="{left + plot_w}" y2="{y_line:.1f}" '
            f'stroke="black"{dash}/>'
        )
        out.append(
            f'<text x="{left + plot_w + 6}" y="{y_text + 4:.1f}" font-size="10">{name} {value} B</text>'
        )
    legend_y = height - 12
    out += [
        f'<text x="{left + plot_w / 2:.1f}" y="{top_m + plot_h + 32}" text-anchor="middle" font-size="11">'
        "time step</text>",
        f'<text x="16" y="{top_m + plot_h / 2:.1f}" text-anchor="middle" font-size="11" '
        f'transform="rotate(-90 16 {top_m + plot_h / 2:.1f})">address (bytes)</text>',
        f'<line x1="{left}" y1="{legend_y - 4}" x2="{left + 24}" y2="{legend_y - 4}" stroke="black"/>',
        f'<text x="{left + 30}" y="{legend_y}" font-size="10">arena</text>',
        f'<line x1="{left + 80}" y1="{legend_y - 4}" x2="{left + 104}" y2="{legend_y - 4}" stroke="black" '
        'stroke-dasharray="6 4"/>',
        f'<text x="{left + 110}" y="{legend_y}" font-size="10">lower bound of this order</text>',
        f'<text x="{left + plot_w}" y="{legend_y}" text-anchor="end" font-size="10" '
        f"data-summary={quoteattr(_summary(plan))}>{escape(_summary(plan))}</text>",
        "</svg>",
    ]
    return "\n".join(out)
