"""int8 affine KernelProgram + its memory plan → ``model.h`` / ``model.c`` over ``hlsfix_int8.c``.

Python decides every value (parameter blocks, arena offsets); the Jinja2 templates lay them out.
The generated model has one static arena holding the input, every intermediate and the output, at
the offsets of the plan; the caller writes the input into it (``hlsfix_input()``), as with TFLM.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from hlsfix.backend_common import int_list, rows, template_env
from hlsfix.errors import HlsfixError
from hlsfix.fixedpoint.int8.kernels import (
    QActivation,
    QAdd,
    QConcat,
    QConv2d,
    QFullyConnected,
    QMean,
    QMul,
    QPad,
    QPool,
    QSoftmax,
)
from hlsfix.fixedpoint.program import Kernel, KernelProgram
from hlsfix.memory.int8_plan import Int8Memory

KERNELS_DIR = Path(__file__).parent / "kernels"
TEMPLATES_DIR = Path(__file__).parent / "templates"
INT8_KERNEL_SOURCES = (KERNELS_DIR / "hlsfix_int8.c",)


class UnsupportedInt8Program(HlsfixError):
    """A program the int8 C backend cannot express."""


@dataclass(frozen=True)
class EmittedInt8Model:
    header: Path
    source: Path
    sources: tuple[Path, ...]  # model.c plus the kernel library (plus a firmware main when written)
    include_dirs: tuple[Path, ...]


def c_literals(values: np.ndarray, bits: int) -> list[str]:
    lo = -(1 << (bits - 1))
    return [f"INT{bits}_MIN" if int(v) == lo and bits == 32 else str(int(v)) for v in values.reshape(-1)]


def _macro(name: str) -> str:
    return f"B_{name}"


class _Emitter:
    def __init__(self, program: KernelProgram, memory: Int8Memory) -> None:
        self.program = program
        self.memory = memory
        self.params: list[dict[str, str]] = []
        self.body: list[str] = []
        self.used_consts: dict[str, None] = {}
        self.extra_consts: list[tuple[str, np.ndarray, int]] = []  # (name, values, bits)

    def const(self, name: str | None) -> str:
        if name is None:
            return "NULL"
        self.used_consts[name] = None
        return name

    def weight_sums(self, weights: str) -> str:
        """A constant of each output channel's weight sum (first axis), for the folded input offset."""
        name = f"{weights}_sum"
        if all(c[0] != name for c in self.extra_consts):
            w = np.asarray(self.program.constants[weights], dtype=np.int64)
            sums = w.reshape(w.shape[0], -1).sum(axis=1)
            self.extra_consts.append((name, sums, 32))
        return name

    def buf(self, name: str) -> str:
        return _macro(name)

    def block(self, ctype: str, label: str, values: dict[str, object]) -> str:
        name = f"p{len(self.params)}"
        init = ", ".join(f".{k} = {v}" for k, v in values.items())
        self.params.append({"ctype": ctype, "name": name, "init": init, "label": label})
        return name

    def kernel(self, k: Kernel, label: str) -> None:
        if isinstance(k, QConv2d):
            if k.kernel[0] * k.kernel[1] > 128:
                raise UnsupportedInt8Program(
                    f"{label}: a conv kernel must have at most 128 taps, not {k.kernel}"
                )
            pointwise = not k.depthwise and k.kernel == (1, 1) and k.strides == (1, 1) and k.pads == (0, 0)
            v = {
                "wsum": self.weight_sums(k.weights) if pointwise and not k.out_row_channels else "NULL",
                "weights": self.const(k.weights),
                "bias": self.const(k.bias),
                "multiplier": self.const(k.multiplier),
                "shift": self.const(k.shift),
                "in_h": k.in_shape[0], "in_w": k.in_shape[1], "in_c": k.in_shape[2],
                "out_h": k.out_shape[0], "out_w": k.out_shape[1], "out_c": k.out_shape[2],
                "k_h": k.kernel[0], "k_w": k.kernel[1],
                "stride_h": k.strides[0], "stride_w": k.strides[1],
                "dil_h": k.dilations[0], "dil_w": k.dilations[1],
                "pad_top": k.pads[0], "pad_left": k.pads[1],
                "depth_multiplier": k.depth_multiplier,
                "out_row_channels": k.out_row_channels or k.out_shape[2],
                "out_channel_offset": k.out_channel_offset,
                "input_offset": k.input_offset, "output_offset": k.output_offset,
                "act_min": k.act_min, "act_max": k.act_max,
                "depthwise": int(k.depthwise), "acc_init": int(k.acc_init), "acc_finish": int(k.acc_finish),
            }  # fmt: skip
            p = self.block("hlsfix_qconv_t", label, v)
            acc = "NULL" if k.acc is None else self.buf(k.acc)
            self.body.append(f"hlsfix_qconv(&{p}, {self.buf(k.x.buffer)}, {self.buf(k.out)}, {acc});")
        elif isinstance(k, QFullyConnected):
            v = {
                "weights": self.const(k.weights), "bias": self.const(k.bias),
                "multiplier": self.const(k.multiplier), "shift": self.const(k.shift),
                "wsum": self.weight_sums(k.weights) if k.weights_offset == 0 else "NULL",
                "rows": k.rows, "depth": k.depth, "units": k.units,
                "input_offset": k.input_offset, "weights_offset": k.weights_offset,
                "output_offset": k.output_offset, "act_min": k.act_min, "act_max": k.act_max,
            }  # fmt: skip
            p = self.block("hlsfix_qfc_t", label, v)
            self.body.append(f"hlsfix_qfc(&{p}, {self.buf(k.x.buffer)}, {self.buf(k.out)});")
        elif isinstance(k, QAdd | QMul):
            v = {f.name: getattr(k, f.name) for f in fields(k) if f.name not in ("a", "b", "out")}
            ctype, fn = (
                ("hlsfix_qadd_t", "hlsfix_qadd") if isinstance(k, QAdd) else ("hlsfix_qmul_t", "hlsfix_qmul")
            )
            p = self.block(ctype, label, v)
            self.body.append(
                f"{fn}(&{p}, {self.buf(k.a.buffer)}, {self.buf(k.b.buffer)}, {self.buf(k.out)});"
            )
        elif isinstance(k, QPool):
            v = {
                "is_max": int(k.kind == "max"),
                "in_h": k.in_shape[0], "in_w": k.in_shape[1], "c": k.in_shape[2],
                "out_h": k.out_shape[0], "out_w": k.out_shape[1],
                "k_h": k.kernel[0], "k_w": k.kernel[1], "stride_h": k.strides[0], "stride_w": k.strides[1],
                "pad_top": k.pads[0], "pad_left": k.pads[1], "act_min": k.act_min, "act_max": k.act_max,
            }  # fmt: skip
            p = self.block("hlsfix_qpool_t", label, v)
            self.body.append(f"hlsfix_qpool(&{p}, {self.buf(k.x.buffer)}, {self.buf(k.out)});")
        elif isinstance(k, QConcat):
            chunks = f"{k.out}_chunks"
            self.extra_consts.append((chunks, np.array(k.chunks, dtype=np.int64), 32))
            p = self.block(
                "hlsfix_qconcat_t", label, {"n_inputs": len(k.xs), "outer": k.outer, "chunks": chunks}
            )
            xs = ", ".join(self.buf(r.buffer) for r in k.xs)
            call = f"hlsfix_qconcat(&{p}, xs, {self.buf(k.out)});"
            self.body.append(f"{{ const int8_t *const xs[{len(k.xs)}] = {{{xs}}}; {call} }}")
        elif isinstance(k, QActivation):
            v = {f.name: getattr(k, f.name) for f in fields(k) if f.name not in ("fn", "x", "out")}
            p = self.block("hlsfix_qactivation_t", label, {"is_tanh": int(k.fn == "tanh"), **v})
            self.body.append(f"hlsfix_qactivation(&{p}, {self.buf(k.x.buffer)}, {self.buf(k.out)});")
        elif isinstance(k, QMean):
            v = {f.name: getattr(k, f.name) for f in fields(k) if f.name not in ("x", "out")}
            p = self.block("hlsfix_qmean_t", label, v)
            self.body.append(f"hlsfix_qmean(&{p}, {self.buf(k.x.buffer)}, {self.buf(k.out)});")
        elif isinstance(k, QPad):
            names = ("top", "bottom", "left", "right", "front", "back")
            v = {"in_h": k.in_shape[0], "in_w": k.in_shape[1], "in_c": k.in_shape[2], "value": k.value}
            v.update(zip(names, k.pads, strict=True))
            p = self.block("hlsfix_qpad_t", label, v)
            self.body.append(f"hlsfix_qpad(&{p}, {self.buf(k.x.buffer)}, {self.buf(k.out)});")
        elif isinstance(k, QSoftmax):
            v = {f.name: getattr(k, f.name) for f in fields(k) if f.name not in ("x", "out")}
            p = self.block("hlsfix_qsoftmax_t", label, v)
            self.body.append(f"hlsfix_qsoftmax(&{p}, {self.buf(k.x.buffer)}, {self.buf(k.out)});")
        else:
            raise UnsupportedInt8Program(f"kernel must be an int8 affine kernel, not {type(k).__name__}")


def emit_int8_model(
    memory: Int8Memory,
    out_dir: Path,
    *,
    scales: tuple[float, int, float, int],
    float_io: tuple[bool, bool] = (False, False),
) -> EmittedInt8Model:
    """Write model.h and model.c for the scheduled program of ``memory`` into ``out_dir``.

    ``scales``: (input scale, input zero point, output scale, output zero point); ``float_io``: the
    model's input / output is float32 (its QUANTIZE / DEQUANTIZE become hlsfix_set_input_float /
    hlsfix_get_output_float)."""
    program = memory.program
    em = _Emitter(program, memory)
    for k, label in zip(program.kernels, program.labels or [""] * len(program.kernels), strict=True):
        em.kernel(k, label)
    consts = []
    for name in em.used_consts:
        b = program.buffer(name)
        bits = b.fmt.bits
        values = np.asarray(program.constants[name])
        consts.append(
            {
                "name": name,
                "ctype": f"int{bits}_t",
                "size": values.size,
                "rows": rows(c_literals(values, bits)),
            }
        )
    for name, values, bits in em.extra_consts:
        consts.append(
            {
                "name": name,
                "ctype": f"int{bits}_t",
                "size": values.size,
                "rows": rows(c_literals(values, bits)),
            }
        )
    buffers = []
    for pb in memory.buffers:
        b = program.buffer(pb.name)
        buffers.append(
            {
                "macro": _macro(b.name),
                "ctype": f"int{b.fmt.bits}_t",
                "offset": memory.plan.offset(b.name),
                "comment": f"{b.name}: {list(b.shape)}, steps {pb.start}..{pb.end}",
            }
        )
    m = memory.summary()
    comment = (
        f"arena {m['arena_bytes']} B; lower bound of the given order {m['lower_bound_bytes']} B, "
        f"of the best order {m['best_order_bound_bytes']} B"
    )
    in_b, out_b = program.input_buffer, program.buffer(program.output)
    env = template_env(TEMPLATES_DIR)
    ctx = {
        "name": program.name,
        "guard": "HLSFIX_MODEL_H",
        "in_size": in_b.size,
        "out_size": out_b.size,
        "in_scale": scales[0],
        "in_zp": scales[1],
        "out_scale": scales[2],
        "out_zp": scales[3],
        "arena_bytes": memory.arena_bytes,
        "arena_alloc": max(memory.arena_bytes, 4),
        "consts": consts,
        "params": em.params,
        "buffers": buffers,
        "input_macro": _macro(program.input),
        "output_macro": _macro(program.output),
        "body": em.body,
        "memory_comment": comment,
        "float_input": float_io[0],
        "float_output": float_io[1],
        "in_scale_hex": float(np.float32(scales[0])).hex() + "f",
        "out_scale_hex": float(np.float32(scales[2])).hex(),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    header, source = out_dir / "model.h", out_dir / "model.c"
    header.write_text(env.get_template("int8_model.h.j2").render(**ctx))
    source.write_text(env.get_template("int8_model.c.j2").render(**ctx))
    return EmittedInt8Model(header, source, (source, *INT8_KERNEL_SOURCES), (out_dir, KERNELS_DIR))


def emit_int8_firmware(
    model: EmittedInt8Model,
    name: str,
    x: np.ndarray,
    out_dir: Path,
    *,
    float_io: tuple[bool, bool] = (False, False),
) -> EmittedInt8Model:
    """Add firmware.c: a main running the compiled-in inputs ``x`` (one row each: int8 values, or
    float32 for a float-input model) and emitting each output (int8, or float32)."""
    if float_io[0]:
        literal_rows = [
            ", ".join(float(v).hex() + "f" for v in r) for r in np.asarray(x, np.float32).reshape(len(x), -1)
        ]
    else:
        literal_rows = [int_list(r) for r in np.asarray(x, dtype=np.int64).reshape(len(x), -1)]
    text = template_env(TEMPLATES_DIR).get_template("int8_firmware.c.j2")
    path = out_dir / "firmware.c"
    path.write_text(
        text.render(
            name=name,
            n_inputs=len(literal_rows),
            rows=literal_rows,
            float_input=float_io[0],
            float_output=float_io[1],
        )
    )
    return EmittedInt8Model(model.header, model.source, (path, *model.sources), model.include_dirs)


def decode_int8_records(records: tuple[bytes, ...], *, float_output: bool = False) -> np.ndarray:
    if float_output:
        return np.stack([np.frombuffer(r, dtype="<f4") for r in records])
    return np.stack([np.frombuffer(r, dtype=np.int8).astype(np.int64) for r in records])
