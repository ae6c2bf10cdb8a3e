"""Each golden kernel on tiny hand-built KernelPrograms, against values worked out by hand here."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.golden import run_golden
from hlsfix.fixedpoint.program import Buffer, Format, KernelProgram, Ref


def buf(name: str, shape: tuple[int, ...], bits: int = 16, kind: str = "temp", frac: int = 0) -> Buffer:
    return Buffer(name, shape, Format(bits, frac), kind)  # type: ignore[arg-type]


def make(
    buffers: Sequence[Buffer],
    kernels: Sequence[kp.Kernel],
    output: str,
    *,
    is_class: bool = False,
    registers: Sequence[str] = (),
    constants: dict[str, Sequence[int]] | None = None,
) -> KernelProgram:
    inputs = [b.name for b in buffers if b.kind == "input"]
    assert len(inputs) == 1
    consts = {k: np.asarray(v, dtype=np.int64) for k, v in (constants or {}).items()}
    return KernelProgram(
        name="hand",
        bits="16",
        input=inputs[0],
        output=output,
        output_is_class=is_class,
        buffers=tuple(buffers),
        kernels=tuple(kernels),
        registers=tuple(registers),
        constants=consts,
    )


def rows(*r: Sequence[int]) -> np.ndarray:
    return np.array(r, dtype=np.int64)


# ---------------------------------------------------------------------------------------------
# MatMul


def matmul_program(out_bits: int, out_shift: int) -> KernelProgram:
    return make(
        [buf("x", (2, 2), kind="input"), buf("B", (2, 2), kind="const"), buf("y", (2, 2), out_bits)],
        [kp.MatMul(Ref("x", 4), Ref("B", 4), "y", 2, 2, 2, 1, out_shift, 32)],
        "y",
        constants={"B": [5, -3, -1, 7]},
    )


def test_matmul_floors_each_product_before_summing():
    # a = [[3, -5], [7, 1]], B = [[5, -3], [-1, 7]], prod_shift 1 (floor of each product):
    #  y00: 3·5 = 15 → 7,   -5·-1 = 5 → 2    → 9   (exact sum 20 >> 1 would be 10)
    #  y01: 3·-3 = -9 → -5, -5·7 = -35 → -18 → -23 (exact -44 >> 1 = -22)
    #  y10: 7·5 = 35 → 17,  1·-1 = -1 → -1   → 16  (exact 34 >> 1 = 17)
    #  y11: 7·-3 = -21 → -11, 1·7 = 7 → 3    → -8  (exact -14 >> 1 = -7)
    # out_shift 1: 9 → 4, -23 → -12, 16 → 8, -8 → -4
    # row 2 is a = [[0, 0], [0, 2]]: y10 = 2·-1 = -2 → -1, y11 = 2·7 = 14 → 7; >> 1: -1, 3
    res = run_golden(matmul_program(16, 1), rows([3, -5, 7, 1], [0, 0, 0, 2]))
    assert res.output.tolist() == [[4, -12, 8, -4], [0, 0, -1, 3]]
    assert res.saturations == (0,)
    res = run_golden(matmul_program(16, 0), rows([3, -5, 7, 1]))
    assert res.output.tolist() == [[9, -23, 16, -8]]


def test_matmul_negative_out_shift_saturates():
    # accumulators [9, -23, 16, -8] · 2^3 = [72, -184, 128, -64] in 8 bits: -184 → -128, 128 → 127
    res = run_golden(matmul_program(8, -3), rows([3, -5, 7, 1]))
    assert res.output.tolist() == [[72, -128, 127, -64]]
    assert res.saturations == (2,)
    # · 2^4 = [144, -368, 256, -128]: three saturate, -128 is exactly the minimum (not counted)
    res = run_golden(matmul_program(8, -4), rows([3, -5, 7, 1], [3, -5, 7, 1]))
    assert res.output.tolist() == [[127, -128, 127, -128]] * 2
    assert res.saturations == (6,)  # counted over both rows


# ---------------------------------------------------------------------------------------------
# SparseMatVec


def sparse_program(out_shift: int, out_bits: int = 16) -> KernelProgram:
    # W (3×5) = [[0, 2, 0, 0, -3],
    #            [5, 0, 0, 0,  0],
    #            [0,-1, 0, 4,  0]]   column 2 is empty
    # column by column: col0 (r1: 5); col1 (r0: 2), (r2: -1); col2 none; col3 (r2: 4); col4 (r0: -3)
    return make(
        [
            buf("x", (5, 1), kind="input"),
            buf("Wv", (5,), kind="const"),
            buf("Wr", (5,), 8, "const"),
            buf("Wc", (6,), 8, "const"),
            buf("y", (3, 1), out_bits),
        ],
        [kp.SparseMatVec("Wv", "Wr", "Wc", Ref("x", 5), "y", 3, 5, 5, 1, out_shift, 32)],
        "y",
        constants={"Wv": [5, 2, -1, 4, -3], "Wr": [1, 0, 2, 2, 0], "Wc": [0, 1, 3, 3, 4, 5]},
    )


def test_sparse_matvec_column_compressed():
    # x = [3, -7, 100, 5, 1] (x[2] meets only the empty column), prod_shift 1:
    #  5·3 = 15 → 7 (row 1); 2·-7 = -14 → -7 (row 0); -1·-7 = 7 → 3 (row 2);
    #  4·5 = 20 → 10 (row 2); -3·1 = -3 → -2 (row 0)
    # rows: r0 = -7 + -2 = -9, r1 = 7, r2 = 3 + 10 = 13
    x = rows([3, -7, 100, 5, 1], [0, 0, 0, 0, 0])
    res = run_golden(sparse_program(0), x)
    assert res.output.tolist() == [[-9, 7, 13], [0, 0, 0]]
    # out_shift 2: floor(-9/4) = -3, floor(7/4) = 1, floor(13/4) = 3
    assert run_golden(sparse_program(2), x).output.tolist() == [[-3, 1, 3], [0, 0, 0]]
    # out_shift -4 into 8 bits: -144 → -128, 112, 208 → 127
    res = run_golden(sparse_program(-4, 8), x)
    assert res.output.tolist() == [[-128, 112, 127], [0, 0, 0]]
    assert res.saturations == (2,)


# ---------------------------------------------------------------------------------------------
# Conv2d


def test_conv2d_prod_shift_and_padding():
    # x (1,3,3,1) = [[1, -2, 3], [4, 5, -6], [7, -8, 9]], filter (1,2,2,1,1) = [[1, -1], [3, 2]],
    # stride 1, no padding, prod_shift 1 (each product floored):
    #  y00: 1→0, (-2·-1 = 2)→1, (4·3 = 12)→6, (5·2 = 10)→5    = 12
    #  y01: -2→-1, (3·-1 = -3)→-2, (5·3 = 15)→7, (-6·2 = -12)→-6 = -2
    #  y10: 4→2, (5·-1 = -5)→-3, (7·3 = 21)→10, (-8·2 = -16)→-8 = 1
    #  y11: 5→2, (-6·-1 = 6)→3, (-8·3 = -24)→-12, (9·2 = 18)→9 = 2
    def conv(pads, out_hw, prod_shift):
        return make(
            [
                buf("x", (1, 3, 3, 1), kind="input"),
                buf("F", (1, 2, 2, 1, 1), kind="const"),
                buf("y", (1, *out_hw, 1)),
            ],
            [
                kp.Conv2d(
                    Ref("x", 9),
                    Ref("F", 4),
                    "y",
                    (1, 3, 3, 1),
                    (1, 2, 2, 1, 1),
                    (1, *out_hw, 1),
                    (1, 1),
                    pads,
                    (1, 1),
                    prod_shift,
                    0,
                    32,
                )
            ],
            "y",
            constants={"F": [1, -1, 3, 2]},
        )

    x = rows([1, -2, 3, 4, 5, -6, 7, -8, 9])
    assert run_golden(conv((0, 0, 0, 0), (2, 2), 1), x).output.tolist() == [[12, -2, 1, 2]]
    # bottom and right zero padding (pads = top, bottom, left, right), prod_shift 0:
    # the extra column y02 (taps x02, pad, x12, pad): 3·1 + (-6)·3 = -15; y12: -6·1 + 9·3 = 21
    # extra row y20: 7·1 + (-8)·-1 = 15; y21: -8·1 + 9·-1 = -17; y22: 9·1 = 9
    # y00 = 1 + 2 + 12 + 10 = 25, y01 = -2 - 3 + 15 - 12 = -2, y10 = 4 - 5 + 21 - 16 = 4,
    # y11 = 5 + 6 - 24 + 18 = 5
    got = run_golden(conv((0, 1, 0, 1), (3, 3), 0), x).output.tolist()
    assert got == [[25, -2, -15, 4, 5, 21, 15, -17, 9]]


# ---------------------------------------------------------------------------------------------
# AddSub


def addsub_program(
    b_len: int,
    mode: str,
    subtract: bool,
    a_shift: int,
    b_shift: int,
    out_shift: int,
    b_first: bool = False,
    out_bits: int = 16,
    n: int = 4,
) -> KernelProgram:
    return make(
        [buf("x", (n + b_len,), kind="input"), buf("y", (n,), out_bits)],
        [
            kp.AddSub(
                Ref("x", n),
                Ref("x", b_len, offset=n),
                "y",
                n,
                subtract,
                a_shift,
                b_shift,
                out_shift,
                mode,  # type: ignore[arg-type]
                b_first,
                32,
            )
        ],
        "y",
    )


def test_addsub_alignment_shifts():
    # a = [1, -3, 5, 0], b = [7, 2, -9, -1]
    x = rows([1, -3, 5, 0, 7, 2, -9, -1])
    # a << 2 = [4, -12, 20, 0]; + b = [11, -10, 11, -1]; >> 1 = [5, -5, 5, -1]
    assert run_golden(addsub_program(4, "full", False, 2, 0, 1), x).output.tolist() == [[5, -5, 5, -1]]
    # a << 2 - b = [-3, -14, 29, 1]; >> 1 = [-2, -7, 14, 0]
    assert run_golden(addsub_program(4, "full", True, 2, 0, 1), x).output.tolist() == [[-2, -7, 14, 0]]
    # b_shift -1 floors b: [3, 1, -5, -1]; a + b = [4, -2, 0, -1]
    assert run_golden(addsub_program(4, "full", False, 0, -1, 0), x).output.tolist() == [[4, -2, 0, -1]]
    # out_shift -3: a + b = [8, -1, -4, -1] · 8 = [64, -8, -32, -8]
    assert run_golden(addsub_program(4, "full", False, 0, 0, -3), x).output.tolist() == [[64, -8, -32, -8]]


def test_addsub_scalar_broadcast_and_b_first():
    # a = [1, -3, 5, 0], scalar b = 3
    x = rows([1, -3, 5, 0, 3])
    # a << 2 + 3 = [7, -9, 23, 3]
    assert run_golden(addsub_program(1, "scalar", False, 2, 0, 0), x).output.tolist() == [[7, -9, 23, 3]]
    # a << 2 - 3 = [1, -15, 17, -3]
    assert run_golden(addsub_program(1, "scalar", True, 2, 0, 0), x).output.tolist() == [[1, -15, 17, -3]]
    # b_first: 3 - a << 2 = [-1, 15, -17, 3]; >> 1 = [-1, 7, -9, 1]
    got = run_golden(addsub_program(1, "scalar", True, 2, 0, 1, b_first=True), x).output.tolist()
    assert got == [[-1, 7, -9, 1]]


def test_addsub_lastdim_broadcast():
    # a (2×3) = [[1, 2, 3], [4, 5, 6]], bias b = [10, 20, 30] along the last dim
    x = rows([1, 2, 3, 4, 5, 6, 10, 20, 30])
    got = run_golden(addsub_program(3, "lastdim", False, 0, 0, 0, n=6), x).output.tolist()
    assert got == [[11, 22, 33, 14, 25, 36]]
    got = run_golden(addsub_program(3, "lastdim", True, 0, 0, 0, n=6), x).output.tolist()
    assert got == [[-9, -18, -27, -6, -15, -24]]


def test_addsub_saturation_count():
    # 8-bit output: [100 + 100, -100 - 100, 27 + 100, -28 - 100] = [200, -200, 127, -128]
    p = addsub_program(4, "full", False, 0, 0, 0, out_bits=8)
    res = run_golden(p, rows([100, -100, 27, -28, 100, -100, 100, -100]))
    assert res.output.tolist() == [[127, -128, 127, -128]]
    assert res.saturations == (2,)


# ---------------------------------------------------------------------------------------------
# Mul


def mul_program(b_len: int, mode: str, out_shift: int, out_bits: int = 16) -> KernelProgram:
    return make(
        [buf("x", (4 + b_len,), kind="input"), buf("y", (4,), out_bits)],
        [kp.Mul(Ref("x", 4), Ref("x", b_len, offset=4), "y", 4, out_shift, mode, 32)],  # type: ignore[arg-type]
        "y",
    )


def test_mul():
    # [3, -4, 5, -7] · [6, 5, -3, -2] = [18, -20, -15, 14]; >> 2 = [4, -5, -4, 3]
    x = rows([3, -4, 5, -7, 6, 5, -3, -2])
    assert run_golden(mul_program(4, "full", 2), x).output.tolist() == [[4, -5, -4, 3]]
    # scalar -3: [-9, 12, -15, 21]; >> 1 = [-5, 6, -8, 10]
    x = rows([3, -4, 5, -7, -3])
    assert run_golden(mul_program(1, "scalar", 1), x).output.tolist() == [[-5, 6, -8, 10]]
    # 8-bit output: [100·100, -100·100, 11·11, 0] >> 2 = [2500, -2500, 30, 0] → 127, -128
    res = run_golden(mul_program(4, "full", 2, 8), rows([100, -100, 11, 0, 100, 100, 11, 5]))
    assert res.output.tolist() == [[127, -128, 30, 0]]
    assert res.saturations == (2,)


# ---------------------------------------------------------------------------------------------
# Rescale, Clamp


def test_rescale_negate_of_minimum_saturates():
    p = make(
        [buf("x", (4,), 8, "input"), buf("y", (4,), 8)],
        [kp.Rescale(Ref("x", 4), "y", 4, 0, negate=True)],
        "y",
    )
    # -(-128) = 128 does not fit int8 → 127 (counted); -127 → 127 fits
    res = run_golden(p, rows([-128, 127, -127, 0]))
    assert res.output.tolist() == [[127, -127, 127, 0]]
    assert res.saturations == (1,)


def test_rescale_shifts():
    def rescale(shift: int, negate: bool = False) -> KernelProgram:
        return make(
            [buf("x", (4,), 16, "input"), buf("y", (4,), 8)],
            [kp.Rescale(Ref("x", 4), "y", 4, shift, negate)],
            "y",
        )

    x = rows([40, -32, -1, 300])
    # left by 2: 160 → 127 (sat), -128 (exact minimum), -4, 1200 → 127 (sat)
    res = run_golden(rescale(-2), x)
    assert res.output.tolist() == [[127, -128, -4, 127]]
    assert res.saturations == (2,)
    # right by 3: 5, -4, floor(-1/8) = -1, 37
    assert run_golden(rescale(3), x).output.tolist() == [[5, -4, -1, 37]]
    # negated then right by 3: floor(-40/8) = -5, 4, floor(1/8) = 0, floor(-300/8) = -38
    assert run_golden(rescale(3, True), x).output.tolist() == [[-5, 4, 0, -38]]


def test_clamp():
    def clamp(lo, hi):
        return make(
            [buf("x", (5,), kind="input"), buf("y", (5,))], [kp.Clamp(Ref("x", 5), "y", 5, lo, hi)], "y"
        )

    x = rows([-7, 0, 3, 12, -32768])
    assert run_golden(clamp(0, None), x).output.tolist() == [[0, 0, 3, 12, 0]]
    assert run_golden(clamp(-5, 10), x).output.tolist() == [[-5, 0, 3, 10, -5]]
    assert run_golden(clamp(None, 2), x).output.tolist() == [[-7, 0, 2, 2, -32768]]
    assert run_golden(clamp(0, None), x).saturations == (0,)


# ---------------------------------------------------------------------------------------------
# Permute, Window, MaxPool


def test_permute():
    p = make(
        [buf("x", (2, 3), kind="input"), buf("y", (3, 2))],
        [kp.Permute(Ref("x", 6), "y", (2, 3), (1, 0))],
        "y",
    )
    # [[0, 1, 2], [3, 4, 5]]^T = [[0, 3], [1, 4], [2, 5]]
    assert run_golden(p, rows([0, 1, 2, 3, 4, 5])).output.tolist() == [[0, 3, 1, 4, 2, 5]]
    p = make(
        [buf("x", (2, 3, 2), kind="input"), buf("y", (2, 2, 3))],
        [kp.Permute(Ref("x", 12), "y", (2, 3, 2), (2, 0, 1))],
        "y",
    )
    # y[i, j, k] = x[j, k, i] with x[j, k, i] = 6j + 2k + i
    got = run_golden(p, rows(list(range(12)))).output.tolist()
    assert got == [[0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11]]


def test_window_with_register_start():
    # x[0:12] is a 3×4 matrix [[0,1,2,3],[4,5,6,7],[8,9,10,11]]; x[12:14] picks the row start by argmax
    p = make(
        [buf("x", (14,), kind="input"), buf("y", (2, 2))],
        [
            kp.Argmax(Ref("x", 2, offset=12), "r"),
            kp.Window(Ref("x", 12), "y", (3, 4), ("r", 1), (2, 2)),
        ],
        "y",
        registers=("r",),
    )
    x = rows([*range(12), 0, 5], [*range(12), 9, 5])
    # row 1: r = 1 → rows 1..2, cols 1..2 = [5, 6, 9, 10]; row 2: r = 0 → [1, 2, 5, 6]
    assert run_golden(p, x).output.tolist() == [[5, 6, 9, 10], [1, 2, 5, 6]]


def test_window_with_immediate_starts():
    p = make(
        [buf("x", (12,), kind="input"), buf("y", (1, 3))],
        [kp.Window(Ref("x", 12), "y", (3, 4), (2, 1), (1, 3))],
        "y",
    )
    assert run_golden(p, rows(list(range(12)))).output.tolist() == [[9, 10, 11]]


def test_maxpool_pads_with_the_minimum():
    # x (1,3,3,1) all negative, pads top 1 and left 1, kernel 2×2, stride 2 → 2×2 output.
    # padded (L = pad):  [[L,  L,  L,  L],
    #                     [L, -5, -3, -7],
    #                     [L, -2, -9, -4],
    #                     [L, -6, -1, -8]]
    # windows: max(L,L,L,-5) = -5, max(L,L,-3,-7) = -3, max(L,-2,L,-6) = -2, max(-9,-4,-1,-8) = -1
    # (a zero pad would have given 0 for the first three)
    p = make(
        [buf("x", (1, 3, 3, 1), kind="input"), buf("y", (1, 2, 2, 1))],
        [kp.MaxPool(Ref("x", 9), "y", (1, 3, 3, 1), (1, 2, 2, 1), (2, 2), (1, 0, 1, 0), (2, 2))],
        "y",
    )
    assert run_golden(p, rows([-5, -3, -7, -2, -9, -4, -6, -1, -8])).output.tolist() == [[-5, -3, -2, -1]]


def test_maxpool_all_padding_window_gives_the_minimum_of_the_output_type():
    # kernel 1×1, stride 1, one row of padding on top: the first output row sees only padding
    p = make(
        [buf("x", (1, 2, 2, 1), 8, "input"), buf("y", (1, 3, 2, 1), 8)],
        [kp.MaxPool(Ref("x", 4), "y", (1, 2, 2, 1), (1, 3, 2, 1), (1, 1), (1, 0, 0, 0), (1, 1))],
        "y",
    )
    assert run_golden(p, rows([1, -2, 3, -4])).output.tolist() == [[-128, -128, 1, -2, 3, -4]]


def test_maxpool_two_channels_stride_one():
    # x (1,2,2,2) channels interleaved: c0 = [[1, 4], [3, 2]], c1 = [[-1, -4], [-3, -2]];
    # kernel 2×2, no padding → 1×1: c0 max 4, c1 max -1
    p = make(
        [buf("x", (1, 2, 2, 2), kind="input"), buf("y", (1, 1, 1, 2))],
        [kp.MaxPool(Ref("x", 8), "y", (1, 2, 2, 2), (1, 1, 1, 2), (2, 2), (0, 0, 0, 0), (1, 1))],
        "y",
    )
    assert run_golden(p, rows([1, -1, 4, -4, 3, -3, 2, -2])).output.tolist() == [[4, -1]]


# ---------------------------------------------------------------------------------------------
# Exp and the squashing functions


def exp_program(out_bits: int) -> KernelProgram:
    # x_top 10, k 1 (drop one bit), t 2 (tables of 4): y = min(max(10 - x, 0) >> 1, 15),
    # a = y >> 2, b = y & 3, out = (hi[a] · lo[b]) >> 6
    return make(
        [
            buf("x", (6,), kind="input"),
            buf("hi", (4,), kind="const"),
            buf("lo", (4,), kind="const"),
            buf("y", (6,), out_bits),
        ],
        [kp.Exp(Ref("x", 6), "y", 6, 10, 1, 2, "hi", "lo", 6, 32)],
        "y",
        constants={"hi": [1000, 500, 250, 125], "lo": [64, 60, 56, 52]},
    )


def test_exp_by_two_tables():
    # x = 10: y = 0 → 1000·64 = 64000 >> 6 = 1000
    # x = 12: 10 - 12 < 0 → y = 0 → 1000
    # x = 7:  3 >> 1 = 1 → a 0, b 1: 1000·60 = 60000 >> 6 = 937
    # x = 0:  10 >> 1 = 5 → a 1, b 1: 500·60 = 30000 >> 6 = 468
    # x = -30: 40 >> 1 = 20 → clamped to 15 → a 3, b 3: 125·52 = 6500 >> 6 = 101
    # x = -1: 11 >> 1 = 5 → 468
    x = rows([10, 12, 7, 0, -30, -1])
    res = run_golden(exp_program(16), x)
    assert res.output.tolist() == [[1000, 1000, 937, 468, 101, 468]]
    assert res.saturations == (0,)
    res = run_golden(exp_program(8), x)
    assert res.output.tolist() == [[127, 127, 127, 127, 101, 127]]
    assert res.saturations == (5,)


# e^(-u) tables for u at 2 fractional bits, k 0, t 2: hi[a] = e^-a, lo[b] = e^(-b/4), both at frac 8:
#   hi = [256, 94, 35, 13], lo = [256, 199, 155, 121];  e = (hi[a] · lo[b]) >> 8 at e_frac 8
SQ_HI, SQ_LO = [256, 94, 35, 13], [256, 199, 155, 121]


def squash_program(fn: str, arg_shift: int, out_bits: int = 16, out_frac: int = 8, n: int = 6):
    return make(
        [
            buf("x", (n,), kind="input"),
            buf("hi", (4,), kind="const"),
            buf("lo", (4,), kind="const"),
            buf("y", (n,), out_bits),
        ],
        [kp.SigmoidTanh(fn, Ref("x", n), "y", n, arg_shift, 0, 2, "hi", "lo", 8, 8, out_frac, 32)],  # type: ignore[arg-type]
        "y",
        constants={"hi": SQ_HI, "lo": SQ_LO},
    )


def test_sigmoid_by_table():
    # one = 256. x = 0: u 0 → e = 256·256 >> 8 = 256; x ≥ 0: (256 << 8) // 512 = 128
    # x = 4: u 4 → a 1, b 0: 94·256 >> 8 = 94; 65536 // 350 = 187
    # x = -4: e = 94, x < 0: (94 << 8) // 350 = 24064 // 350 = 68
    # x = 6: a 1, b 2: 94·155 = 14570 >> 8 = 56; 65536 // 312 = 210
    # x = 100: u clamped to 15 → a 3, b 3: 13·121 = 1573 >> 8 = 6; 65536 // 262 = 250
    # x = -100: (6 << 8) // 262 = 1536 // 262 = 5
    res = run_golden(squash_program("sigmoid", 0), rows([0, 4, -4, 6, 100, -100]))
    assert res.output.tolist() == [[128, 187, 68, 210, 250, 5]]
    assert res.saturations == (0,)


def test_tanh_by_table():
    # arg_shift -1: u = 2|x|.  x = 0: e = 256 → (0 << 8) // 512 = 0
    # x = 2: u 4 → e 94: (162 << 8) // 350 = 41472 // 350 = 118;  x = -2 → -118
    # x = -3: u 6 → e 56: (200 << 8) // 312 = 51200 // 312 = 164 → -164
    # x = 50: u 100 → clamped to 15 → e 6: (250 << 8) // 262 = 64000 // 262 = 244
    # x = 1: u 2 → a 0, b 2: 256·155 >> 8 = 155: (101 << 8) // 411 = 25856 // 411 = 62
    res = run_golden(squash_program("tanh", -1), rows([0, 2, -2, -3, 50, 1]))
    assert res.output.tolist() == [[0, 118, -118, -164, 244, 62]]


def test_sigmoid_by_table_saturates_at_8_bits():
    # out_frac 8 in an 8-bit buffer: sigmoid(0) = 128 → 127 (counted), sigmoid(-4) = 68 fits,
    # sigmoid(4) = 187 → 127 (counted)
    res = run_golden(squash_program("sigmoid", 0, out_bits=8, n=3), rows([0, -4, 4]))
    assert res.output.tolist() == [[127, 68, 127]]
    assert res.saturations == (2,)


def hard_program(fn: str, shift: int, half: int, lo: int, hi: int, out_bits: int = 16, n: int = 4):
    return make(
        [buf("x", (n,), kind="input"), buf("y", (n,), out_bits)],
        [kp.HardSigmoidTanh(fn, Ref("x", n), "y", n, shift, half, lo, hi, 32)],  # type: ignore[arg-type]
        "y",
    )


def test_hard_tanh():
    # x at frac 4, out at frac 6 (one = 64): shift -2 (·4), clamp to [-64, 64]
    # 8 → 32 (0.5), -20 → -80 → -64 (-1.25 clipped to -1), 3 → 12, -1 → -4
    res = run_golden(hard_program("tanh", -2, 0, -64, 64), rows([8, -20, 3, -1]))
    assert res.output.tolist() == [[32, -64, 12, -4]]
    assert res.saturations == (0,)


def test_hard_sigmoid():
    # x frac 4, out frac 6 (one = 64, half = 32): shift = 4 - 6 + 2 = 0 (the /4 folded in)
    # x = 8 (0.5): 8 + 32 = 40 (0.625 = 0.5/4 + 0.5); -200 → -168 → 0; 100 → 132 → 64; -3 → 29
    res = run_golden(hard_program("sigmoid", 0, 32, 0, 64), rows([8, -200, 100, -3]))
    assert res.output.tolist() == [[40, 0, 64, 29]]
    # x frac 6, out frac 4 (one 16, half 8): shift 6 - 4 + 2 = 4, floors: -1 → -1 → 7; 16 → 1 → 9;
    # -17 → -2 → 6; 200 → 12 → 20 → 16
    res = run_golden(hard_program("sigmoid", 4, 8, 0, 16), rows([-1, 16, -17, 200]))
    assert res.output.tolist() == [[7, 9, 6, 16]]


def test_hard_tanh_saturates_into_8_bits():
    # one = 256 does not fit 8 bits: 200 → 127 (counted), -300 → -256 → -128 (counted), 50 → 50
    res = run_golden(hard_program("tanh", 0, 0, -256, 256, out_bits=8, n=3), rows([200, -300, 50]))
    assert res.output.tolist() == [[127, -128, 50]]
    assert res.saturations == (2,)


# ---------------------------------------------------------------------------------------------
# Fill, Argmax, Sgn, IntOp, Select


def test_fill():
    p = make([buf("x", (1,), kind="input"), buf("y", (3,))], [kp.Fill("y", -7)], "y")
    assert run_golden(p, rows([1], [2])).output.tolist() == [[-7, -7, -7], [-7, -7, -7]]


def test_argmax_first_on_ties():
    p = make(
        [buf("x", (4,), kind="input")],
        [kp.Argmax(Ref("x", 4), "r")],
        "r",
        is_class=True,
        registers=("r",),
    )
    x = rows([3, 7, 7, 1], [5, 5, 5, 5], [-9, -8, -8, -7], [-1, -3, -1, -2])
    assert run_golden(p, x).output.tolist() == [1, 0, 3, 0]


def test_sgn_at_zero():
    p = make([buf("x", (2,), kind="input")], [kp.Sgn(Ref("x", 1), "r")], "r", is_class=True, registers=("r",))
    # only x[0] counts; 0 is not > 0
    assert run_golden(p, rows([0, 5], [1, -5], [-1, 5], [-32768, 0], [32767, 0])).output.tolist() == [
        0,
        1,
        0,
        0,
        1,
    ]


def test_intop():
    p = make(
        [buf("x", (3,), kind="input")],
        [
            kp.IntOp("=", 3, 0, "r1"),  # r1 = 3
            kp.IntOp("*", "r1", 4, "r2"),  # r2 = 12
            kp.IntOp("-", "r2", 5, "r3"),  # r3 = 7
            kp.IntOp("+", 2, "r3", "r4"),  # r4 = 9
            kp.IntOp("-", 0, "r4", "r5"),  # r5 = -9
            kp.Argmax(Ref("x", 3), "r6"),  # per row
            kp.IntOp("*", "r6", "r5", "r7"),  # r7 = -9·argmax
            kp.IntOp("+", "r7", "r4", "out"),  # 9 - 9·argmax
        ],
        "out",
        is_class=True,
        registers=("r1", "r2", "r3", "r4", "r5", "r6", "r7", "out"),
    )
    assert run_golden(p, rows([5, 0, 0], [0, 5, 0], [0, 0, 5])).output.tolist() == [9, 0, -9]


def test_select_int():
    p = make(
        [buf("x", (1,), kind="input")],
        [kp.IntOp("=", 7, 0, "ra"), kp.Select(Ref("x", 1), 5, "ra", 2, "out", True)],
        "out",
        is_class=True,
        registers=("ra", "out"),
    )
    # x ≥ 5 → ra = 7 (equality takes a), else the immediate 2
    assert run_golden(p, rows([5], [4], [100], [-5])).output.tolist() == [7, 2, 7, 2]


def test_select_tensor():
    p = make(
        [
            buf("x", (1,), kind="input"),
            buf("A", (3,), kind="const"),
            buf("B", (3,), kind="const"),
            buf("y", (3,)),
        ],
        [kp.Select(Ref("x", 1), -2, "A", "B", "y", False, 3)],
        "y",
        constants={"A": [1, 2, 3], "B": [-4, -5, -6]},
    )
    got = run_golden(p, rows([-2], [-3], [0])).output.tolist()
    assert got == [[1, 2, 3], [-4, -5, -6], [1, 2, 3]]


# ---------------------------------------------------------------------------------------------
# Loops and dynamic indexing


def test_loop_with_register_index_and_strided_ref():
    # C (4×3) = [[1, 2, 3], [10, 20, 30], [100, 200, 300], [-1, -2, -3]]; acc = Σ_{i=1..3} C[i, 1:3]
    #  = [20 + 200 - 2, 30 + 300 - 3] = [218, 327]; then + x
    p = make(
        [buf("x", (2,), kind="input"), buf("C", (4, 3), kind="const"), buf("acc", (2,)), buf("y", (2,))],
        [
            kp.Fill("acc", 0),
            kp.Loop(
                "i",
                1,
                4,
                (
                    kp.AddSub(
                        Ref("acc", 2), Ref("C", 2, 1, "i", 3), "acc", 2, False, 0, 0, 0, "full", False, 32
                    ),
                ),
            ),
            kp.AddSub(Ref("acc", 2), Ref("x", 2), "y", 2, False, 0, 0, 0, "full", False, 32),
        ],
        "y",
        registers=("i",),
        constants={"C": [1, 2, 3, 10, 20, 30, 100, 200, 300, -1, -2, -3]},
    )
    assert run_golden(p, rows([0, 0], [1, -1])).output.tolist() == [[218, 327], [219, 326]]


def test_dynamic_index_per_row_into_constant_and_input():
    # register r = argmax(x[0:3]) differs per row; W (3×2) const, read W[r]; and x[3 + 2r : +2]
    p = make(
        [buf("x", (9,), kind="input"), buf("W", (3, 2), kind="const"), buf("y", (2,))],
        [
            kp.Argmax(Ref("x", 3), "r"),
            kp.AddSub(
                Ref("W", 2, 0, "r", 2), Ref("x", 2, 3, "r", 2), "y", 2, True, 0, 0, 0, "full", False, 32
            ),
        ],
        "y",
        registers=("r",),
        constants={"W": [1, 2, 30, 40, 500, 600]},
    )
    x = rows([9, 0, 0, 1, 1, 2, 2, 3, 3], [0, 9, 0, 1, 1, 2, 2, 3, 3], [0, 0, 9, 1, 1, 2, 2, 3, 3])
    # r = 0: [1, 2] - [1, 1] = [0, 1]; r = 1: [30, 40] - [2, 2] = [28, 38]; r = 2: [500, 600] - [3, 3]
    assert run_golden(p, x).output.tolist() == [[0, 1], [28, 38], [497, 597]]


def saturating_loop_program() -> KernelProgram:
    return make(
        [buf("x", (1,), 8, "input"), buf("acc", (1,), 8)],
        [
            kp.Fill("acc", 100),
            kp.Loop(
                "i",
                0,
                3,
                (kp.AddSub(Ref("acc", 1), Ref("x", 1), "acc", 1, False, 0, 0, 0, "full", False, 32),),
            ),
        ],
        "acc",
        registers=("i",),
    )


def test_saturations_counted_over_iterations_and_rows():
    # acc = 100; += 20 three times: 120, 140 → 127 (sat), 147 → 127 (sat): 2 per row
    # second row x = -100: 0, -100, -200 → -128 (sat): 1
    res = run_golden(saturating_loop_program(), rows([20], [-100]))
    assert res.output.tolist() == [[127], [-128]]
    assert res.saturations == (0, 0, 3)  # walk order: Fill, Loop, AddSub


def test_keep_buffers():
    res = run_golden(saturating_loop_program(), rows([20]), keep_buffers=True)
    assert res.buffers["acc"].tolist() == [[127]]
    assert res.buffers["x"].tolist() == [[20]]
    assert run_golden(saturating_loop_program(), rows([20])).buffers == {}


def test_input_outside_its_type_is_rejected():
    with pytest.raises(ValueError, match="int8"):
        run_golden(saturating_loop_program(), rows([128]))


# ---------------------------------------------------------------------------------------------
# save / load


def big_program(pool: bool) -> KernelProgram:
    """Many kernel kinds in one program, with a loop, dynamic refs and saturation."""
    if pool:
        pool_k: kp.Kernel = kp.MaxPool(
            Ref("c", 4), "p", (1, 2, 2, 1), (1, 2, 2, 1), (2, 2), (0, 1, 0, 1), (1, 1)
        )
    else:
        pool_k = kp.Rescale(Ref("c", 4), "p", 4, 0, True)
    return make(
        [
            buf("x", (1, 3, 3, 1), kind="input"),
            buf("F", (1, 2, 2, 1, 1), kind="const"),
            buf("c", (1, 2, 2, 1), 8),
            buf("p", (1, 2, 2, 1), 8),
            buf("pt", (4,), 8),
            buf("W", (3, 4), kind="const"),
            buf("acc", (4,), 8),
            buf("hi", (4,), kind="const"),
            buf("lo", (4,), kind="const"),
            buf("e", (4,)),
            buf("s", (4,)),
            buf("w", (1, 2), 8),
        ],
        [
            kp.Conv2d(
                Ref("x", 9),
                Ref("F", 4),
                "c",
                (1, 3, 3, 1),
                (1, 2, 2, 1, 1),
                (1, 2, 2, 1),
                (1, 1),
                (0, 0, 0, 0),
                (1, 1),
                1,
                -1,
                32,
            ),
            pool_k,
            kp.Permute(Ref("p", 4), "pt", (2, 2), (1, 0)),
            kp.Argmax(Ref("pt", 2), "r"),
            kp.Fill("acc", 0),
            kp.Loop(
                "i",
                0,
                3,
                (
                    kp.AddSub(
                        Ref("acc", 4), Ref("W", 4, 0, "i", 4), "acc", 4, False, 0, 0, 0, "full", False, 32
                    ),
                    kp.IntOp("+", "i", "r", "j"),
                ),
            ),
            kp.AddSub(Ref("acc", 4), Ref("pt", 4), "acc", 4, True, 0, 0, 0, "full", False, 32),
            kp.Exp(Ref("acc", 4), "e", 4, 10, 1, 2, "hi", "lo", 6, 32),
            kp.SigmoidTanh("tanh", Ref("acc", 4), "s", 4, -1, 0, 2, "hi", "lo", 8, 8, 8, 32),
            kp.Window(Ref("pt", 4), "w", (2, 2), ("r", 0), (1, 2)),
            kp.Select(Ref("e", 1), 500, "j", 42, "out", True),
        ],
        "out",
        is_class=True,
        registers=("r", "i", "j", "out"),
        constants={
            "F": [1, -1, 3, 2],
            "W": [50, -60, 70, 3, 40, -50, 60, -4, 30, -20, 10, 5],
            "hi": SQ_HI,
            "lo": SQ_LO,
        },
    )


def check_round_trip(p: KernelProgram, tmp_path) -> None:
    rng = np.random.default_rng(7)
    x = rng.integers(-60, 60, size=(50, 9))
    before = run_golden(p, x, keep_buffers=True)
    assert sum(before.saturations) > 0  # the data exercises saturation
    p.save(tmp_path)
    q = KernelProgram.load(tmp_path)
    assert q == p  # every field except constants compares (kernels are frozen dataclasses)
    assert q.kernels == p.kernels
    assert set(q.constants) == set(p.constants)
    for k in p.constants:
        assert q.constants[k].tolist() == p.constants[k].tolist()
    after = run_golden(q, x, keep_buffers=True)
    assert after.output.tolist() == before.output.tolist()
    assert after.saturations == before.saturations
    assert set(after.buffers) == set(before.buffers)
    for k in before.buffers:
        assert np.array_equal(after.buffers[k], before.buffers[k]), k


def test_save_load_round_trip(tmp_path):
    check_round_trip(big_program(pool=False), tmp_path)


def test_save_load_round_trip_with_maxpool(tmp_path):
    check_round_trip(big_program(pool=True), tmp_path)
