"""What the C backend (``hlsfix.mcu``) and the HLS backend (``hlsfix.hls``) share.

The walk over a KernelProgram (labels, step numbers, indentation, ``k_<Kernel>`` dispatch), buffer
names, the checks that keep the generated code free of undefined behaviour, C literal formatting,
C type names per Format and the Jinja2 environment. What each backend emits for a kernel (calls,
views, comments, pragmas) stays in its own emitter.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path

import jinja2
import numpy as np

from hlsfix import escape
from hlsfix.errors import HlsfixError
from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.program import Buffer, Format, KernelProgram

C_TYPES: dict[int, str] = {8: "int8_t", 16: "int16_t", 32: "int32_t"}


def c_type(fmt: Format) -> str:
    """The C integer type of one element of a buffer of format ``fmt``."""
    return C_TYPES[fmt.bits]


def template_env(directory: Path) -> jinja2.Environment:
    """The Jinja2 environment of a backend's templates: undefined names are errors; the escaping
    functions of ``hlsfix.escape`` are its filters (a user's name is never printed raw)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(directory)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(escape.FILTERS)
    return env


def int_list(values: Iterable[int] | np.ndarray) -> str:
    """``1, -2, 3``: integers as a C initialiser list (no braces)."""
    return ", ".join(str(int(v)) for v in np.asarray(values).reshape(-1))


def rows(literals: list[str], per_line: int = 16) -> list[str]:
    """Literals joined ``per_line`` to a line of a C initialiser."""
    return [", ".join(literals[i : i + per_line]) for i in range(0, len(literals), per_line)]


def int_rows(values: np.ndarray, per_line: int = 16) -> list[str]:
    """The lines of a C initialiser of integer constants."""
    return rows([str(int(v)) for v in np.asarray(values).reshape(-1)], per_line)


def describe(b: Buffer) -> str:
    """A buffer's comment: ``W1: [16, 32], 16-bit, frac 12``."""
    return f"{b.name}: {list(b.shape)}, {b.fmt.bits}-bit, frac {b.fmt.frac}"


def output_buffer(program: KernelProgram) -> Buffer | None:
    """The output tensor, or None when the program outputs a class (a register)."""
    return None if program.output_is_class else program.buffer(program.output)


def select_test(lhs: str, threshold: int, bits: int, literal: Callable[[int], str]) -> str:
    """The C condition ``lhs >= threshold`` of a Select on a ``bits``-wide operand.

    Lowering clamps the threshold to [qmin, qmax + 1]; at the ends the comparison is decided by the
    type alone (always true at qmin, always false above qmax), so it is emitted as ``1`` or ``0``:
    casting qmax + 1 into the operand's type would wrap it, and comparing with qmin trips
    -Wtype-limits."""
    qmin, qmax = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if threshold <= qmin:
        return "1"
    if threshold > qmax:
        return "0"
    return f"{lhs} >= {literal(threshold)}"


def row_major_strides(shape: tuple[int, ...]) -> list[int]:
    """Element strides of a C-order array of ``shape``."""
    return [math.prod(shape[i + 1 :]) for i in range(len(shape))]


def conv2d_geometry(k: kp.Conv2d) -> list[int]:
    """n, h, w, c, groups, hf, wf, cin per group, cout, ho, wo, strides, pads (top, left), dilations."""
    n, h, w, c = k.in_shape
    g, hf, wf, cin_g, cout = k.filter_shape
    _, ho, wo, _ = k.out_shape
    return [n, h, w, c, g, hf, wf, cin_g, cout, ho, wo, *k.strides, k.pads[0], k.pads[2], *k.dilations]


def maxpool_geometry(k: kp.MaxPool) -> list[int]:
    """n, h, w, c, ho, wo, kernel, strides, pads (top, left)."""
    n, h, w, c = k.in_shape
    _, ho, wo, _ = k.out_shape
    return [n, h, w, c, ho, wo, *k.kernel, *k.strides, k.pads[0], k.pads[2]]


def window_geometry(k: kp.Window) -> tuple[list[str], list[int], list[int]]:
    """A Window as a gather: the C terms of its start offset (one per spliced dimension), then
    the dims and strides walked. A splice may give fewer ranges than x has dimensions: the rest
    are taken whole."""
    in_strides = row_major_strides(k.in_shape)
    terms = [
        f"{s} * {st}" if st != 1 else str(s)
        for s, st in zip(k.starts, in_strides[: len(k.starts)], strict=True)
    ]
    return terms, [*k.sizes, *k.in_shape[len(k.sizes) :]], in_strides


def bcast_mode(k: kp.AddSub | kp.Mul, prefix: str) -> str:
    """The kernels' broadcast constant of ``b``: ``<prefix>BCAST_FULL``/``_SCALAR``/``_LASTDIM``."""
    return f"{prefix}BCAST_{k.b_mode.upper()}"


def addsub_op(k: kp.AddSub) -> int:
    """The kernels' operation code: 0 is a + b, 1 is a - b, 2 is b - a."""
    return 0 if not k.subtract else (2 if k.b_first else 1)


class KernelWalker:
    """Walks a KernelProgram into indented lines of C: each kernel ``K`` goes to the subclass's
    ``k_K(kernel, step)``, whose lines are indented to the loop depth and preceded by the comment
    ``kernel_comment`` gives; loops become C ``for`` loops over their register."""

    error: type[HlsfixError] = HlsfixError  # raised for a program the backend cannot express
    input_name = "x"  # the C name of the input buffer

    def __init__(self, program: KernelProgram) -> None:
        self.p = program
        self.bufs = {b.name: b for b in program.buffers}
        self.lines: list[str] = []
        self.labels = list(program.labels)
        self.step = 0
        self.used: dict[str, None] = {}  # buffers the generated code names (unused constants are left out)

    # -- names -----------------------------------------------------------------------------
    def cname(self, buf: str) -> str:
        self.used[buf] = None
        kind = self.bufs[buf].kind
        return self.input_name if kind == "input" else ("k_" if kind == "const" else "b_") + buf

    def call(self, text: str) -> None:
        self.lines.append(text)

    def if_else(self, cond: str, then: str, otherwise: str) -> None:
        self.call(f"if ({cond}) {{")
        self.call(f"    {then}")
        self.call("} else {")
        self.call(f"    {otherwise}")
        self.call("}")

    # -- the walk --------------------------------------------------------------------------
    def loop_comment(self, k: kp.Loop, label: str, ind: str) -> None:
        """Lines before a loop's ``for``."""
        raise NotImplementedError

    def kernel_comment(self, kind: str, label: str) -> str | None:
        """The comment line before a kernel's lines (None: no comment)."""
        raise NotImplementedError

    def block(self, kernels: tuple[kp.Kernel, ...], depth: int) -> None:
        for k in kernels:
            label = self.labels[self.step] if self.step < len(self.labels) else ""
            step = self.step
            self.step += 1
            ind = "    " * depth
            if isinstance(k, kp.Loop):
                self.loop_comment(k, label, ind)
                self.call(f"{ind}for ({k.index} = {k.start}; {k.index} < {k.stop}; {k.index}++) {{")
                self.block(k.body, depth + 1)
                self.call(f"{ind}}}")
                continue
            before = len(self.lines)
            emit: Callable[[kp.Kernel, int], None] = getattr(self, "k_" + type(k).__name__)
            emit(k, step)
            new = self.lines[before:]
            del self.lines[before:]
            comment = self.kernel_comment(type(k).__name__, label)
            if comment is not None:
                self.call(ind + comment)
            self.lines.extend(ind + line for line in new)

    # -- checks ----------------------------------------------------------------------------
    def check_shift(self, s: int, wide: int, what: str) -> None:
        if not -(wide - 2) <= s <= wide - 2:
            raise self.error(f"{what} shift must be within ±{wide - 2}, not {s}")

    def no_alias(self, k: kp.Kernel, out: str) -> None:
        """Kernels that are not element-wise must not write a buffer they read."""
        if out in {r.buffer for r in k.reads()}:
            raise self.error(f"{type(k).__name__} must not write its own input {out}")

    def elementwise_alias(self, k: kp.Kernel, out: str) -> None:
        """An element-wise kernel may write its input only through the same, whole view."""
        for r in k.reads():
            if r.buffer == out and (r.index is not None or r.offset or r.length != self.bufs[out].size):
                raise self.error(f"{type(k).__name__} reads {out} through a moved view while writing it")
        if isinstance(k, kp.AddSub | kp.Mul) and k.b.buffer == out and k.b_mode != "full":
            raise self.error(f"{type(k).__name__} broadcasts {out} while writing it")

    def same_type(self, k: kp.Kernel, a: str, b: str) -> None:
        if self.bufs[a].fmt.bits != self.bufs[b].fmt.bits:
            raise self.error(f"{type(k).__name__}: {a} and {b} must have one element width")

    def check_tables(self, k: kp.Exp | kp.SigmoidTanh) -> None:
        for name in (k.hi, k.lo):
            if np.asarray(self.p.constants[name]).min() < 0:
                raise self.error(f"exp table {name} must be non-negative")
        if not 0 < 2 * k.t <= k.wide - 2:
            raise self.error(f"exp table bits must be within 1..{(k.wide - 2) // 2}, not {k.t}")

    def check_exp(self, k: kp.Exp) -> None:
        self.check_tables(k)
        if abs(k.x_top) >= 1 << (k.wide - 2):
            raise self.error(f"exp x_top must fit int{k.wide} with headroom, not {k.x_top}")

    def check_sigmoid_tanh(self, k: kp.SigmoidTanh) -> None:
        self.check_tables(k)
        if self.bufs[k.x.buffer].fmt.bits == 32 and k.wide == 32:
            raise self.error("sigmoid/tanh of an int32 value must use the 64-bit wide type")
        self.check_shift(k.arg_shift, k.wide, "argument")
        for s in (k.e_frac, k.out_frac):
            self.check_shift(s, k.wide, "fraction")
