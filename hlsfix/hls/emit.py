"""KernelProgram → Vivado/Vitis HLS C++: the top function, its header, the constants and the TCL.

Python decides every value (kernel template arguments, array offsets, lane counts from the cost
model, partition factors, interface pragmas and the reason for each); the Jinja2 templates in
``hlsfix/hls_templates`` only lay them out. The kernels themselves are the hand-written C++
templates of ``hlsfix_hls_kernels.h``.

Every buffer is its own array (HLS maps each to a block RAM, LUT RAM or registers and can
partition it), not a slice of one byte arena as on a microcontroller. The input is copied into a
local array first, so every interface (ap_memory, AXI4-Lite, AXI4-Stream) reads it once, in order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np

from hlsfix.backend_common import (
    KernelWalker,
    addsub_op,
    bcast_mode,
    c_type,
    conv2d_geometry,
    describe,
    int_list,
    int_rows,
    maxpool_geometry,
    output_buffer,
    row_major_strides,
    select_test,
    template_env,
    window_geometry,
)
from hlsfix.errors import HlsfixError
from hlsfix.escape import c_comment
from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.golden import round_const
from hlsfix.fixedpoint.program import KernelProgram, Ref
from hlsfix.hls.cost import UnrollPlan
from hlsfix.hls.pragmas import interface_pragmas, partition_pragmas

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "hls_templates"
KERNEL_HEADER = "hlsfix_hls_kernels.h"
REGISTER_TYPE = "int32_t"


class UnsupportedHlsProgram(HlsfixError):
    """A program the HLS backend cannot express without undefined behaviour."""


def env() -> jinja2.Environment:
    return template_env(TEMPLATES_DIR)


def cpp_int(v: int, bits: int) -> str:
    """A literal of an intN_t, typed so that no implicit int promotion changes it."""
    if v == -(1 << (bits - 1)):
        return f"INT{bits}_MIN"
    return f"INT64_C({v})" if bits == 64 else f"int{bits}_t({v})"


class _Emitter(KernelWalker):
    error = UnsupportedHlsProgram
    input_name = "x_in"

    def __init__(self, program: KernelProgram, plan: UnrollPlan) -> None:
        super().__init__(program)
        self.plan = plan
        self.partitions: dict[str, list[tuple[int, str]]] = {}  # buffer -> (factor, reader)
        self.loop_labels: set[str] = set()

    # -- views ---------------------------------------------------------------------------
    def offset(self, ref: Ref) -> str:
        b = self.bufs[ref.buffer]
        if ref.offset + ref.length > b.size and ref.index is None:
            raise UnsupportedHlsProgram(f"view of {b.name} must lie inside its {b.size} elements")
        expr = str(ref.offset)
        if ref.index is not None and ref.stride:
            expr = (
                f"{ref.stride} * {ref.index}"
                if not ref.offset
                else f"{ref.offset} + {ref.stride} * {ref.index}"
            )
        return expr

    def view(self, ref: Ref) -> str:
        return f"{self.cname(ref.buffer)}, {self.offset(ref)}"

    def partition(self, buf: str, factor: int, reader: str) -> None:
        if factor > 1:
            self.partitions.setdefault(buf, []).append((factor, reader))

    def wtype(self, wide: int) -> str:
        return f"int{wide}_t"

    def rc(self, k: kp.Kernel, shift: int, wide: int) -> str:
        """The kernel's rounding constant (golden.round_const), a literal of its wide type."""
        return cpp_int(round_const(shift, getattr(k, "round_out", False)), wide)

    # -- kernels ---------------------------------------------------------------------------
    def loop_comment(self, k: kp.Loop, label: str, ind: str) -> None:
        name = f"loop_{k.index}"
        while name in self.loop_labels:
            name += "_"
        self.loop_labels.add(name)
        self.call(f"{ind}// {c_comment(label)}" if label else f"{ind}// a loop of the program")
        self.call(f"{ind[:-4]}{name}:")

    def kernel_comment(self, kind: str, label: str) -> str | None:
        if not label:
            return f"// {kind}"
        label = c_comment(label)
        return f"// {label}" if kind in label else f"// {label}: {kind}"

    def lanes(self, step: int) -> int:
        return self.plan.factors.get(step, 1)

    def lanes_comment(self, step: int, what: str) -> None:
        m = next(m for m in self.plan.loops if m.step == step)
        u = self.lanes(step)
        self.call(
            f"// {u} lane{'s' if u > 1 else ''} ({what}): {u * m.lane_dsp} DSP48, "
            f"MAC cycles per inference: {m.cycles(u)} (cost model, hlsfix/hls/cost.py)"
        )

    def k_MatMul(self, k: kp.MatMul, step: int) -> None:
        self.no_alias(k, k.out)
        self.check_shift(k.prod_shift, k.wide, "product")
        u = self.lanes(step)
        key = f"matmul_{k.out}@{step}"
        self.partition(k.a.buffer, u, key)
        self.partition(k.b.buffer, u * k.n, key)
        self.lanes_comment(step, f"{k.k}-long dot products")
        self.call(
            f"hlsfix::matmul<{self.wtype(k.wide)}, {k.m}, {k.k}, {k.n}, {u}>({self.view(k.a)}, "
            f"{self.view(k.b)}, {self.cname(k.out)}, {k.prod_shift}, {k.out_shift}, "
            f"{self.rc(k, k.out_shift, k.wide)});"
        )

    def k_SparseMatVec(self, k: kp.SparseMatVec, step: int) -> None:
        self.no_alias(k, k.out)
        self.check_shift(k.prod_shift, k.wide, "product")
        self.call(
            f"hlsfix::spmv<{self.wtype(k.wide)}, {k.rows}, {k.cols}>({self.cname(k.values)}, "
            f"{self.cname(k.row_index)}, {self.cname(k.col_start)}, {self.view(k.x)}, {self.cname(k.out)}, "
            f"{k.prod_shift}, {k.out_shift}, {self.rc(k, k.out_shift, k.wide)});"
        )

    def k_Conv2d(self, k: kp.Conv2d, step: int) -> None:
        self.no_alias(k, k.out)
        self.check_shift(k.prod_shift, k.wide, "product")
        u = self.lanes(step)
        self.partition(k.filters.buffer, u, f"conv2d_{k.out}@{step}")
        geom = [*conv2d_geometry(k), u]
        self.lanes_comment(step, f"output channels of {k.filter_shape[4]}")
        self.call(
            f"hlsfix::conv2d<{self.wtype(k.wide)}, {', '.join(map(str, geom))}>({self.view(k.x)}, "
            f"{self.view(k.filters)}, {self.cname(k.out)}, {k.prod_shift}, {k.out_shift}, "
            f"{self.rc(k, k.out_shift, k.wide)});"
        )

    def _binary_head(self, k: kp.AddSub | kp.Mul, fn: str) -> str:
        self.elementwise_alias(k, k.out)
        return (
            f"hlsfix::{fn}<{self.wtype(k.wide)}, {k.n}, {bcast_mode(k, 'hlsfix::')}, {max(k.b.length, 1)}>("
            f"{self.view(k.a)}, {self.view(k.b)}, {self.cname(k.out)}"
        )

    def k_AddSub(self, k: kp.AddSub, step: int) -> None:
        for s in (k.a_shift, k.b_shift, k.out_shift):
            self.check_shift(s, k.wide, "operand")
        head = self._binary_head(k, "addsub")
        rc = self.rc(k, k.out_shift, k.wide)
        self.call(f"{head}, {addsub_op(k)}, {k.a_shift}, {k.b_shift}, {k.out_shift}, {rc});")

    def k_Mul(self, k: kp.Mul, step: int) -> None:
        self.call(f"{self._binary_head(k, 'mul')}, {k.out_shift}, {self.rc(k, k.out_shift, k.wide)});")

    def k_Rescale(self, k: kp.Rescale, step: int) -> None:
        self.elementwise_alias(k, k.out)
        wide = 64 if self.bufs[k.x.buffer].fmt.bits == 32 else 32
        self.call(
            f"hlsfix::rescale<{self.wtype(wide)}, {k.n}>({self.view(k.x)}, {self.cname(k.out)}, "
            f"{k.shift}, {'true' if k.negate else 'false'}, {self.rc(k, k.shift, wide)});"
        )

    def k_Clamp(self, k: kp.Clamp, step: int) -> None:
        self.elementwise_alias(k, k.out)
        self.same_type(k, k.x.buffer, k.out)
        fmt = self.bufs[k.out].fmt
        lo = fmt.qmin if k.lo is None else min(max(k.lo, fmt.qmin), fmt.qmax)
        hi = fmt.qmax if k.hi is None else max(min(k.hi, fmt.qmax), fmt.qmin)
        self.call(
            f"hlsfix::clamp<{k.n}>({self.view(k.x)}, {self.cname(k.out)}, "
            f"{cpp_int(lo, fmt.bits)}, {cpp_int(hi, fmt.bits)});"
        )

    def _gather(self, k: kp.Kernel, x: Ref, out: str, base: str, dims: list[int], strides: list[int]) -> None:
        self.no_alias(k, out)
        self.same_type(k, x.buffer, out)
        if not dims:
            dims, strides = [1], [0]
        total = math.prod(dims)
        self.call("{")
        self.call(f"    static const int dims[{len(dims)}] = {{{', '.join(map(str, dims))}}};")
        self.call(f"    static const int strides[{len(dims)}] = {{{', '.join(map(str, strides))}}};")
        base = base if x.offset == 0 and x.index is None else f"{self.offset(x)} + {base}"
        self.call(
            f"    hlsfix::gather<{len(dims)}, {total}>({self.cname(x.buffer)}, {base}, dims, strides, "
            f"{self.cname(out)});"
        )
        self.call("}")

    def k_Permute(self, k: kp.Permute, step: int) -> None:
        in_strides = row_major_strides(k.in_shape)
        self._gather(k, k.x, k.out, "0", [k.in_shape[p] for p in k.perm], [in_strides[p] for p in k.perm])

    def k_Window(self, k: kp.Window, step: int) -> None:
        terms, dims, strides = window_geometry(k)
        self._gather(k, k.x, k.out, " + ".join(terms) or "0", dims, strides)

    def k_MaxPool(self, k: kp.MaxPool, step: int) -> None:
        self.no_alias(k, k.out)
        self.same_type(k, k.x.buffer, k.out)
        geom = maxpool_geometry(k)
        self.call(f"hlsfix::maxpool<{', '.join(map(str, geom))}>({self.view(k.x)}, {self.cname(k.out)});")

    def k_Exp(self, k: kp.Exp, step: int) -> None:
        self.elementwise_alias(k, k.out)
        self.check_exp(k)
        self.call(
            f"hlsfix::exponential<{self.wtype(k.wide)}, {k.n}>({self.view(k.x)}, {self.cname(k.out)}, "
            f"{cpp_int(k.x_top, k.wide)}, {k.k}, {k.t}, {self.cname(k.hi)}, {self.cname(k.lo)}, "
            f"{k.table_shift});"
        )

    def k_SigmoidTanh(self, k: kp.SigmoidTanh, step: int) -> None:
        self.elementwise_alias(k, k.out)
        self.check_sigmoid_tanh(k)
        self.call(
            f"hlsfix::sigmoid_tanh<{self.wtype(k.wide)}, {k.n}>({self.view(k.x)}, {self.cname(k.out)}, "
            f"{'true' if k.fn == 'tanh' else 'false'}, {k.arg_shift}, {k.k}, {k.t}, {self.cname(k.hi)}, "
            f"{self.cname(k.lo)}, {k.table_shift}, {k.e_frac}, {k.out_frac});"
        )

    def k_HardSigmoidTanh(self, k: kp.HardSigmoidTanh, step: int) -> None:
        self.elementwise_alias(k, k.out)
        w = k.wide
        self.call(
            f"hlsfix::hard_sigmoid_tanh<{self.wtype(w)}, {k.n}>({self.view(k.x)}, {self.cname(k.out)}, "
            f"{k.shift}, {cpp_int(k.half, w)}, {cpp_int(k.lo, w)}, {cpp_int(k.hi, w)});"
        )

    def k_Fill(self, k: kp.Fill, step: int) -> None:
        fmt = self.bufs[k.out].fmt
        value = min(max(k.value, fmt.qmin), fmt.qmax)  # the golden model saturates the value
        self.call(f"hlsfix::fill<{self.bufs[k.out].size}>({self.cname(k.out)}, {cpp_int(value, fmt.bits)});")

    def k_Argmax(self, k: kp.Argmax, step: int) -> None:
        self.call(f"{k.out} = hlsfix::argmax<{k.x.length}>({self.view(k.x)});")

    def first(self, ref: Ref) -> str:
        return f"{self.cname(ref.buffer)}[{self.offset(ref)}]"

    def k_Sgn(self, k: kp.Sgn, step: int) -> None:
        self.call(f"{k.out} = {self.first(k.x)} > 0 ? 1 : 0;")

    def k_IntOp(self, k: kp.IntOp, step: int) -> None:
        if k.op == "=":
            self.call(f"{k.out} = {k.a};")
            return
        self.call(f"{k.out} = {REGISTER_TYPE}(int64_t({k.a}) {k.op} int64_t({k.b}));")

    def k_Select(self, k: kp.Select, step: int) -> None:
        bits = self.bufs[k.x.buffer].fmt.bits
        cond = select_test(self.first(k.x), k.threshold, bits, lambda t: cpp_int(t, 32))
        if k.is_int:
            self.call(f"{k.out} = {cond} ? {k.a} : {k.b};")
            return
        for src in (str(k.a), str(k.b)):
            self.same_type(k, src, k.out)
            if src == k.out:
                raise UnsupportedHlsProgram(f"Select must not copy {src} onto itself")
        a, b = (f"hlsfix::copy<{k.n}>({self.cname(str(s))}, 0, {self.cname(k.out)});" for s in (k.a, k.b))
        self.if_else(cond, a, b)


@dataclass(frozen=True)
class HlsSources:
    files: dict[str, str]  # file name -> text
    plan: UnrollPlan


def emit_hls(
    program: KernelProgram,
    plan: UnrollPlan,
    interface: str,
    x_q: np.ndarray,
    expected: np.ndarray,
    *,
    part: str,
    clock_ns: float,
) -> HlsSources:
    """The HLS project's files: model_top.cpp/.h, model_constants.h, the kernel header, tb.cpp
    (checking ``expected`` for every row of ``x_q``) and run_hls.tcl."""
    if len(x_q) == 0:
        raise UnsupportedHlsProgram("the testbench must check at least one input")
    interface_prags = interface_pragmas(interface)
    em = _Emitter(program, plan)
    em.block(program.kernels, 1)
    inb = program.input_buffer
    input_used = inb.name in em.used
    out_buf = output_buffer(program)
    temps = [
        {"name": em.cname(b.name), "ctype": c_type(b.fmt), "size": b.size, "comment": describe(b)}
        for b in program.buffers
        if b.kind == "temp" and b.name in em.used
    ]
    consts = [
        {
            "name": em.cname(b.name),
            "ctype": c_type(b.fmt),
            "size": b.size,
            "comment": describe(b),
            "rows": int_rows(program.constants[b.name]),
        }
        for b in program.buffers
        if b.kind == "const" and b.name in em.used
    ]
    out_ctype = c_type(out_buf.fmt) if out_buf else REGISTER_TYPE
    out_size = out_buf.size if out_buf else 1
    ctx = {
        "name": program.name,
        "bits": program.bits,
        "part": part,
        "clock_ns": f"{clock_ns:g}",
        "interface": interface,
        "in_ctype": c_type(inb.fmt),
        "in_size": inb.size,
        "in_comment": describe(inb),
        "input_used": input_used,
        "is_class": program.output_is_class,
        "output": program.output,
        "out_ctype": out_ctype,
        "out_size": out_size,
        "out_cname": em.cname(out_buf.name) if out_buf else "",
        "out_comment": describe(out_buf) if out_buf else f"the class (register {program.output})",
        "temps": temps,
        "consts": consts,
        "registers": list(program.registers),
        "interface_pragmas": interface_prags,
        "partition_pragmas": partition_pragmas(em.partitions, em.bufs, em.cname),
        "body": em.lines,
        "estimated_lut": plan.lut,
        "estimated_dsp": plan.dsp,
        "n_tests": len(x_q),
        "tb_inputs": [int_list(row) for row in np.asarray(x_q).reshape(len(x_q), -1)],
        "tb_expected": [int_list(row) for row in np.asarray(expected).reshape(len(x_q), -1)],
        "kernel_header": KERNEL_HEADER,
    }
    e = env()
    files = {
        "model_top.h": e.get_template("model_top.h.j2").render(**ctx),
        "model_top.cpp": e.get_template("model_top.cpp.j2").render(**ctx),
        "model_constants.h": e.get_template("model_constants.h.j2").render(**ctx),
        "tb.cpp": e.get_template("tb.cpp.j2").render(**ctx),
        "run_hls.tcl": e.get_template("run_hls.tcl.j2").render(**ctx),
        KERNEL_HEADER: (TEMPLATES_DIR / KERNEL_HEADER).read_text(),
    }
    return HlsSources(files, plan)


def write_sources(sources: HlsSources, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in sources.files.items():
        (out_dir / name).write_text(text)
        paths.append(out_dir / name)
    return paths
