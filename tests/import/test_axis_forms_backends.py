"""The forms the ONNX importer writes one axis at a time (3-D and dilated max pooling, 3-D average
pooling with padding not counted, Pad in reflect, edge and wrap modes on any axis), ArgMax along
an axis (keepdims, select_last_index) and MaxPool's Indices output, in one model: the float
reference against onnxruntime, then compiled to fixed point and run bit-exact with the golden
model through host C and HLS C-simulation (16 and 8 bits), every element of the output tensor
compared; in the slow set also Cortex-M3 (QEMU), the Uno (simavr) and the accelerator (Icarus)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from hlsfix.fixedpoint.golden import quantize_input, run_golden
from hlsfix.fixedpoint.lower import lower
from hlsfix.fixedpoint.profile import profile
from hlsfix.fixedpoint.scales import FormatPolicy, assign_formats
from hlsfix.frontend.onnx import import_onnx
from hlsfix.ir.interp import run_float
from hlsfix.mcu import runners
from hlsfix.mcu.firmware import decode_records, emit_firmware
from hlsfix.memory.liveness import plan_memory
from tests.tools import require_tool

from .backend_checks import assert_hls_csim_equals_golden, assert_host_c_equals_golden
from .onnx_helpers import TensorProto, helper, model, run_ort

SHAPE = (1, 2, 4, 4, 4)


def node(op, inputs, outputs, **attrs):
    return helper.make_node(op, list(inputs), list(outputs), **attrs)


NODES = [
    node("MaxPool", ["x"], ["mp"], kernel_shape=[2, 2, 2], dilations=[2, 1, 1], pads=[0, 1, 0, 0, 0, 1]),
    node("AveragePool", ["x"], ["ap"], kernel_shape=[2, 3, 3], strides=[1, 2, 2], pads=[0, 1, 1, 0, 1, 1]),
    node("Pad", ["ap", "p_reflect"], ["pr"], mode="reflect"),
    node("Pad", ["mp", "p_edge"], ["pe"], mode="edge"),
    node("Pad", ["ap", "p_wrap"], ["pw"], mode="wrap"),
    node("ArgMax", ["mp"], ["am"], axis=3, keepdims=0, select_last_index=1),
    node("ArgMax", ["ap"], ["am2"], axis=2),
    node("MaxPool", ["x"], ["mq", "mi"], kernel_shape=[2, 2, 2], strides=[2, 2, 2]),
    node("Cast", ["mi"], ["mif"], to=TensorProto.FLOAT),
    node("Cast", ["am"], ["amf"], to=TensorProto.FLOAT),
    node("Cast", ["am2"], ["am2f"], to=TensorProto.FLOAT),
    *[node("Flatten", [t], [t + "_f"]) for t in ("pr", "pe", "pw", "amf", "am2f", "mif")],
    node("Concat", ["pr_f", "pe_f", "pw_f", "amf_f", "am2f_f", "mif_f"], ["y"], axis=1),
]
INITS = {
    "p_reflect": np.array([0, 0, 1, 0, 1, 0, 0, 0, 1, 1]),
    "p_edge": np.array([0, 0, 0, 1, 0, 0, 0, 0, 0, 1]),
    "p_wrap": np.array([0, 0, 0, 0, 1, 0, 0, 0, 0, 0]),
}
N_OUT = 96 + 100 + 36 + 16 + 8 + 16
# For the Uno: the same model without the reflect and edge Pads (the temporaries of the whole
# join need more than an AVR's 2 KB of RAM); wrap padding is the same form.
SMALL = [*NODES[:-1], node("Concat", ["pw_f", "amf_f", "am2f_f", "mif_f"], ["y"], axis=1)]


def onnx_model(small: bool = False):
    return model(SMALL if small else NODES, SHAPE, None, INITS)


@cache
def program(bits: int, small: bool = False):
    graph = import_onnx(onnx_model(small), name="axes", classify=False).graph
    x = np.random.default_rng(7).uniform(-1, 1, size=(260, 128))
    prof = profile(graph, x[:200])
    prog = lower(graph, assign_formats(graph, prof, FormatPolicy(bits=bits)), prof)
    x_q = quantize_input(prog, x[200:])
    return prog, x_q, run_golden(prog, x_q).output


def test_float_reference_agrees_with_onnxruntime() -> None:
    m = onnx_model()
    x = np.random.default_rng(8).uniform(-1, 1, size=(12, 128))
    got = run_float(import_onnx(m, classify=False).graph, x).reshape(12, -1)
    assert got.shape == (12, N_OUT)
    np.testing.assert_allclose(got, run_ort(m, x).reshape(12, -1), rtol=1e-5, atol=1e-6)


def test_a_join_of_vectors_stores_one_placement_entry_per_element() -> None:
    """The Concat of six flattened vectors (272 values) is placed by sparse 0/1 matrices: 272 stored
    ones in all, a few bytes each, not 272 × 272 dense entries (which avr-gcc refused)."""
    graph = import_onnx(onnx_model(), name="axes", classify=False).graph
    places = [p for p in graph.params if "place" in p.name]
    assert len(places) == 6 and all(p.sparse for p in places)
    assert sum(int(np.count_nonzero(graph.weights[p.name])) for p in places) == N_OUT
    placed = sum(b.nbytes for b in program(16)[0].buffers if "place" in b.name)
    assert 0 < placed < 6 * N_OUT


@pytest.mark.parametrize("bits", [16, 8])
def test_host_c_equals_golden(bits: int, tmp_path: Path) -> None:
    prog, x_q, golden = program(bits)
    assert golden.shape == (60, N_OUT) and len(np.unique(golden)) > 50  # outputs vary
    assert_host_c_equals_golden(prog, x_q, golden, tmp_path)


@pytest.mark.parametrize("bits", [16, 8])
def test_hls_csim_equals_golden(bits: int, tmp_path: Path) -> None:
    prog, x_q, golden = program(bits)
    assert_hls_csim_equals_golden(prog, x_q, golden, tmp_path)


@pytest.mark.slow
def test_avr_and_cortex_m_equal_golden(tmp_path: Path) -> None:
    for tool in ("avr-gcc", "avr-size", "arm-none-eabi-gcc", "qemu-system-arm"):
        require_tool(tool)
    prog, x_q, golden = program(16)
    fw = emit_firmware(prog, plan_memory(prog), x_q[:2], tmp_path)
    arm = runners.compile_cortex_m(fw.sources, tmp_path / "fw_arm.elf", include_dirs=fw.include_dirs)
    assert np.array_equal(decode_records(prog, runners.run_qemu(arm).records), golden[:2])
    prog, x_q, golden = program(16, small=True)
    assert golden.shape == (60, 76)
    fw = emit_firmware(prog, plan_memory(prog), x_q[:2], tmp_path / "avr")
    avr = runners.compile_avr(fw.sources, tmp_path / "fw.elf", include_dirs=fw.include_dirs)
    assert np.array_equal(decode_records(prog, runners.run_avr(avr).records), golden[:2])


@pytest.mark.slow
def test_accelerator_in_icarus_equals_golden(tmp_path: Path) -> None:
    pytest.importorskip("amaranth")
    pytest.importorskip("cocotb_tools")
    require_tool("iverilog")
    from hlsfix.sim.runner import run_cocotb

    prog, x_q, golden = program(16)
    res = run_cocotb(prog, x_q[:1], lanes=1, build_dir=tmp_path, trace=False)
    assert res.bit_exact and len(res.outputs) == 1
    assert np.array_equal(np.asarray(res.outputs).reshape(-1), golden[:1].reshape(-1))


def test_sd_export_reads_back_to_the_same_graph(tmp_path: Path) -> None:
    from hlsfix.frontend.export_sd import export_sd
    from hlsfix.frontend.seedot import load_program

    graph = import_onnx(onnx_model(), name="axes", classify=False).graph
    files = export_sd(graph, tmp_path)
    back = load_program(files.program, files.weights, name="axes")
    assert [type(n.op) for n in back.walk()] == [type(n.op) for n in graph.walk()]
    x = np.random.default_rng(9).uniform(-1, 1, size=(8, 128))
    assert np.array_equal(run_float(back, x), run_float(graph, x))


@pytest.mark.parametrize(
    "attrs",
    [
        dict(kernel_shape=[3], dilations=[2], pads=[1, 2], strides=[2]),
        dict(kernel_shape=[2], dilations=[3], ceil_mode=1, strides=[2], pads=[0, 1]),
        dict(kernel_shape=[2, 2], dilations=[2, 1], pads=[1, 0, 0, 1], strides=[1, 2]),
    ],
)
def test_dilated_max_pooling_of_rank_3_and_4_agrees_with_onnxruntime(attrs: dict) -> None:
    shape = (1, 2, 7) if len(attrs["kernel_shape"]) == 1 else (1, 2, 5, 6)
    m = model([node("MaxPool", ["x"], ["y"], **attrs)], shape, None)
    x = np.random.default_rng(10).normal(size=(12, int(np.prod(shape))))
    got = run_float(import_onnx(m, classify=False).graph, x).reshape(12, -1)
    np.testing.assert_allclose(got, run_ort(m, x).reshape(12, -1), rtol=1e-6, atol=1e-6)
