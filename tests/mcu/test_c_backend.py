"""The C backend is bit-exact with the golden model: host (sanitizers, whole test split),
AVR in simavr and Cortex-M in QEMU (20 inputs each, 16-bit), for every zoo model."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.golden import quantize_input, run_golden
from hlsfix.fixedpoint.lower import LowerOptions, lower
from hlsfix.fixedpoint.profile import profile
from hlsfix.fixedpoint.program import Buffer, Format, KernelProgram, Ref
from hlsfix.fixedpoint.scales import FormatPolicy, assign_formats, demotable_values
from hlsfix.mcu import runners
from hlsfix.mcu.firmware import decode_records, emit_firmware
from hlsfix.memory.liveness import plan_memory
from hlsfix.zoo import ZOO_NAMES, load_model
from tests.tools import require_tool

CONFIGS = ("16", "8", "linear", "mixed")
N_SIM = 20


@dataclass(frozen=True)
class Case:
    program: KernelProgram
    x_q: np.ndarray
    golden: np.ndarray


def make_case(name: str, config: str) -> Case:
    m = load_model(name)
    assert m.data is not None
    prof = profile(m.graph, m.data.x_train)
    policy = FormatPolicy(bits=8 if config == "8" else 16)
    if config == "mixed":  # every other demotable value at 8 bits: weights and activations mixed
        for value in demotable_values(m.graph)[:6:2]:
            policy = policy.with_override(value, 8, 0)
    options = LowerOptions(activation="linear" if config == "linear" else "table")
    prog = lower(m.graph, assign_formats(m.graph, prof, policy), prof, options)
    x_q = quantize_input(prog, m.data.x_test)
    return Case(prog, x_q, run_golden(prog, x_q).output)


def host_run(case: Case, out_dir: Path) -> np.ndarray:
    require_tool("gcc")
    fw = emit_firmware(case.program, plan_memory(case.program), case.x_q, out_dir)
    exe = runners.compile_host(fw.sources, out_dir / "fw", sanitize=True, include_dirs=fw.include_dirs)
    return decode_records(case.program, runners.run_host(exe).records)


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("name", ZOO_NAMES)
def test_host_equals_golden_on_the_whole_test_split(name: str, config: str, tmp_path: Path) -> None:
    case = make_case(name, config)
    got = host_run(case, tmp_path)
    assert got.shape == case.golden.shape
    assert np.array_equal(got, case.golden), f"{int(np.sum(got != case.golden))} mismatches"


def test_a_flipped_constant_is_caught(tmp_path: Path) -> None:
    """Change one constant in the emitted C: the check must see a mismatch with the golden model
    (and the changed C must still agree with the golden model of the changed program)."""
    case = make_case("mlp", "16")
    emit_firmware(case.program, plan_memory(case.program), case.x_q, tmp_path)
    model_c = tmp_path / "model.c"
    decl = "static const int16_t k_W2[] HLSFIX_PROGMEM = {\n    "
    head, found, rest = model_c.read_text().partition(decl)
    assert found
    first, _, tail = rest.partition(",")
    flipped = int(first) ^ -0x8000  # flip the sign bit of the first weight of the last layer
    model_c.write_text(f"{head}{decl}{flipped},{tail}")
    exe = runners.compile_host(
        (model_c, *emit_sources(tmp_path)), tmp_path / "fw", sanitize=True, include_dirs=(tmp_path, KERNELS)
    )
    got = decode_records(case.program, runners.run_host(exe).records)
    assert not np.array_equal(got, case.golden)
    consts = dict(case.program.constants)
    consts["W2"] = consts["W2"].copy()
    consts["W2"][0] = flipped
    changed = dataclasses.replace(case.program, constants=consts)
    assert np.array_equal(got, run_golden(changed, case.x_q).output)


KERNELS = runners.MCU_DIR / "kernels"


def emit_sources(d: Path) -> tuple[Path, ...]:
    return (d / "firmware.c", runners.MCU_DIR / "kernels" / "hlsfix_kernels.c")


# ---- simulated MCUs: one firmware per model per target, built once per session -------------


@pytest.fixture(scope="session")
def sim_firmwares(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Case, Path]]:
    out = {}
    for name in ZOO_NAMES:
        case = make_case(name, "16")
        sub = Case(case.program, case.x_q[:N_SIM], case.golden[:N_SIM])
        d = tmp_path_factory.mktemp(f"sim-{name}")
        emit_firmware(sub.program, plan_memory(sub.program), sub.x_q, d)
        out[name] = (sub, d)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", ZOO_NAMES)
def test_avr_simavr_equals_golden(name: str, sim_firmwares: dict[str, tuple[Case, Path]]) -> None:
    for tool in ("avr-gcc", "avr-size"):
        require_tool(tool)
    case, d = sim_firmwares[name]
    # the shipped flags (-O2) and the Arduino IDE's (-Os): the kernels' assembly must not care
    for opt in (runners.AVR_OPT, "-Os"):
        elf = runners.compile_avr(
            emit_sources(d) + (d / "model.c",),
            d / "fw.elf",
            include_dirs=(d, runners.MCU_DIR / "kernels"),
            opt=opt,
        )
        run = runners.run_avr(elf)
        assert np.array_equal(decode_records(case.program, run.records), case.golden), opt
        assert len(run.measurements) == N_SIM and min(run.measurements) > 0
        _, ram = runners.avr_size(elf)
        assert ram < 2048  # fits an Uno


@pytest.mark.slow
@pytest.mark.parametrize("name", ZOO_NAMES)
def test_cortex_m_qemu_equals_golden(name: str, sim_firmwares: dict[str, tuple[Case, Path]]) -> None:
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm"):
        require_tool(tool)
    case, d = sim_firmwares[name]
    elf = runners.compile_cortex_m(
        emit_sources(d) + (d / "model.c",), d / "fw_arm.elf", include_dirs=(d, runners.MCU_DIR / "kernels")
    )
    run = runners.run_qemu(elf)
    assert np.array_equal(decode_records(case.program, run.records), case.golden)
    assert len(run.measurements) == N_SIM


# ---- kernels the zoo does not exercise: a hand-built program over random inputs ------------


F16, F8 = Format(16, 8), Format(8, 4)
# The part tests/hls/test_hls_csim.py runs through the HLS backend too.
COMMON_BUFFERS = (
    Buffer("x", (2, 3, 4), F16, "input"),
    Buffer("p", (4, 3, 2), F16, "temp"),
    Buffer("w", (2, 2), F16, "temp"),
    Buffer("n", (24,), F8, "temp"),
    Buffer("c", (24,), F8, "temp"),
    Buffer("m", (1, 2, 2, 2), F8, "temp"),
    Buffer("s", (2,), F16, "temp"),
    Buffer("h", (24,), F16, "temp"),
    Buffer("k", (2,), F16, "const"),
)
COMMON_KERNELS: dict[str, tuple[kp.Kernel, ...]] = {
    "w": (  # permute, then a window at a register offset
        kp.Permute(Ref("x", 24), "p", (2, 3, 4), (2, 1, 0)),
        kp.IntOp("+", 1, 0, "r_a"),
        kp.Window(Ref("p", 24), "w", (4, 3, 2), ("r_a", 2, 0), (2, 1, 2)),
    ),
    "m": (  # negated saturating left shift to 8 bits, clamp, padded max pool
        kp.Rescale(Ref("x", 24), "n", 24, -2, negate=True),
        kp.Clamp(Ref("n", 24), "c", 24, -50, 60),
        kp.MaxPool(Ref("c", 8), "m", (1, 2, 2, 2), (1, 2, 2, 2), (2, 2), (1, 0, 1, 0), (1, 1)),
    ),
    "s": (kp.Permute(Ref("x", 4), "w", (2, 2), (1, 0)), kp.Select(Ref("x", 1), 0, "w", "k", "s", False, 2)),
    "h": (kp.HardSigmoidTanh("sigmoid", Ref("x", 24), "h", 24, 3, 128, 0, 256, 32),),
}
SYNTHETIC_BUFFERS = (*COMMON_BUFFERS, Buffer("v", (2, 6), F16, "temp"), Buffer("y", (1, 1), F16, "temp"))
SYNTHETIC_KERNELS: dict[str, tuple[kp.Kernel, ...]] = {
    **COMMON_KERNELS,
    # splices with fewer ranges than dimensions (the rest taken whole): x[r_a:+2] of a (4, 6)
    # view, and y[0:+1] of a (4, 1) one
    "v": (kp.IntOp("+", 1, 0, "r_a"), kp.Window(Ref("x", 24), "v", (4, 6), ("r_a",), (2,))),
    "y": (kp.Window(Ref("x", 4), "y", (4, 1), (0,), (1,)),),
}


def synthetic_program(
    out: str,
    buffers: tuple[Buffer, ...] = SYNTHETIC_BUFFERS,
    kernels: dict[str, tuple[kp.Kernel, ...]] = SYNTHETIC_KERNELS,
) -> KernelProgram:
    """A program of ``kernels[out]`` over ``buffers`` (input x, one register r_a, constant k)."""
    return KernelProgram(
        "synthetic", "mixed", "x", out, False, buffers, kernels[out], ("r_a",), {"k": np.array([7, -9])}
    )


def synthetic_inputs() -> np.ndarray:
    """200 random int16 rows of x, the first five the extremes, zero and ±1."""
    rng = np.random.default_rng(0)
    x_q = rng.integers(-32768, 32768, size=(200, 24))
    x_q[:5] = np.array([-32768, 32767, 0, 1, -1])[:, None]
    return x_q


@pytest.mark.parametrize("out", sorted(SYNTHETIC_KERNELS))
def test_kernels_outside_the_zoo_host_equals_golden(out: str, tmp_path: Path) -> None:
    prog = synthetic_program(out)
    x_q = synthetic_inputs()
    case = Case(prog, x_q, run_golden(prog, x_q).output)
    got = host_run(case, tmp_path)
    assert np.array_equal(got, case.golden)
