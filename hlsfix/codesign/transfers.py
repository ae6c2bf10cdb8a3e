"""A partition of a program's kernels between the MCU host and the FPGA, and the tensors it moves.

The unit of placement is a top-level kernel of the KernelProgram (a Loop goes whole with its
body). The FPGA's kernels form *segments*: maximal runs of consecutive FPGA kernels. For each
segment the host writes the tensors (buffers and integer registers) that the segment reads and the
FPGA does not already hold, starts the segment, waits for it, and reads back what later MCU
kernels need (or the model output). A tensor is valid on a side from the kernel that writes it
there, or from a transfer, until a kernel on the other side writes it again.

The model input starts on the host. Constant buffers (weights) live on both sides, so they never
move. A kernel writing a tensor that is held only by the other side first receives it (a Loop may
write a buffer it also reads; the rule is conservative and costs nothing for fresh temporaries,
which no side holds yet).
"""

from __future__ import annotations

from dataclasses import dataclass

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.program import KernelProgram

MCU = "mcu"
FPGA = "fpga"
SIDES = (MCU, FPGA)


@dataclass(frozen=True)
class Segment:
    """One run of consecutive FPGA kernels and the tensors moved around it."""

    index: int
    kernels: tuple[int, ...]  # top-level kernel indices, consecutive
    writes: tuple[str, ...]  # host → FPGA before the start (buffer or register names)
    reads: tuple[str, ...]  # FPGA → host after the segment (buffer or register names)


@dataclass(frozen=True)
class Partition:
    """Side of each top-level kernel, and the transfer plan that follows from it."""

    sides: tuple[str, ...]
    segments: tuple[Segment, ...]

    @property
    def fpga_kernels(self) -> tuple[int, ...]:
        return tuple(i for i, s in enumerate(self.sides) if s == FPGA)

    @property
    def mcu_kernels(self) -> tuple[int, ...]:
        return tuple(i for i, s in enumerate(self.sides) if s == MCU)

    def segment_before(self, kernel: int) -> Segment | None:
        """The segment that starts at top-level kernel ``kernel``, if one does."""
        return next((s for s in self.segments if s.kernels[0] == kernel), None)

    def describe(self) -> str:
        return "".join("F" if s == FPGA else "M" for s in self.sides)


def kernel_effects(k: kp.Kernel, program: KernelProgram) -> tuple[set[str], set[str]]:
    """(tensors read, tensors written) of a top-level kernel: non-constant buffers and registers."""
    consts = {b.name for b in program.buffers if b.kind == "const"}
    reads: set[str] = set()
    writes: set[str] = set()
    for sub in kp.walk_kernels((k,)):
        reads |= {r.buffer for r in sub.reads() if r.buffer not in consts}
        reads |= set(sub.registers_read())
        if isinstance(sub, kp.Loop):
            writes.add(sub.index)
            reads.add(sub.index)
        else:
            writes.add(sub.out)
    return reads, writes


def plan_partition(program: KernelProgram, sides: tuple[str, ...] | list[str]) -> Partition:
    """The segments and transfers of placing top-level kernel i on ``sides[i]`` (``mcu``/``fpga``).

    After the last kernel the model output (a register or a buffer) must be on the host."""
    sides = tuple(sides)
    if len(sides) != len(program.kernels):
        raise ValueError(
            f"a partition must give a side for each of {len(program.kernels)} kernels, not {len(sides)}"
        )
    bad = [s for s in sides if s not in SIDES]
    if bad:
        raise ValueError(f"kernel sides must be {SIDES}, not {bad[0]!r}")
    held: dict[str, set[str]] = {program.input: {MCU}}
    runs: list[tuple[list[int], list[str], list[str]]] = []  # (kernels, writes, reads)

    def fetch(name: str, side: str) -> None:
        owners = held.get(name, set())
        if side in owners or not owners:
            return
        if side == FPGA:
            runs[-1][1].append(name)
        else:
            runs[-1][2].append(name)  # the FPGA copy is from the last segment, still intact
        owners.add(side)

    for i, (k, side) in enumerate(zip(program.kernels, sides, strict=True)):
        if side == FPGA and (i == 0 or sides[i - 1] != FPGA):
            runs.append(([], [], []))
        if side == FPGA:
            runs[-1][0].append(i)
        reads, writes = kernel_effects(k, program)
        for name in sorted(reads | writes):
            fetch(name, side)
        for name in writes:
            held[name] = {side}
    if runs:
        fetch(program.output, MCU)
    elif MCU not in held.get(program.output, {MCU}):
        raise AssertionError("unreachable: an all-MCU partition leaves the output on the host")
    segments = tuple(
        Segment(n, tuple(ks), tuple(dict.fromkeys(w)), tuple(dict.fromkeys(r)))
        for n, (ks, w, r) in enumerate(runs)
    )
    return Partition(sides, segments)


def tensor_bytes(program: KernelProgram, name: str) -> int:
    """Bytes of a tensor on the host (a register is an int32)."""
    if name in program.registers:
        return 4
    return program.buffer(name).nbytes
