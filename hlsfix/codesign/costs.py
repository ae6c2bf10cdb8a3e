"""The co-design cost model: host cycles of a partition's MCU kernels, accelerator segments and link.

Everything is counted in *host* cycles (the MCU's clock), since the host runs the inference and
waits for the FPGA:

* MCU kernels -- measured, per top-level kernel, by one firmware built with ``kernel_marks``
  (see ``hlsfix/mcu/emit.py``): exact simavr cycles on the Arduino Uno. For the MicroBlaze there
  is no simulator here: QEMU Cortex-M3 *instruction* counts of the same code stand in for
  MicroBlaze cycles at CPI 1 (an estimate, labelled ``estimated=True`` in every record).
* accelerator segments -- the exact predicted cycles (start to idle) of ``compile_image(...,
  segments=...)``, converted at the host/FPGA clock ratio.
* the link -- the host driver's own cycles per call (measured, ``link_costs.py``) plus the wire's
  time (SPI bytes at F_CPU/2; AXI4-Lite accesses), for the Partition's transfers
  (``transfers.py``), START and the STATUS polls that wait for DONE.
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from hlsfix.codesign.link_costs import REGISTER_WIRE_BYTES, HostLink, host_link, write_atomically
from hlsfix.codesign.transfers import FPGA, Partition
from hlsfix.errors import HlsfixError
from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.rtl.microcode import compile_image

HOSTS = ("arduino-uno", "microblaze")
# Each host's link as the gateware (top.LINKS) and the host C (host_c.LINKS) name it.
HOST_LINKS = {"arduino-uno": ("spi", "spi"), "microblaze": ("axi", "mmio")}
# Measurements per prediction with kernel marks: the prediction's entry, then one per kernel.
# Sum over them equals the unmarked whole-prediction measurement up to the register saves and
# reloads the extra (opaque) marker calls cause: at most this many cycles per mark on the zoo
# (bonsai: 112 cycles over 27 marks; protonn 2 over 4; fastgrnn 0 over 6).
KERNEL_MARK_PERTURBATION_CYCLES = 8


class UnknownHost(HlsfixError):
    """A co-design host that hlsfix has no cost model for."""


def check_host(host: str) -> str:
    if host not in HOSTS:
        raise UnknownHost(f"co-design host must be one of {', '.join(HOSTS)}, not {host!r}")
    return host


def link_for(program: KernelProgram, host: str) -> HostLink:
    """``host``'s link to the accelerator, with the driver's costs measured for ``program``."""
    return host_link(program, check_host(host))


# ------------------------------------------------------------------------------------------
# MCU kernels (measured)


@dataclass(frozen=True)
class McuKernelCycles:
    """Host cost of each top-level kernel of one program, mean over ``inputs`` inputs."""

    host: str
    cycles: tuple[float, ...]  # per top-level kernel (a Loop is one)
    entry_cycles: float  # the prediction's entry before kernel 0, paid on every partition
    inputs: int
    unit: str  # what was counted: "cycles" (simavr) or "instructions" (QEMU)
    estimated: bool  # True: not the host's own cycles (MicroBlaze from Cortex-M3 instructions)
    source: str

    @property
    def whole(self) -> float:
        return self.entry_cycles + sum(self.cycles)


def default_inputs(program: KernelProgram, n: int = 4) -> np.ndarray:
    """Deterministic stand-in inputs when the caller has no data: standard normal values
    quantised to the input's format (data-dependent kernels, e.g. Bonsai's tree walk, will
    follow the paths these take; pass real inputs where they exist)."""
    fmt = program.input_buffer.fmt
    x = np.random.default_rng(0).standard_normal((n, program.input_buffer.size))
    return np.clip(np.floor(x * 2.0**fmt.frac + 0.5), fmt.qmin, fmt.qmax).astype(np.int64)


def _sources_fingerprint() -> str:
    """The code a measurement depends on besides the program: kernel library, templates, targets."""
    from hlsfix.mcu import emit, runners

    files = sorted(emit.KERNELS_DIR.iterdir()) + [
        emit.TEMPLATES_DIR / "model.c.j2",
        emit.TEMPLATES_DIR / "firmware.c.j2",
        Path(emit.__file__),
        runners.TARGET_AVR,
        runners.TARGET_CORTEXM,
        runners.SIMAVR_HARNESS_SRC,
    ]
    digest = hashlib.sha256(runners.AVR_OPT.encode())
    for f in files:
        if f.is_file():
            digest.update(f.read_bytes())
    return digest.hexdigest()


def program_key(program: KernelProgram) -> str:
    digest = hashlib.sha256(program.to_json().encode())
    for name in sorted(program.constants):
        digest.update(name.encode() + np.ascontiguousarray(program.constants[name]).tobytes())
    return digest.hexdigest()


def mcu_kernel_cycles(
    program: KernelProgram,
    host: str,
    x_q: np.ndarray | None = None,
    *,
    cache_dir: Path | None = None,
) -> McuKernelCycles:
    """Per-top-level-kernel host cost of ``program``, from one marked firmware run on ``x_q``
    (quantised inputs, one row each; default ``default_inputs``, at least 3 rows).

    ``arduino-uno``: simavr cycles of an ATmega328P at 16 MHz (exact). ``microblaze``: QEMU
    Cortex-M3 executed instructions, used as the estimate of MicroBlaze cycles at CPI 1 -- there
    is no MicroBlaze simulator here; the record says ``estimated=True``. Cached on disk (under the
    runners' cache directory) by program, inputs, host and the kernel library and templates."""
    from hlsfix.mcu import runners

    check_host(host)
    x_q = default_inputs(program) if x_q is None else np.asarray(x_q, dtype=np.int64).reshape(len(x_q), -1)
    if len(x_q) < 3:
        raise ValueError(f"per-kernel cycles need at least 3 inputs to average, not {len(x_q)}")
    key = hashlib.sha256(
        "\0".join([program_key(program), host, _sources_fingerprint()]).encode() + x_q.tobytes()
    ).hexdigest()[:24]
    cache = (cache_dir or runners.default_cache_dir()) / "codesign" / f"mcu-{host}-{key}.json"
    if cache.exists():
        saved = json.loads(cache.read_text())
        return McuKernelCycles(**{**saved, "cycles": tuple(saved["cycles"])})
    record = _measure_kernels(program, host, x_q)
    write_atomically(cache, json.dumps(asdict(record)))
    return record


def _measure_kernels(program: KernelProgram, host: str, x_q: np.ndarray) -> McuKernelCycles:
    from hlsfix.fixedpoint.golden import run_golden
    from hlsfix.mcu import runners
    from hlsfix.mcu.firmware import decode_records, emit_firmware
    from hlsfix.memory.liveness import plan_memory

    n_top = len(program.kernels)
    with tempfile.TemporaryDirectory(prefix="hlsfix-codesign-") as tmp:
        d = Path(tmp)
        fw = emit_firmware(program, plan_memory(program), x_q, d, kernel_marks=True)
        if host == "arduino-uno":
            elf = runners.compile_avr(fw.sources, d / "fw.elf", include_dirs=fw.include_dirs)
            run = runners.run_avr(elf)
            source, estimated = f"{run.simulator}, per-kernel marks", False
        else:
            elf = runners.compile_cortex_m(fw.sources, d / "fw.elf", include_dirs=fw.include_dirs)
            run = runners.run_qemu(elf)
            source = f"{run.simulator} instructions as MicroBlaze cycles at CPI 1 (estimate)"
            estimated = True
    # a measurement of wrong outputs would be worthless: the marks must not change results
    if not np.array_equal(decode_records(program, run.records), run_golden(program, x_q).output):
        raise AssertionError(f"{program.name}: the marked firmware's outputs differ from the golden model")
    per = np.asarray(run.measurements, dtype=np.float64).reshape(len(x_q), n_top + 1).mean(axis=0)
    return McuKernelCycles(
        host=host,
        cycles=tuple(float(c) for c in per[1:]),
        entry_cycles=float(per[0]),
        inputs=len(x_q),
        unit=run.unit,
        estimated=estimated,
        source=source,
    )


# ------------------------------------------------------------------------------------------
# accelerator segments (exact)


@dataclass(frozen=True)
class AcceleratorCosts:
    """The exact predicted cycles (FPGA clock, start to idle) of every segment asked for, and
    where the tensors the host may move live in the accelerator's RAM."""

    lanes: int
    segment_cycles: dict[tuple[int, int], int]  # (first kernel, last kernel + 1) → cycles
    strides: dict[str, int]  # RAM words per element of each non-constant buffer

    def cycles(self, kernels: Sequence[int]) -> int:
        return self.segment_cycles[(kernels[0], kernels[-1] + 1)]


def accelerator_costs(
    program: KernelProgram, lanes: int, spans: Sequence[tuple[int, int]] | None = None
) -> AcceleratorCosts:
    """Exact cycles of the segments ``spans`` ((start, stop) top-level kernel ranges; default:
    every one of the n(n+1)/2 possible segments), from one ``compile_image`` call: each segment is
    scheduled on its own from an idle pipeline, so listing them together changes no count."""
    n = len(program.kernels)
    spans = [(a, b) for a in range(n) for b in range(a + 1, n + 1)] if spans is None else list(spans)
    img = compile_image(program, lanes, segments=[list(range(a, b)) for a, b in spans])
    strides = {name: loc.scale for name, loc in img.locs.items() if program.buffer(name).kind != "const"}
    return AcceleratorCosts(lanes, dict(zip(spans, img.segment_cycles, strict=True)), strides)


_SEGMENT_COSTS: dict[tuple[str, int], AcceleratorCosts] = {}


def all_segment_costs(program: KernelProgram, lanes: int) -> AcceleratorCosts:
    """``accelerator_costs`` of every possible segment, cached per (program, lanes) in the process."""
    key = (program_key(program), lanes)
    if key not in _SEGMENT_COSTS:
        _SEGMENT_COSTS[key] = accelerator_costs(program, lanes)
    return _SEGMENT_COSTS[key]


# ------------------------------------------------------------------------------------------
# prediction


@dataclass(frozen=True)
class TensorMove:
    """What one transfer of a tensor costs the host (the driver's call and the link's time)."""

    bytes: int  # data bytes on the wire (headers not counted)
    write_cycles: float  # host → FPGA
    read_cycles: float  # FPGA → host


def tensor_move(program: KernelProgram, name: str, acc: AcceleratorCosts, link: HostLink) -> TensorMove:
    if name in program.registers:
        return TensorMove(REGISTER_WIRE_BYTES, link.register_cycles(True), link.register_cycles(False))
    b = program.buffer(name)
    stride, elem_bytes = acc.strides[name], b.fmt.bits // 8
    return TensorMove(
        link.buffer_bytes(b.size),
        link.buffer_cycles(b.size, stride, elem_bytes, write=True),
        link.buffer_cycles(b.size, stride, elem_bytes, write=False),
    )


def polls_until_done(fpga_host_cycles: float, poll_cycles: float, first_sample: float) -> int:
    """STATUS polls back to back after START until one sees DONE. The run begins when START's
    last byte (or AXI write) arrives; poll k samples STATUS ``first_sample + (k - 1) ·
    poll_cycles`` later (START's remaining driver time, then the poll's header on the wire), and
    the first sample at or after the run's end sees DONE."""
    late = fpga_host_cycles - first_sample
    return 1 if late <= 0 else math.ceil(late / poll_cycles) + 1


@dataclass(frozen=True)
class SegmentCost:
    index: int
    kernels: tuple[int, ...]
    fpga_cycles: int  # FPGA clock, start to idle
    fpga_host_cycles: float  # the same time in host cycles
    write_bytes: int  # on the wire, data only
    read_bytes: int
    polls: int
    link_cycles: float  # writes, START and reads, host cycles
    wait_cycles: float  # STATUS polls until DONE (covers the FPGA's run), host cycles

    @property
    def total_cycles(self) -> float:
        return self.link_cycles + self.wait_cycles


@dataclass(frozen=True)
class Prediction:
    """Predicted end-to-end latency of one partition, in host cycles."""

    host: str
    sides: tuple[str, ...]
    mcu_cycles: float  # the MCU's kernels plus the prediction's entry
    fpga_cycles: int  # FPGA clock, all segments
    fpga_host_cycles: float
    link_bytes: int
    link_cycles: float  # transfers and START, host cycles
    wait_cycles: float  # STATUS polling while the FPGA runs, host cycles
    segments: tuple[SegmentCost, ...]
    estimated: bool  # MCU or driver figures are estimates (MicroBlaze): see their sources

    @property
    def total_cycles(self) -> float:
        return self.mcu_cycles + self.link_cycles + self.wait_cycles


def segment_cost(
    program: KernelProgram,
    index: int,
    kernels: tuple[int, ...],
    writes: Sequence[str],
    reads: Sequence[str],
    acc: AcceleratorCosts,
    link: HostLink,
) -> SegmentCost:
    """One segment: a transfer per tensor in, START, STATUS polls until DONE, a transfer per
    tensor out (as the host driver does them)."""
    ins = [tensor_move(program, n, acc, link) for n in writes]
    outs = [tensor_move(program, n, acc, link) for n in reads]
    fpga = acc.cycles(kernels)
    fpga_host = fpga * link.host_cycles_per_fpga_cycle
    polls = polls_until_done(fpga_host, link.poll_cycles(), link.first_status_sample())
    return SegmentCost(
        index=index,
        kernels=kernels,
        fpga_cycles=fpga,
        fpga_host_cycles=fpga_host,
        write_bytes=sum(m.bytes for m in ins),
        read_bytes=sum(m.bytes for m in outs),
        polls=polls,
        link_cycles=sum(m.write_cycles for m in ins) + link.start_cycles() + sum(m.read_cycles for m in outs),
        wait_cycles=polls * link.poll_cycles(),
    )


def predict(
    program: KernelProgram,
    partition: Partition,
    host: str,
    lanes: int,
    *,
    mcu: McuKernelCycles | None = None,
    accelerator: AcceleratorCosts | None = None,
) -> Prediction:
    """The predicted latency of ``partition`` (from ``plan_partition``) on ``host``; the
    accelerator's cycles exact for exactly these segments unless ``accelerator`` is given."""
    link = link_for(program, host)
    mcu = mcu if mcu is not None else mcu_kernel_cycles(program, host)
    if mcu.host != host or len(mcu.cycles) != len(program.kernels):
        raise ValueError(
            f"MCU costs are for {mcu.host} and {len(mcu.cycles)} kernels, not {host} and this program"
        )
    if accelerator is None:
        spans = [(s.kernels[0], s.kernels[-1] + 1) for s in partition.segments]
        accelerator = accelerator_costs(program, lanes, spans or [(0, len(program.kernels))])
    segments = tuple(
        segment_cost(program, s.index, s.kernels, s.writes, s.reads, accelerator, link)
        for s in partition.segments
    )
    on_mcu = (c for c, side in zip(mcu.cycles, partition.sides, strict=True) if side != FPGA)
    return Prediction(
        host=host,
        sides=partition.sides,
        mcu_cycles=mcu.entry_cycles + sum(on_mcu),
        fpga_cycles=sum(s.fpga_cycles for s in segments),
        fpga_host_cycles=sum(s.fpga_host_cycles for s in segments),
        link_bytes=sum(s.write_bytes + s.read_bytes for s in segments),
        link_cycles=sum(s.link_cycles for s in segments),
        wait_cycles=sum(s.wait_cycles for s in segments),
        segments=segments,
        estimated=mcu.estimated or link.driver.estimated,
    )
