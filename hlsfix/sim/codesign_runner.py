"""Co-simulate a partitioned model: the generated host C against the FPGA side's Verilog.

``run_codesign(program, partition, x_q, host)`` emits the FPGA side (accelerator with the
partition's segments behind an SPI or AXI4-Lite slave), compiles the generated host C for this
machine with the pipe transport, and runs both under cocotb (``tb_codesign.py`` relays every SPI
byte or AXI access of the host to the pins of the Verilog). It returns the host's outputs, whether
each equals the golden model's, and the simulated link + accelerator time of every inference.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hlsfix.codesign import regmap
from hlsfix.codesign.costs import HOST_LINKS
from hlsfix.codesign.link_costs import ELEMENT_BYTES, FPGA_HZ, SPI_SHIFT_CYCLES_PER_BYTE, host_link
from hlsfix.codesign.transfers import Partition
from hlsfix.fixedpoint.golden import run_golden
from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.rtl.microcode import Image, compile_image
from hlsfix.sim.runner import run_testbench

SIM_DIR = Path(__file__).resolve().parent


@dataclass
class CosimResult:
    outputs: np.ndarray  # (N,) classes or (N, size) output buffers, as the host C returned them
    expected: np.ndarray
    bit_exact: bool
    mismatches: list[int]
    link_ps: list[int]  # per inference: simulated time from its first link access to its last
    link_bytes: list[int]  # per inference: SPI bytes, or AXI accesses × 4
    host_hz: int
    image: Image
    wall_seconds: float

    @property
    def link_host_cycles(self) -> float:
        """Mean link + accelerator time per inference, in host clock cycles."""
        return float(np.mean(self.link_ps)) * self.host_hz / 1e12

    @property
    def fpga_cycles(self) -> int:
        """Predicted accelerator cycles of one inference (the sum of its segments)."""
        return sum(self.image.segment_cycles)


def _link_timing(program: KernelProgram, host: str) -> dict:
    """How the testbench paces the host's link: SCK at F_CPU/2 (an Uno), and after each
    transaction the driver's own measured cycles (see ``link_costs.measure_driver``)."""
    link = host_link(program, host)
    d = link.driver
    e = ELEMENT_BYTES.index(link.data_bytes) if link.data_bytes in ELEMENT_BYTES else 1
    return {
        "host_hz": link.host_hz,
        "data_bytes": link.data_bytes,
        "sck_half_period_ps": round(1e12 / link.host_hz * SPI_SHIFT_CYCLES_PER_BYTE / 16),
        "data_base": regmap.DATA_BASE,
        "reg_base": regmap.REG_BASE,
        "status_word": regmap.STATUS,
        "start_word": regmap.START,
        "driver": {
            "write_fixed": d.write_fixed[e],
            "write_per_word": d.write_per_word[e],
            "read_fixed": d.read_fixed[e],
            "read_per_word": d.read_per_word[e],
            "write_register": d.write_register,
            "read_register": d.read_register,
            "start": d.start,
            "poll": d.poll,
        },
    }


def _write_inputs(path: Path, x_q: np.ndarray) -> None:
    path.write_text("".join(" ".join(str(int(v)) for v in row) + "\n" for row in x_q))


def _read_outputs(path: Path) -> np.ndarray:
    rows = [[int(v) for v in line.split()] for line in path.read_text().splitlines() if line.strip()]
    return np.array(rows, dtype=np.int64)


def run_codesign(
    program: KernelProgram,
    partition: Partition,
    x_q: np.ndarray,
    host: str,
    *,
    lanes: int = 1,
    build_dir: Path | None = None,
    host_command: list[str] | None = None,
    simulator: str = "icarus",
    pace: bool = True,
) -> CosimResult:
    """Co-simulate on every row of ``x_q``. ``host_command`` replaces the generated host program
    (a scripted host speaking the pipe protocol, for error-path tests); it is run with the inputs
    file and the outputs file as its last two arguments. ``pace=False`` leaves out the host
    driver's own time between transactions (the wire still runs at the host's rate)."""
    from hlsfix.codesign.host_c import compile_cosim, emit_host
    from hlsfix.codesign.top import TOP, emit_codesign_verilog

    if not partition.segments:
        raise ValueError("co-simulation needs at least one FPGA segment (this partition is all-MCU)")
    t0 = time.monotonic()
    gateware_link, c_link = HOST_LINKS[host]
    pacing = _link_timing(program, host)
    if not pace:
        pacing["driver"] = dict.fromkeys(pacing["driver"], 0)
    x_q = np.asarray(x_q, dtype=np.int64).reshape(len(x_q), -1)
    expected = run_golden(program, x_q).output.reshape(len(x_q), -1)
    image = compile_image(program, lanes, segments=[s.kernels for s in partition.segments])
    tmp = Path(tempfile.mkdtemp(prefix="hlsfix-cosim-")) if build_dir is None else Path(build_dir)
    tmp.mkdir(parents=True, exist_ok=True)
    verilog = emit_codesign_verilog(image, gateware_link, tmp)
    inputs, outputs = tmp / "inputs.txt", tmp / "outputs.txt"
    _write_inputs(inputs, x_q)
    outputs.unlink(missing_ok=True)
    if host_command is None:
        emitted = emit_host(program, partition, image, c_link, tmp / "host")
        host_command = [str(compile_cosim(emitted, tmp / "host" / "host_cosim"))]
    cfg = {
        "link": gateware_link,
        "host_command": [*host_command, str(inputs), str(outputs)],
        "clk_period_ps": round(1e12 / FPGA_HZ),
        **pacing,
    }
    res = run_testbench(simulator, [verilog], TOP, "tb_codesign", tmp, cfg)
    if res["host_status"] != 0:
        raise RuntimeError(f"the host program failed (status {res['host_status']}; see {tmp})")
    got = _read_outputs(outputs) if outputs.exists() else np.zeros((0, expected.shape[1]), np.int64)
    if program.output_is_class:
        got, expected = got.reshape(-1), expected[:, 0]
    mismatches = [i for i in range(len(x_q)) if i >= len(got) or not np.array_equal(got[i], expected[i])]
    inferences = sorted(res["inferences"], key=lambda r: r["n"])
    return CosimResult(
        outputs=got,
        expected=expected,
        bit_exact=not mismatches and len(got) == len(x_q),
        mismatches=mismatches,
        link_ps=[r["link_ps"] for r in inferences],
        link_bytes=[r["spi_bytes"] if gateware_link == "spi" else r["axi_accesses"] * 4 for r in inferences],
        host_hz=pacing["host_hz"],
        image=image,
        wall_seconds=time.monotonic() - t0,
    )
