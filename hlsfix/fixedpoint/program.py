"""The KernelProgram: the contract between the fixed-point compiler and every backend.

An ordered list of integer kernels over named buffers. Every numeric decision (formats, shifts,
tables, accumulator widths) is made here; backends translate, they never re-decide numerics.

Conventions (the numeric contract; ``golden.py`` is its executable definition):

- A buffer holds ``size`` integers of ``fmt.bits`` bits, value ≈ q · 2^-frac, flat row-major.
- Kernels write whole buffers and read through ``Ref`` views: ``length`` contiguous elements
  starting at ``offset + stride · index`` (``index`` an integer register, or none).
- ``shr``: arithmetic (floor) right shift. ``rescale(v, s)``: s ≥ 0 → ``shr(v, s)``;
  s < 0 → v · 2^-s. Every store saturates to the destination's bits.
- ``round_out`` (MatMul, SparseMatVec, Conv2d, AddSub, Mul, Rescale): the kernel's final right
  shift by s ≥ 1 rounds to nearest, ties up: 2^(s-1) is added in the wide type before ``shr``
  (``golden.round_const``); for s ≤ 0 the flag changes nothing. The compiler sets it (round_fold.py,
  then chosen per kernel: round_choice.py).
- Products are formed exactly in the ``wide`` type (32 bits, 64 when a 32-bit operand is involved),
  shifted right by ``prod_shift`` and summed; the compiler chooses ``prod_shift`` from the worst case
  of the operands' widths (and of the constant weights), so an accumulator can never overflow and the
  summation order (e.g. parallel RTL lanes) cannot change the result.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Literal

import numpy as np

from hlsfix.errors import ModelError

IntOperand = str | int  # an integer register name or an immediate


@dataclass(frozen=True)
class Format:
    bits: int
    frac: int

    @property
    def qmin(self) -> int:
        return -(1 << (self.bits - 1))

    @property
    def qmax(self) -> int:
        return (1 << (self.bits - 1)) - 1

    @property
    def resolution(self) -> float:
        return 2.0**-self.frac


BufferKind = Literal["input", "temp", "const"]


@dataclass(frozen=True)
class Buffer:
    name: str
    shape: tuple[int, ...]
    fmt: Format
    kind: BufferKind

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.size * self.fmt.bits // 8


@dataclass(frozen=True)
class Ref:
    """A contiguous view of ``length`` elements of a buffer, possibly at a run-time offset."""

    buffer: str
    length: int
    offset: int = 0
    index: str | None = None
    stride: int = 0


# ---------------------------------------------------------------------------------------------
# Kernels. Each has ``out`` (a buffer written whole, or an integer register for int kernels).


@dataclass(frozen=True)
class Kernel:
    def reads(self) -> tuple[Ref, ...]:
        return tuple(v for f in fields(self) if isinstance(v := getattr(self, f.name), Ref))

    def registers_read(self) -> tuple[str, ...]:
        regs = [r.index for r in self.reads() if r.index]
        return tuple(regs)


@dataclass(frozen=True)
class MatMul(Kernel):
    """out[m×n] = Σ_k (a[m×k] · b[k×n]) >> prod_shift, then rescale(·, out_shift)."""

    a: Ref
    b: Ref
    out: str
    m: int
    k: int
    n: int
    prod_shift: int
    out_shift: int
    wide: int
    round_out: bool = False  # the final right shift rounds to nearest (golden.round_const)


@dataclass(frozen=True)
class SparseMatVec(Kernel):
    """out[rows] = Σ over non-zeros (W[r,c] · x[c]) >> prod_shift, then rescale(·, out_shift).

    The matrix is the constant buffer ``values`` (non-zeros column by column) with ``row_index``
    (row of each non-zero) and ``col_start`` (cols+1 entries: where each column starts) —
    the column-compressed layout of the SeeDot paper, 0-based."""

    values: str
    row_index: str
    col_start: str
    x: Ref
    out: str
    rows: int
    cols: int
    nnz: int
    prod_shift: int
    out_shift: int
    wide: int
    round_out: bool = False  # the final right shift rounds to nearest (golden.round_const)


@dataclass(frozen=True)
class Conv2d(Kernel):
    """NHWC convolution; filters [G, HF, WF, CIN/G, COUT] (COUT per group, G·COUT outputs);
    zero padding; products shifted and summed as in MatMul."""

    x: Ref
    filters: Ref
    out: str
    in_shape: tuple[int, int, int, int]
    filter_shape: tuple[int, int, int, int, int]
    out_shape: tuple[int, int, int, int]
    strides: tuple[int, int]
    pads: tuple[int, int, int, int]
    dilations: tuple[int, int]
    prod_shift: int
    out_shift: int
    wide: int
    round_out: bool = False  # the final right shift rounds to nearest (golden.round_const)


BroadcastMode = Literal["full", "scalar", "lastdim"]


@dataclass(frozen=True)
class AddSub(Kernel):
    """out = rescale(rescale(a, -a_shift) ± rescale(b, -b_shift), out_shift) in the wide type.

    ``a_shift``/``b_shift`` align the operands to a common scale (positive = left shift);
    ``b_mode`` says how b is broadcast over a: element by element, one scalar, or along the last dim."""

    a: Ref
    b: Ref
    out: str
    n: int
    subtract: bool
    a_shift: int
    b_shift: int
    out_shift: int
    b_mode: BroadcastMode
    b_first: bool  # the scalar/bias operand stands on the left of a subtraction (c - x)
    wide: int
    round_out: bool = False  # the final right shift rounds to nearest (golden.round_const)


@dataclass(frozen=True)
class Mul(Kernel):
    """Element-wise product: out = rescale(a · b, out_shift); b broadcast per ``b_mode``."""

    a: Ref
    b: Ref
    out: str
    n: int
    out_shift: int
    b_mode: BroadcastMode
    wide: int
    round_out: bool = False  # the final right shift rounds to nearest (golden.round_const)


@dataclass(frozen=True)
class Rescale(Kernel):
    """out = sat(rescale(x, shift)); with ``negate``, of −x. Also a plain copy (shift 0)."""

    x: Ref
    out: str
    n: int
    shift: int
    negate: bool = False
    round_out: bool = False  # the final right shift rounds to nearest (golden.round_const)


@dataclass(frozen=True)
class Clamp(Kernel):
    """out = min(max(x, lo), hi) in x's format (relu: lo 0; relu6: hi = 6 in x's scale)."""

    x: Ref
    out: str
    n: int
    lo: int | None
    hi: int | None


@dataclass(frozen=True)
class Permute(Kernel):
    """out = x viewed with ``in_shape``, axes permuted by ``perm`` (0-based), read row-major."""

    x: Ref
    out: str
    in_shape: tuple[int, ...]
    perm: tuple[int, ...]


@dataclass(frozen=True)
class Window(Kernel):
    """out = the window of x (``in_shape``) at starts (registers or immediates) of sizes."""

    x: Ref
    out: str
    in_shape: tuple[int, ...]
    starts: tuple[IntOperand, ...]
    sizes: tuple[int, ...]


@dataclass(frozen=True)
class MaxPool(Kernel):
    x: Ref
    out: str
    in_shape: tuple[int, int, int, int]
    out_shape: tuple[int, int, int, int]
    kernel: tuple[int, int]
    pads: tuple[int, int, int, int]
    strides: tuple[int, int]


@dataclass(frozen=True)
class Exp(Kernel):
    """e^x by two tables: y = min(max(x_top - x, 0) >> k, 2^(2T) - 1); a = y >> T, b = y & (2^T-1);
    out = sat((hi[a] · lo[b]) >> table_shift). ``hi``, ``lo``: constant buffers of 2^T entries."""

    x: Ref
    out: str
    n: int
    x_top: int
    k: int
    t: int
    hi: str
    lo: str
    table_shift: int
    wide: int


@dataclass(frozen=True)
class SigmoidTanh(Kernel):
    """sigmoid or tanh through an exp table of −|x| (or −2|x| for tanh) and one division.

    u = rescale(|x|, arg_shift) (clamped to the table's span); e = exp(−u) ∈ (0, 1] at ``e_frac``
    (the same two-table scheme as Exp with x_top = 0); then, with one = 2^e_frac:
    sigmoid: x ≥ 0 → one·2^out_frac / (one + e), x < 0 → e·2^out_frac / (one + e);
    tanh: sign(x) · (one − e)·2^out_frac / (one + e). Divisions are floor on non-negative integers."""

    fn: Literal["sigmoid", "tanh"]
    x: Ref
    out: str
    n: int
    arg_shift: int
    k: int
    t: int
    hi: str
    lo: str
    table_shift: int
    e_frac: int
    out_frac: int
    wide: int


@dataclass(frozen=True)
class HardSigmoidTanh(Kernel):
    """Clipped-linear forms: tanh ≈ clip(x, −1, 1); sigmoid ≈ clip(x/4 + 1/2, 0, 1).

    v = rescale(x, shift) (for sigmoid the /4 is folded into shift); sigmoid adds ``half``;
    then clamp to [lo, hi] (±one, or 0 and one) and saturate."""

    fn: Literal["sigmoid", "tanh"]
    x: Ref
    out: str
    n: int
    shift: int
    half: int
    lo: int
    hi: int
    wide: int


@dataclass(frozen=True)
class Fill(Kernel):
    out: str
    value: int


@dataclass(frozen=True)
class Argmax(Kernel):
    """Register ``out`` = index of the largest element (the first on ties)."""

    x: Ref
    out: str


@dataclass(frozen=True)
class Sgn(Kernel):
    """Register ``out`` = 1 if x[0] > 0 else 0."""

    x: Ref
    out: str


@dataclass(frozen=True)
class IntOp(Kernel):
    """Register arithmetic: out = a (op) b, op in + − · ; ``=`` copies a."""

    op: Literal["+", "-", "*", "="]
    a: IntOperand
    b: IntOperand
    out: str

    def registers_read(self) -> tuple[str, ...]:
        return tuple(v for v in (self.a, self.b) if isinstance(v, str))


@dataclass(frozen=True)
class Select(Kernel):
    """out = a if x[0] ≥ threshold else b. Registers (``is_int``) or whole buffers (copied)."""

    x: Ref
    threshold: int
    a: IntOperand
    b: IntOperand
    out: str
    is_int: bool
    n: int = 1

    def registers_read(self) -> tuple[str, ...]:
        base = super().registers_read()
        extra = tuple(v for v in (self.a, self.b) if isinstance(v, str)) if self.is_int else ()
        return base + extra


@dataclass(frozen=True)
class Loop(Kernel):
    """for index in [start, stop): body. Registers and buffers written inside persist."""

    index: str
    start: int
    stop: int
    body: tuple[Kernel, ...]


KERNEL_TYPES: dict[str, type[Kernel]] = {
    cls.__name__: cls
    for cls in (
        MatMul,
        SparseMatVec,
        Conv2d,
        AddSub,
        Mul,
        Rescale,
        Clamp,
        Permute,
        Window,
        MaxPool,
        Exp,
        SigmoidTanh,
        HardSigmoidTanh,
        Fill,
        Argmax,
        Sgn,
        IntOp,
        Select,
        Loop,
    )
}


# The JSON key naming a kernel's type; "@" keeps it apart from every field name (MaxPool has a
# field called ``kernel``).
KIND_KEY = "@kernel"
PROGRAM_FORMAT = "hlsfix-kernel-program/2"
PROGRAM_FORMAT_ROUNDING = "hlsfix-kernel-program/3"  # some kernel has round_out set


def walk_kernels(kernels: tuple[Kernel, ...]) -> Iterator[Kernel]:
    for k in kernels:
        yield k
        if isinstance(k, Loop):
            yield from walk_kernels(k.body)


@dataclass(frozen=True)
class KernelProgram:
    name: str
    bits: str  # "8" | "16" | "32" | "mixed"
    input: str  # the input buffer's name
    output: str  # a register (class index) or a buffer
    output_is_class: bool
    buffers: tuple[Buffer, ...]
    kernels: tuple[Kernel, ...]
    registers: tuple[str, ...]
    constants: dict[str, np.ndarray] = field(compare=False, repr=False)
    notes: tuple[tuple[str, str], ...] = ()  # (kernel label, where it came from) for reports
    labels: tuple[str, ...] = ()  # one label per kernel in walk order, for reports

    def buffer(self, name: str) -> Buffer:
        for b in self.buffers:
            if b.name == name:
                return b
        raise KeyError(name)

    @property
    def input_buffer(self) -> Buffer:
        return self.buffer(self.input)

    def walk(self) -> Iterator[Kernel]:
        return walk_kernels(self.kernels)

    def const_bytes(self) -> int:
        return sum(b.nbytes for b in self.buffers if b.kind == "const")

    # -- serialisation ----------------------------------------------------------------------
    def to_json(self) -> str:
        def enc(obj: object) -> object:
            if isinstance(obj, Kernel):
                # round_out only where set: a program without rounding keeps its text (and fingerprint)
                body = {
                    f.name: enc(getattr(obj, f.name))
                    for f in fields(obj)
                    if not (f.name == "round_out" and not obj.round_out)  # type: ignore[attr-defined]
                }
                return {KIND_KEY: type(obj).__name__, **body}
            if isinstance(obj, Ref | Buffer | Format):
                return asdict(obj)
            if isinstance(obj, tuple | list):
                return [enc(v) for v in obj]
            return obj

        rounds = any(getattr(k, "round_out", False) for k in self.walk())
        doc = {
            # /3 adds round_out; a program without it is written as /2, readable by older releases
            "format": PROGRAM_FORMAT_ROUNDING if rounds else PROGRAM_FORMAT,
            "name": self.name,
            "bits": self.bits,
            "input": self.input,
            "output": self.output,
            "output_is_class": self.output_is_class,
            "registers": list(self.registers),
            "buffers": [enc(b) for b in self.buffers],
            "kernels": [enc(k) for k in self.kernels],
            "labels": list(self.labels),
        }
        return json.dumps(doc, indent=1)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "program.json").write_text(self.to_json())
        np.savez(directory / "constants.npz", **self.constants)

    @staticmethod
    def load(directory: Path) -> KernelProgram:
        doc = json.loads((directory / "program.json").read_text())
        if doc.get("format") not in (PROGRAM_FORMAT, PROGRAM_FORMAT_ROUNDING):
            raise ModelError(
                f"{directory / 'program.json'} must be an hlsfix kernel program "
                f"({PROGRAM_FORMAT} or {PROGRAM_FORMAT_ROUNDING}), not {doc.get('format')!r}"
            )
        with np.load(directory / "constants.npz") as data:
            constants = {k: data[k] for k in data.files}
        return KernelProgram(
            name=doc["name"],
            bits=doc["bits"],
            input=doc["input"],
            output=doc["output"],
            output_is_class=doc["output_is_class"],
            buffers=tuple(_dec_buffer(b) for b in doc["buffers"]),
            kernels=tuple(_dec_kernel(k) for k in doc["kernels"]),
            registers=tuple(doc["registers"]),
            constants=constants,
            labels=tuple(doc.get("labels", ())),
        )


def _dec_buffer(d: dict) -> Buffer:
    return Buffer(d["name"], tuple(d["shape"]), Format(**d["fmt"]), d["kind"])


def _dec_value(v: object) -> object:
    if isinstance(v, dict) and KIND_KEY in v:
        return _dec_kernel(v)
    if isinstance(v, dict) and "buffer" in v and "length" in v:
        return Ref(**v)
    if isinstance(v, list):
        return tuple(_dec_value(x) for x in v)
    return v


def _dec_kernel(d: dict) -> Kernel:
    cls = KERNEL_TYPES[d[KIND_KEY]]
    return cls(**{k: _dec_value(v) for k, v in d.items() if k != KIND_KEY})
