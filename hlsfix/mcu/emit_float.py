"""The float build of a model: float KernelProgram + MemoryPlan → ``model_float.h``/``.c``.

The baseline that fixed-point cycles are compared with (SeeDot's "float emulation" on an Uno):
the same kernel sequence, loops, views and arena plan as ``model.c``, computing in ``float`` with
the true weights (``hlsfix.fixedpoint.float_lower.float_program``) through the hand-written float
kernels ``kernels/hlsfix_float_kernels.[ch]`` (link with -lm). Entry point::

    int16_t hlsfix_predict_float_model(const float *x);               (a class)
    void hlsfix_predict_float_model_out(const float *x, float *out);  (a tensor)

Not to be confused with ``hlsfix_predict_float`` of model.c, which quantises a float input and
runs the fixed-point model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hlsfix.backend_common import (
    addsub_op,
    bcast_mode,
    c_type,
    conv2d_geometry,
    int_list,
    maxpool_geometry,
    output_buffer,
    rows,
)
from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.mcu.emit import (
    KERNELS_DIR,
    EmittedModel,
    UnsupportedProgram,
    _Emitter,
    model_context,
    planned_temps,
    render_model,
)
from hlsfix.mcu.firmware import decode_class_records, write_firmware
from hlsfix.memory.liveness import MemoryPlan, scratch_name

FLOAT_KERNEL_FILES = ("hlsfix_float_kernels.c", "hlsfix_float_kernels.h")


def c_float(v: float) -> str:
    """A C float literal that reads back as the same float32 (9 significant digits suffice)."""
    if not abs(v) <= float(np.finfo(np.float32).max):
        raise UnsupportedProgram(f"a float constant must be finite in float32, not {v}")
    text = f"{float(np.float32(v)):.9g}"
    return text + (".0f" if text.lstrip("-").isdigit() else "f")


def float_rows(values: np.ndarray, per_line: int = 8) -> list[str]:
    return rows([c_float(v) for v in np.asarray(values, dtype=np.float64).reshape(-1)], per_line)


class _FloatEmitter(_Emitter):
    """The kernels of ``_Emitter`` in float: shifts, widths and tables are ignored; views,
    aliasing checks, loops, registers, Permute/Window (byte gathers) are shared."""

    def ld(self, ref: kp.Ref) -> str:
        return f"HLSFIX_LDF_{self.space(ref.buffer)}({self.view(ref)})"

    def first(self, ref: kp.Ref) -> str:
        return self.ld(ref)

    def k_MatMul(self, k: kp.MatMul, step: int) -> None:
        self.no_alias(k, k.out)
        sa, sb = self.space(k.a.buffer), self.space(k.b.buffer)
        self.use("HLSFIX_DEF_FMATMUL", sa, sb)
        self.call(
            f"hlsfix_fmatmul_{sa}_{sb}({self.view(k.a)}, {self.view(k.b)}, {self.cname(k.out)}, "
            f"{k.m}, {k.k}, {k.n});"
        )

    def k_SparseMatVec(self, k: kp.SparseMatVec, step: int) -> None:
        self.no_alias(k, k.out)
        tr, tc, sx = self.tok(k.row_index), self.tok(k.col_start), self.space(k.x.buffer)
        self.use("HLSFIX_DEF_FSPMV", tr, tc, sx)
        acc = f"(float *)(hlsfix_float_arena.bytes + {self.plan.offset(scratch_name(step))})"
        self.call(
            f"hlsfix_fspmv_{tr}_{tc}_{sx}({self.cname(k.values)}, {self.cname(k.row_index)}, "
            f"{self.cname(k.col_start)}, {self.view(k.x)}, {self.cname(k.out)}, {acc}, {k.rows}, {k.cols});"
        )

    def k_Conv2d(self, k: kp.Conv2d, step: int) -> None:
        self.no_alias(k, k.out)
        sx, sf = self.space(k.x.buffer), self.space(k.filters.buffer)
        self.use("HLSFIX_DEF_FCONV2D", sx, sf)
        geom = conv2d_geometry(k)
        self.call(
            f"hlsfix_fconv2d_{sx}_{sf}({self.view(k.x)}, {self.view(k.filters)}, {self.cname(k.out)}, "
            f"{', '.join(map(str, geom))});"
        )

    def _fbinary(self, k: kp.AddSub | kp.Mul, macro: str, fn: str) -> str:
        self.elementwise_alias(k, k.out)
        sa, sb = self.space(k.a.buffer), self.space(k.b.buffer)
        self.use(macro, sa, sb)
        return (
            f"hlsfix_{fn}_{sa}_{sb}({self.view(k.a)}, {self.view(k.b)}, {self.cname(k.out)}, {k.n}, "
            f"{k.b.length}, {bcast_mode(k, 'HLSFIX_')}"
        )

    def k_AddSub(self, k: kp.AddSub, step: int) -> None:
        self.call(f"{self._fbinary(k, 'HLSFIX_DEF_FADDSUB', 'faddsub')}, {addsub_op(k)});")

    def k_Mul(self, k: kp.Mul, step: int) -> None:
        self.call(f"{self._fbinary(k, 'HLSFIX_DEF_FMUL', 'fmul')});")

    def _unary(self, k: kp.Kernel, x: kp.Ref, out: str, macro: str, fn: str, *extra: str) -> None:
        self.elementwise_alias(k, out)
        sx = self.space(x.buffer)
        self.use(macro, sx)
        args = ", ".join((self.view(x), self.cname(out), str(x.length), *extra))
        self.call(f"hlsfix_{fn}_{sx}({args});")

    def k_Rescale(self, k: kp.Rescale, step: int) -> None:
        self._unary(k, k.x, k.out, "HLSFIX_DEF_FCOPY", "fcopy", str(int(k.negate)))

    def k_Clamp(self, k: kp.Clamp, step: int) -> None:
        lo = "-FLT_MAX" if k.lo is None else c_float(k.lo)
        hi = "FLT_MAX" if k.hi is None else c_float(k.hi)
        self._unary(k, k.x, k.out, "HLSFIX_DEF_FCLAMP", "fclamp", lo, hi)

    def k_MaxPool(self, k: kp.MaxPool, step: int) -> None:
        self.no_alias(k, k.out)
        sx = self.space(k.x.buffer)
        self.use("HLSFIX_DEF_FMAXPOOL", sx)
        geom = maxpool_geometry(k)
        self.call(
            f"hlsfix_fmaxpool_{sx}({self.view(k.x)}, {self.cname(k.out)}, {', '.join(map(str, geom))});"
        )

    def k_Exp(self, k: kp.Exp, step: int) -> None:
        self._unary(k, k.x, k.out, "HLSFIX_DEF_FEXP", "fexp")

    def k_SigmoidTanh(self, k: kp.SigmoidTanh, step: int) -> None:
        self._unary(k, k.x, k.out, "HLSFIX_DEF_FSIGMOID_TANH", "fsigtanh", str(int(k.fn == "tanh")))

    def k_HardSigmoidTanh(self, k: kp.HardSigmoidTanh, step: int) -> None:
        self._unary(k, k.x, k.out, "HLSFIX_DEF_FHARD_SIGMOID_TANH", "fhardsig", str(int(k.fn == "tanh")))

    def k_Fill(self, k: kp.Fill, step: int) -> None:
        self.call(f"hlsfix_ffill({self.cname(k.out)}, {self.bufs[k.out].size}, {c_float(k.value)});")

    def k_Argmax(self, k: kp.Argmax, step: int) -> None:
        sx = self.space(k.x.buffer)
        self.use("HLSFIX_DEF_FARGMAX", sx)
        self.call(f"{k.out} = hlsfix_fargmax_{sx}({self.view(k.x)}, {k.x.length});")

    def k_Select(self, k: kp.Select, step: int) -> None:
        cond = f"{self.first(k.x)} >= {c_float(k.threshold)}"
        if k.is_int:
            self.call(f"{k.out} = ({cond}) ? (int16_t){k.a} : (int16_t){k.b};")
            return
        nbytes = 4 * k.n
        a, b = (
            f"hlsfix_copy({self.cname(k.out)}, {self.cname(s)}, {int(self.space(s) == 'c')}, {nbytes});"
            for s in (str(k.a), str(k.b))
        )
        self.if_else(cond, a, b)


def emit_float_model(program: KernelProgram, plan: MemoryPlan, out_dir: Path | None = None) -> EmittedModel:
    """Generate ``model_float.h``/``model_float.c`` (written to ``out_dir`` when given) from a
    float program (``float_program``) and its memory plan."""
    if program.bits != "float":
        raise UnsupportedProgram(f"the float build needs a float program, not a {program.bits}-bit one")
    em = _FloatEmitter(program, plan)
    em.block(program.kernels, 1)
    buffers = [
        {
            "name": em.cname(b.name),
            "offset": at,
            "comment": f"{b.name}: {list(b.shape)}, bytes {at}..{at + b.nbytes - 1}",
        }
        for b, at in planned_temps(program, plan)
    ]
    consts = []
    for b in program.buffers:
        if b.kind != "const" or b.name not in em.used:
            continue
        data = program.constants[b.name]
        real = data.dtype.kind == "f"
        consts.append(
            {
                "name": em.cname(b.name),
                "ctype": "float" if real else c_type(b.fmt),
                "comment": f"{b.name}: {list(b.shape)}" + ("" if real else f", {b.fmt.bits}-bit indices"),
                "rows": float_rows(data) if real else [int_list(data)],
            }
        )
    ctx = {**model_context(program, plan, em, output_buffer(program)), "buffers": buffers, "consts": consts}
    kernels = (KERNELS_DIR / "hlsfix_float_kernels.c", KERNELS_DIR / "hlsfix_kernels.c")
    return render_model(ctx, "model_float", kernels, out_dir)


def emit_float_firmware(
    program: KernelProgram, plan: MemoryPlan, x: np.ndarray, out_dir: Path
) -> EmittedModel:
    """model_float.[ch] and firmware_float.c running the float model on the rows of ``x``."""
    model = emit_float_model(program, plan, out_dir)
    literals = [
        ", ".join(c_float(v) for v in row) for row in np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    ]
    return write_firmware(model, program, literals, out_dir / "firmware_float.c")


def decode_float_records(program: KernelProgram, records: tuple[bytes, ...]) -> np.ndarray:
    """Records of the float firmware → (N,) classes or (N, size) float32 outputs."""
    if program.output_is_class:
        return decode_class_records(records)
    return np.stack([np.frombuffer(r, dtype="<f4") for r in records])
