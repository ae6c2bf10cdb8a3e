"""Static memory planning: one compile-time arena for all intermediate tensors."""

from hlsfix.memory.planner import ArenaPlan, Buffer, check_plan, lower_bound, plan_arena
from hlsfix.memory.plot import render_plan_png, render_plan_svg_text

__all__ = [
    "ArenaPlan",
    "Buffer",
    "check_plan",
    "lower_bound",
    "plan_arena",
    "render_plan_png",
    "render_plan_svg_text",
]
