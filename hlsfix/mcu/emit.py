"""KernelProgram + MemoryPlan → ``model.h`` / ``model.c`` calling the hand-written C kernels.

Python decides every value (C expressions of views, kernel variants, constant tables, arena
offsets); the Jinja2 templates in ``templates/`` only lay them out. The generated code has one
static arena (no malloc), constants marked HLSFIX_PROGMEM (flash on AVR), registers as int16_t
locals and the program's loops as C ``for`` loops (never unrolled).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2

from hlsfix.backend_common import (
    KernelWalker,
    addsub_op,
    bcast_mode,
    c_type,
    conv2d_geometry,
    describe,
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
from hlsfix.fixedpoint.program import Buffer, KernelProgram, Ref
from hlsfix.mcu.emit8 import TOKENS, Emit8, c_round
from hlsfix.mcu.narrow import Bounds, c_width
from hlsfix.memory.liveness import MemoryPlan, scratch_name

KERNELS_DIR = Path(__file__).parent / "kernels"
TEMPLATES_DIR = Path(__file__).parent / "templates"
# The kernel library a build copies beside model.c.
KERNEL_FILES = ("hlsfix_kernels.c", "hlsfix_kernels.h", "hlsfix_kernels8.h", "hlsfix_arith.h")
MAX_INDEX = 32767  # sizes and indices are int16_t in the kernels
# A 16-bit matrix-vector product of at least this many products takes HLSFIX_DEF_MATVEC16 (its
# dot-product loop pays off over the call it costs, measured on the zoo with simavr); smaller ones
# the general MatMul, which the compiler can inline and specialise.
MATVEC_MIN_PRODUCTS = 64


class UnsupportedProgram(HlsfixError):
    """A program the C backend cannot express without undefined behaviour."""


@dataclass(frozen=True)
class EmittedModel:
    header: str
    source: str
    sources: tuple[Path, ...]  # model.c plus the kernel library
    include_dirs: tuple[Path, ...]


def _env() -> jinja2.Environment:
    return template_env(TEMPLATES_DIR)


def c_int(v: int, bits: int) -> str:
    """An integer literal of a wide type (INT32_C/INT64_C: on AVR a bare literal is 16-bit int)."""
    return f"INT{bits}_C({v})" if v != -(1 << (bits - 1)) else f"INT{bits}_MIN"


class _Emitter(Emit8, KernelWalker):
    error = UnsupportedProgram
    input_name = "x"

    def __init__(self, program: KernelProgram, plan: MemoryPlan) -> None:
        super().__init__(program)
        self.plan = plan
        self.defs: dict[str, None] = {}  # ordered set of kernel-variant instantiations
        self.bounds = Bounds(program)
        self.extra_consts: dict[str, dict[str, object]] = {}  # constants the emitter re-laid out

    # -- names and views -------------------------------------------------------------------
    def space(self, buf: str) -> str:
        return "c" if self.bufs[buf].kind == "const" else "r"

    def tok(self, buf: str) -> str:
        return TOKENS[self.bufs[buf].fmt.bits]

    def view(self, ref: Ref) -> str:
        b = self.bufs[ref.buffer]
        last = ref.offset + ref.length
        if ref.index is not None:
            last += ref.stride * (b.size // max(ref.stride, 1))
        if b.size > MAX_INDEX or ref.offset > MAX_INDEX:
            raise UnsupportedProgram(f"buffer {b.name} must have at most {MAX_INDEX} elements, not {b.size}")
        expr = self.cname(ref.buffer)
        if ref.offset:
            expr += f" + {ref.offset}"
        if ref.index is not None and ref.stride:
            expr += f" + {ref.stride} * {ref.index}"
        return expr

    def operand(self, v: kp.IntOperand) -> str:
        return str(v)

    def dot_product(self, k: kp.MatMul | kp.SparseMatVec | kp.Conv2d, *operands: str) -> str:
        """Check a dot-product kernel's product shift and operand widths; its variant suffix.

        The product shift is a parameter of the kernel variant (a compile-time constant in the
        inner loop), and a 32-bit wide type means at most a 16 x 16 -> 32 multiply in the kernels;
        the suffix names the C width the kernel computes in (narrow.py: 16 where proven)."""
        if not 0 <= k.prod_shift <= k.wide - 2:
            raise UnsupportedProgram(f"product shift must be within 0..{k.wide - 2}, not {k.prod_shift}")
        for buf in operands:
            if k.wide == 32 and self.bufs[buf].fmt.bits > 16:
                raise UnsupportedProgram(
                    f"{type(k).__name__}: {buf} must have at most 16 bits for int32 products"
                )
        return f"_w{c_width(self.bounds, k)}_ps{k.prod_shift}"

    def use(self, macro: str, *args: str) -> None:
        self.defs[f"{macro}({', '.join(args)})"] = None

    # -- kernels ---------------------------------------------------------------------------
    def loop_comment(self, k: kp.Loop, label: str, ind: str) -> None:
        self.call(f"{ind}/* {c_comment(label)} */" if label else f"{ind}/* loop */")

    def kernel_comment(self, kind: str, label: str) -> str | None:
        return f"/* {c_comment(label)}: {kind} */" if label else None

    def k_MatMul(self, k: kp.MatMul, step: int) -> None:
        self.no_alias(k, k.out)
        suffix = self.dot_product(k, k.a.buffer, k.b.buffer)
        args = (self.tok(k.a.buffer), self.space(k.a.buffer), self.tok(k.b.buffer), self.space(k.b.buffer))
        matvec16 = k.n == 1 and k.wide == 32 and args[0] == args[2] == "i16" and args[3] == "r"
        if matvec16 and k.m * k.k >= MATVEC_MIN_PRODUCTS:
            # matrix times vector, 16-bit: the dot-product loop of HLSFIX_DEF_MATVEC16
            self.use("HLSFIX_DEF_MATVEC16", args[1], self.tok(k.out), str(k.prod_shift))
            self.call(
                f"hlsfix_matvec16_i16{args[1]}_{self.tok(k.out)}_ps{k.prod_shift}({self.view(k.a)}, "
                f"{self.view(k.b)}, {self.cname(k.out)}, {k.m}, {k.k}, {k.out_shift}, "
                f"{c_round(k, k.out_shift)});"
            )
            return
        wide = c_width(self.bounds, k)
        if self.matvec8(k, wide):
            return
        self.use("HLSFIX_DEF_MATMUL", *args, self.tok(k.out), str(wide), str(k.prod_shift))
        fn = f"hlsfix_matmul_{args[0]}{args[1]}_{args[2]}{args[3]}_{self.tok(k.out)}{suffix}"
        self.call(
            f"{fn}({self.view(k.a)}, {self.view(k.b)}, {self.cname(k.out)}, "
            f"{k.m}, {k.k}, {k.n}, {k.out_shift}, {c_round(k, k.out_shift)});"
        )

    def k_SparseMatVec(self, k: kp.SparseMatVec, step: int) -> None:
        self.no_alias(k, k.out)
        suffix = self.dot_product(k, k.values, k.x.buffer)
        tv, tr, tc = self.tok(k.values), self.tok(k.row_index), self.tok(k.col_start)
        tx, sx, to = self.tok(k.x.buffer), self.space(k.x.buffer), self.tok(k.out)
        acc = f"(int32_t *)(hlsfix_arena.bytes + {self.plan.offset(scratch_name(step))})"
        if k.wide == 32 and tv == tx == "i16" and tr in ("i8", "i16"):
            # 16-bit values and x: the column loop of HLSFIX_DEF_SPMV16
            self.use("HLSFIX_DEF_SPMV16", tr, tc, sx, to, str(k.prod_shift))
            self.call(
                f"hlsfix_spmv16_{tr}_{tc}_i16{sx}_{to}_ps{k.prod_shift}({self.cname(k.values)}, "
                f"{self.cname(k.row_index)}, {self.cname(k.col_start)}, {self.view(k.x)}, "
                f"{self.cname(k.out)}, {acc}, {k.rows}, {k.cols}, {k.out_shift}, {c_round(k, k.out_shift)});"
            )
            return
        if self.spmv_rows(k):
            return
        self.use("HLSFIX_DEF_SPMV", tv, tr, tc, tx, sx, to, str(k.wide), str(k.prod_shift))
        self.call(
            f"hlsfix_spmv_{tv}_{tr}_{tc}_{tx}{sx}_{to}{suffix}({self.cname(k.values)}, "
            f"{self.cname(k.row_index)}, {self.cname(k.col_start)}, {self.view(k.x)}, "
            f"{self.cname(k.out)}, {acc}, {k.rows}, {k.cols}, {k.out_shift}, {c_round(k, k.out_shift)});"
        )

    def k_Conv2d(self, k: kp.Conv2d, step: int) -> None:
        self.no_alias(k, k.out)
        suffix = self.dot_product(k, k.x.buffer, k.filters.buffer)
        tx, sx, tf, sf = (
            self.tok(k.x.buffer),
            self.space(k.x.buffer),
            self.tok(k.filters.buffer),
            self.space(k.filters.buffer),
        )
        to = self.tok(k.out)
        wide = c_width(self.bounds, k)
        if self.conv2d_co(k, wide):
            return
        self.use("HLSFIX_DEF_CONV2D", tx, sx, tf, sf, to, str(wide), str(k.prod_shift))
        geom = conv2d_geometry(k)
        self.call(
            f"hlsfix_conv2d_{tx}{sx}_{tf}{sf}_{to}{suffix}({self.view(k.x)}, {self.view(k.filters)}, "
            f"{self.cname(k.out)}, {', '.join(map(str, geom))}, {k.out_shift}, {c_round(k, k.out_shift)});"
        )

    def _binary(self, k: kp.AddSub | kp.Mul, macro: str, fn: str) -> str:
        self.elementwise_alias(k, k.out)
        args = (self.tok(k.a.buffer), self.space(k.a.buffer), self.tok(k.b.buffer), self.space(k.b.buffer))
        wide = c_width(self.bounds, k)
        self.use(macro, *args, self.tok(k.out), str(wide))
        return (
            f"hlsfix_{fn}_{args[0]}{args[1]}_{args[2]}{args[3]}_{self.tok(k.out)}_w{wide}("
            f"{self.view(k.a)}, {self.view(k.b)}, {self.cname(k.out)}, {k.n}, {k.b.length}, "
            f"{bcast_mode(k, 'HLSFIX_')}"
        )

    def k_AddSub(self, k: kp.AddSub, step: int) -> None:
        for s in (k.a_shift, k.b_shift):
            self.check_shift(s, k.wide, "operand")
        head = self._binary(k, "HLSFIX_DEF_ADDSUB", "addsub")
        self.call(
            f"{head}, {addsub_op(k)}, {k.a_shift}, {k.b_shift}, {k.out_shift}, {c_round(k, k.out_shift)});"
        )

    def k_Mul(self, k: kp.Mul, step: int) -> None:
        self.call(f"{self._binary(k, 'HLSFIX_DEF_MUL', 'mul')}, {k.out_shift}, {c_round(k, k.out_shift)});")

    def k_Rescale(self, k: kp.Rescale, step: int) -> None:
        self.elementwise_alias(k, k.out)
        tx, sx, to = self.tok(k.x.buffer), self.space(k.x.buffer), self.tok(k.out)
        wide = c_width(self.bounds, k)
        self.use("HLSFIX_DEF_RESCALE", tx, sx, to, str(wide))
        self.call(
            f"hlsfix_rescale_{tx}{sx}_{to}_w{wide}({self.view(k.x)}, {self.cname(k.out)}, {k.n}, "
            f"{k.shift}, {int(k.negate)}, {c_round(k, k.shift)});"
        )

    def k_Clamp(self, k: kp.Clamp, step: int) -> None:
        self.elementwise_alias(k, k.out)
        self.same_type(k, k.x.buffer, k.out)
        fmt = self.bufs[k.out].fmt
        lo = fmt.qmin if k.lo is None else max(k.lo, fmt.qmin)
        hi = fmt.qmax if k.hi is None else min(k.hi, fmt.qmax)
        t, sx = self.tok(k.out), self.space(k.x.buffer)
        self.use("HLSFIX_DEF_CLAMP", t, sx)
        ct = c_type(fmt)
        self.call(
            f"hlsfix_clamp_{t}{sx}({self.view(k.x)}, {self.cname(k.out)}, {k.n}, "
            f"({ct}){c_int(lo, 32)}, ({ct}){c_int(hi, 32)});"
        )

    def _gather(self, k: kp.Kernel, x: Ref, out: str, base: str, dims: list[int], strides: list[int]) -> None:
        self.no_alias(k, out)
        self.same_type(k, x.buffer, out)
        if len(dims) > 8:
            raise UnsupportedProgram(f"{type(k).__name__} must have at most 8 dimensions, not {len(dims)}")
        esize = self.bufs[out].fmt.bits // 8
        self.call(
            f"hlsfix_gather({self.cname(out)}, {self.view(x)}, {int(self.space(x.buffer) == 'c')}, {esize}, "
            f"{base}, {len(dims)}, (const int16_t[]){{{', '.join(map(str, dims))}}}, "
            f"(const int16_t[]){{{', '.join(map(str, strides))}}});"
        )

    def k_Permute(self, k: kp.Permute, step: int) -> None:
        in_strides = row_major_strides(k.in_shape)
        dims = [k.in_shape[p] for p in k.perm]
        self._gather(k, k.x, k.out, "0", dims, [in_strides[p] for p in k.perm])

    def k_Window(self, k: kp.Window, step: int) -> None:
        terms, dims, strides = window_geometry(k)
        base = f"(int16_t)({' + '.join(terms)})" if terms else "0"
        self._gather(k, k.x, k.out, base, dims, strides)

    def k_MaxPool(self, k: kp.MaxPool, step: int) -> None:
        self.no_alias(k, k.out)
        self.same_type(k, k.x.buffer, k.out)
        t, sx = self.tok(k.out), self.space(k.x.buffer)
        self.use("HLSFIX_DEF_MAXPOOL", t, sx)
        geom = maxpool_geometry(k)
        self.call(
            f"hlsfix_maxpool_{t}{sx}({self.view(k.x)}, {self.cname(k.out)}, {', '.join(map(str, geom))});"
        )

    def k_Exp(self, k: kp.Exp, step: int) -> None:
        if self.lut8(k):
            return
        self.elementwise_alias(k, k.out)
        self.check_exp(k)
        th, tl = self.tok(k.hi), self.tok(k.lo)
        tx, sx, to = self.tok(k.x.buffer), self.space(k.x.buffer), self.tok(k.out)
        self.use("HLSFIX_DEF_EXP", tx, sx, th, tl, to, str(k.wide))
        self.call(
            f"hlsfix_exp_{tx}{sx}_{th}_{tl}_{to}_w{k.wide}({self.view(k.x)}, {self.cname(k.out)}, {k.n}, "
            f"{c_int(k.x_top, k.wide)}, {k.k}, {k.t}, {self.cname(k.hi)}, {self.cname(k.lo)}, "
            f"{k.table_shift});"
        )

    def k_SigmoidTanh(self, k: kp.SigmoidTanh, step: int) -> None:
        if self.lut8(k):
            return
        self.elementwise_alias(k, k.out)
        self.check_sigmoid_tanh(k)
        th, tl = self.tok(k.hi), self.tok(k.lo)
        tx, sx, to = self.tok(k.x.buffer), self.space(k.x.buffer), self.tok(k.out)
        self.use("HLSFIX_DEF_SIGMOID_TANH", tx, sx, th, tl, to, str(k.wide))
        self.call(
            f"hlsfix_sigtanh_{tx}{sx}_{th}_{tl}_{to}_w{k.wide}({self.view(k.x)}, {self.cname(k.out)}, "
            f"{k.n}, {int(k.fn == 'tanh')}, {k.arg_shift}, {k.k}, {k.t}, {self.cname(k.hi)}, "
            f"{self.cname(k.lo)}, {k.table_shift}, {k.e_frac}, {k.out_frac});"
        )

    def k_HardSigmoidTanh(self, k: kp.HardSigmoidTanh, step: int) -> None:
        if self.lut8(k):
            return
        self.elementwise_alias(k, k.out)
        tx, sx, to = self.tok(k.x.buffer), self.space(k.x.buffer), self.tok(k.out)
        self.use("HLSFIX_DEF_HARD_SIGMOID_TANH", tx, sx, to, str(k.wide))
        w = k.wide
        self.call(
            f"hlsfix_hardsig_{tx}{sx}_{to}_w{w}({self.view(k.x)}, {self.cname(k.out)}, {k.n}, {k.shift}, "
            f"{c_int(k.half, w)}, {c_int(k.lo, w)}, {c_int(k.hi, w)});"
        )

    def k_Fill(self, k: kp.Fill, step: int) -> None:
        b = self.bufs[k.out]
        self.call(f"hlsfix_fill({self.cname(k.out)}, {b.fmt.bits // 8}, {b.size}, {c_int(k.value, 32)});")

    def k_Argmax(self, k: kp.Argmax, step: int) -> None:
        t, sx = self.tok(k.x.buffer), self.space(k.x.buffer)
        self.use("HLSFIX_DEF_ARGMAX", t, sx)
        self.call(f"{k.out} = hlsfix_argmax_{t}{sx}({self.view(k.x)}, {k.x.length});")

    def first(self, ref: Ref) -> str:
        return f"HLSFIX_LD_{self.space(ref.buffer)}_{self.tok(ref.buffer)}({self.view(ref)})"

    def k_Sgn(self, k: kp.Sgn, step: int) -> None:
        self.call(f"{k.out} = (int16_t)({self.first(k.x)} > 0);")

    def k_IntOp(self, k: kp.IntOp, step: int) -> None:
        a, b = self.operand(k.a), self.operand(k.b)
        # int32 arithmetic, then back to int16_t: no int (16-bit on AVR) overflow is possible.
        expr = a if k.op == "=" else f"(int32_t){a} {k.op} (int32_t){b}"
        self.call(f"{k.out} = (int16_t)({expr});")

    def k_Select(self, k: kp.Select, step: int) -> None:
        fmt = self.bufs[k.x.buffer].fmt
        cond = select_test(self.first(k.x), k.threshold, fmt.bits, lambda t: f"({c_type(fmt)}){c_int(t, 32)}")
        if k.is_int:
            self.call(f"{k.out} = ({cond}) ? (int16_t){k.a} : (int16_t){k.b};")
            return
        a, b = str(k.a), str(k.b)
        for src in (a, b):
            self.same_type(k, src, k.out)
        nbytes = k.n * self.bufs[k.out].fmt.bits // 8

        def copy(src: str) -> str:
            flash = int(self.space(src) == "c")
            return f"hlsfix_copy({self.cname(k.out)}, {self.cname(src)}, {flash}, {nbytes});"

        self.if_else(cond, copy(a), copy(b))


def emit_model(
    program: KernelProgram, plan: MemoryPlan, out_dir: Path | None = None, *, kernel_marks: bool = False
) -> EmittedModel:
    """Generate ``model.h``/``model.c`` (written to ``out_dir`` when given).

    ``kernel_marks`` (co-design cost model): ``HLSFIX_KERNEL_MARK(i)`` before top-level kernel i
    (a Loop is one), which ends the target.h measurement the firmware opened around the prediction
    and begins the next: each prediction then gives 1 + len(program.kernels) measurements (entry,
    then kernel by kernel). Off, the generated code is exactly as without it."""
    if program.bits == "float":
        raise UnsupportedProgram("model.c needs a fixed-point program, not a float one (see emit_float.py)")
    em = _Emitter(program, plan)
    if kernel_marks:
        for i, k in enumerate(program.kernels):
            em.call(f"    HLSFIX_KERNEL_MARK({i});")
            em.block((k,), 1)
    else:
        em.block(program.kernels, 1)
    inb = program.input_buffer
    buffers = arena_buffers(program, plan, em)
    consts = const_arrays(program, em)
    out_buf = output_buffer(program)
    ctx = {
        **model_context(program, plan, em, out_buf),
        "bits": program.bits,
        "guard": "HLSFIX_MODEL_H",
        "in_ctype": c_type(inb.fmt),
        "in_bits": inb.fmt.bits,
        "in_frac": inb.fmt.frac,
        "in_scale": f"0x1p{inb.fmt.frac}f",
        "in_qmin": c_int(inb.fmt.qmin, 32),
        "in_qmax": c_int(inb.fmt.qmax, 32),
        "in_comment": describe(inb),
        "out_ctype": c_type(out_buf.fmt) if out_buf else "int16_t",
        "buffers": buffers,
        "consts": consts,
        "kernel_marks": kernel_marks,
    }
    return render_model(ctx, "model", (KERNELS_DIR / "hlsfix_kernels.c",), out_dir)


def arena_buffers(
    program: KernelProgram, plan: MemoryPlan, em: _Emitter, only_named: bool = False
) -> list[dict[str, object]]:
    """Template rows of the arena's buffers (with ``only_named``: those the generated code names)."""
    return [
        {
            "name": em.cname(b.name),
            "ctype": c_type(b.fmt),
            "offset": at,
            "comment": f"{describe(b)}, bytes {at}..{at + b.nbytes - 1}",
        }
        for b, at in planned_temps(program, plan)
        if not only_named or b.name in em.used
    ]


def const_arrays(program: KernelProgram, em: _Emitter) -> list[dict[str, object]]:
    """Template rows of the constant arrays the generated code uses."""
    return [
        {
            "name": em.cname(b.name),
            "ctype": c_type(b.fmt),
            "comment": describe(b),
            "rows": int_rows(program.constants[b.name]),
        }
        for b in program.buffers
        if b.kind == "const" and b.name in em.used
    ] + list(em.extra_consts.values())


def planned_temps(program: KernelProgram, plan: MemoryPlan) -> list[tuple[Buffer, int]]:
    """The temporaries with a place in the arena, and their offsets (a temp no kernel touches
    needs no space)."""
    planned = {name for name, _ in plan.offsets}
    return [(b, plan.offset(b.name)) for b in program.buffers if b.kind == "temp" and b.name in planned]


def model_context(
    program: KernelProgram, plan: MemoryPlan, em: _Emitter, out_buf: Buffer | None
) -> dict[str, object]:
    """The template values model.[ch] and model_float.[ch] share."""
    return {
        "name": program.name,
        "in_size": program.input_buffer.size,
        "is_class": program.output_is_class,
        "output": program.output,
        "out_size": out_buf.size if out_buf else 1,
        "out_frac": out_buf.fmt.frac if out_buf else 0,
        "out_cname": em.cname(out_buf.name) if out_buf else "",
        "arena_bytes": plan.arena_bytes,
        "arena_alloc": max(plan.arena_bytes, 4),
        "lower_bound_bytes": plan.lower_bound_bytes,
        "defs": list(em.defs),
        "registers": list(program.registers),
        "body": em.lines,
    }


def render_model(
    ctx: dict[str, object], stem: str, kernels: tuple[Path, ...], out_dir: Path | None
) -> EmittedModel:
    """Render ``<stem>.h``/``<stem>.c`` (written to ``out_dir`` when given); ``kernels``: the
    kernel library sources to compile with them."""
    env = _env()
    header = env.get_template(f"{stem}.h.j2").render(**ctx)
    source = env.get_template(f"{stem}.c.j2").render(**ctx)
    sources = kernels
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / f"{stem}.h").write_text(header)
        (out_dir / f"{stem}.c").write_text(source)
        sources = (out_dir / f"{stem}.c", *sources)
    return EmittedModel(header, source, sources, (KERNELS_DIR,) + ((out_dir,) if out_dir else ()))
