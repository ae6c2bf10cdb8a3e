"""``Graph.stats()``: parameter counts and multiply-accumulates, computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from hlsfix.frontend.seedot import parse_program
from hlsfix.ir import ops


def ones(*shape: int) -> np.ndarray:
    return np.full(shape, 0.5)


def test_mlp_macs_and_parameters():
    text = (
        "let X = (64, 1) in [0, 1] in\nlet W1 = (32, 64) in [-1, 1] in\nlet b1 = (32, 1) in [-1, 1] in\n"
        "let W2 = (10, 32) in [-1, 1] in\nlet b2 = (10, 1) in [-1, 1] in\n"
        "let h = relu(W1 * X + b1) in\nargmax(W2 * h + b2)"
    )
    w = {"W1": ones(32, 64), "b1": ones(32, 1), "W2": ones(10, 32), "b2": ones(10, 1)}
    w["b2"][3] = 0.0
    st = parse_program(text, w).stats()
    assert st.macs == 32 * 64 + 10 * 32  # 2368
    assert st.parameters == 32 * 64 + 32 + 10 * 32 + 10  # 2410
    assert st.nonzeros == 2410 - 1
    counts = dict(st.op_counts)
    assert counts["MatMul"] == 2 and counts["Elementwise"] == 2 and counts["Argmax"] == 1
    assert st.sparsity == ()


def test_sparse_matmul_counts_nonzeros():
    Z = np.zeros((10, 64))
    Z[np.arange(10), np.arange(10) * 3] = 0.5  # 10 non-zeros
    Z[2, 40:67] = -0.25  # 24 more (columns 40..63)
    text = "let X = (64, 1) in [0, 1] in\nlet Z = (10, 64) in [-1, 1] in\nlet W = (3, 10) in [-1, 1] in\n"
    st = parse_program(text + "W * (Z |*| X)", {"Z": Z, "W": ones(3, 10)}).stats()
    assert st.macs == 34 + 3 * 10
    assert st.nonzeros == 34 + 30
    assert st.parameters == 640 + 30
    assert st.sparsity == (("Z", pytest.approx(1 - 34 / 640)),)
    # the same matrix used densely costs every element
    dense = parse_program(text + "W * (Z * X)", {"Z": Z, "W": ones(3, 10)}).stats()
    assert dense.macs == 640 + 30 and dense.sparsity == ()


def test_conv_macs():
    text = (
        "let X = (1, 8, 8, 3) in [0, 1] in\nlet F = (1, 3, 3, 3, 4) in [-1, 1] in\n"
        "conv2d(X, F, {s 1 1}, {p 1 1 1 1}, {d 1 1}, {g 1})"
    )
    st = parse_program(text, {"F": ones(1, 3, 3, 3, 4)}).stats()
    assert st.macs == (8 * 8 * 4) * (3 * 3 * 3)  # 6912: each output sums a 3x3x3 window
    text_g = (
        "let X = (1, 6, 6, 4) in [0, 1] in\nlet F = (2, 3, 3, 2, 6) in [-1, 1] in\n"
        "conv2d(X, F, {s 2 2}, {p 0 0 0 0}, {d 1 1}, {g 2})"
    )
    st = parse_program(text_g, {"F": ones(2, 3, 3, 2, 6)}).stats()
    # out 2x2x12 ((6-3)//2+1 = 2; 2 groups of 6 filters), each output reads a 3x3 window of its
    # group's 2 channels
    assert st.macs == (2 * 2 * 12) * (3 * 3 * 2)  # 864


def test_loop_multiplies_by_trip_count():
    text = (
        "let X = (8, 8, 1) in [0, 1] in\nlet W = (16, 8) in [-1, 1] in\nlet U = (16, 16) in [-1, 1] in\n"
        "let FC = (10, 16) in [-1, 1] in\nlet H0 = init([16, 1], 0.0) in\n"
        "let H = loop(t = [0:8], H0) (tanh(W * X[t] + U * H0)) in\nargmax(FC * H)"
    )
    g = parse_program(text, {"W": ones(16, 8), "U": ones(16, 16), "FC": ones(10, 16)})
    st = g.stats()
    assert st.macs == 8 * (16 * 8 + 16 * 16) + 10 * 16  # 3232
    counts = dict(st.op_counts)
    assert counts["MatMul"] == 2 * 8 + 1
    assert counts["Index"] == 8 and counts["Loop"] == 1 and counts["Unary"] == 8


def test_nested_sum_and_loop_multiply():
    text = (
        "let X = (4, 1) in [0, 1] in\nlet B = (5, 4, 4) in [-1, 1] in\nlet H = init([4, 1], 0.0) in\n"
        "loop(t = [2:5], H) ($(j = [0:5]) (B[j] * H) + X)"
    )
    st = parse_program(text, {"B": ones(5, 4, 4)}).stats()
    assert st.macs == 3 * 5 * (4 * 4)  # 240
    assert dict(st.op_counts)["Sum"] == 3


def test_protonn_like_macs():
    text = (
        "let X = (64, 1) in [0, 1] in\nlet W = (16, 64) in [-1, 1] in\n"
        "let B = (20, 16, 1) in [-1, 1] in\nlet Z = (20, 10, 1) in [-1, 1] in\n"
        "let mg = (1, 1) in [-1, 0] in\nlet WX = W |*| X in\n"
        "argmax($(j = [0:20]) (let D = WX - B[j] in Z[j] * exp(mg * (D^T * D))))"
    )
    W = np.zeros((16, 64))
    W[:, ::8] = 0.5  # 16 * 8 = 128 non-zeros
    w = {"W": W, "B": ones(20, 16, 1), "Z": ones(20, 10, 1), "mg": np.array([[-0.5]])}
    g = parse_program(text, w)
    # `*` is a matrix product whenever the shapes conform, so per prototype: D^T * D (1x16 by 16x1)
    # = 16, mg * (1x1) = 1 and Z[j] * (1x1) (10x1 by 1x1) = 10 MACs
    matmuls = [
        g.types[n.op.a].shape + g.types[n.op.b].shape for n in g.walk() if isinstance(n.op, ops.MatMul)
    ]
    assert sorted(matmuls) == [(1, 1, 1, 1), (1, 16, 16, 1), (10, 1, 1, 1)]
    assert not [n for n in g.walk() if isinstance(n.op, ops.ScalarMul)]
    assert g.stats().macs == 128 + 20 * (16 + 1 + 10)
