"""Float reference forwards of the zoo models, written in numpy line by line after each model.sd.

These define the "float accuracy" reported in each model's meta.json. They evaluate one input at a
time, exactly as the SeeDot program does (hard Bonsai path, the FastGRNN loop, NHWC convolution),
in float64 so that the reference itself adds no rounding of note. Each ``predict_<model>`` takes the
weights (a mapping of name to array, shaped as declared in model.sd) and X of shape (N, features),
flattened row-major, and returns the N predicted class labels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

Weights = Mapping[str, np.ndarray]


# --- SeeDot operators -------------------------------------------------------------------------------


def mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SeeDot ``*``: matrix product of 2-D operands; a scalar product when one side is a scalar or
    a (1, 1) tensor and the shapes do not conform for a matrix product."""
    if a.ndim == 2 and b.ndim == 2 and a.shape[1] == b.shape[0]:
        return a @ b
    if a.size == 1:
        return a.reshape(()) * b
    if b.size == 1:
        return a * b.reshape(())
    raise ValueError(f"'*' of shapes {a.shape} and {b.shape}")


def sparse_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SeeDot ``|*|``: the left operand is stored sparse; only its non-zeros contribute, which for a
    float reference is the ordinary matrix product."""
    assert a.ndim == 2 and b.ndim == 2 and a.shape[1] == b.shape[0]
    return a @ b


def add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SeeDot ``+``: element-wise, a scalar / (1, 1) operand is broadcast."""
    if a.shape != b.shape:
        a, b = (a.reshape(()), b) if a.size == 1 else (a, b.reshape(()))
    return a + b


def sub(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SeeDot ``-``: element-wise, a scalar / (1, 1) operand is broadcast."""
    if a.shape != b.shape:
        a, b = (a.reshape(()), b) if a.size == 1 else (a, b.reshape(()))
    return a - b


def hadamard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SeeDot ``<*>``: element-wise product of equal shapes."""
    assert a.shape == b.shape, (a.shape, b.shape)
    return a * b


def sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def relu(a: np.ndarray) -> np.ndarray:
    return np.maximum(a, 0.0)


def argmax(a: np.ndarray) -> int:
    """Index of the largest element of the flattened tensor, the first one on ties."""
    return int(np.argmax(a.reshape(-1)))


def scalar(a: np.ndarray) -> float:
    """The value of a (1, 1) tensor, as compared in ``e >= 0 ? ... : ...`` and ``sgn(e)``."""
    assert a.size == 1, a.shape
    return float(a.reshape(()))


def conv2d(
    x: np.ndarray,
    f: np.ndarray,
    stride: tuple[int, int],
    pad: tuple[int, int, int, int],
    dilation: tuple[int, int],
    groups: int,
) -> np.ndarray:
    """conv2d on NHWC ``x`` with filters ``f`` of shape [groups, HF, WF, CIN/groups, COUT].

    ``pad`` is (top, bottom, left, right), zero padding. Only groups == 1 is used by the zoo, and is
    all this reference implements (it avoids guessing the grouped output-channel convention).
    """
    g, hf, wf, cin_g, cout = f.shape
    n, h, w, cin = x.shape
    if groups != 1 or g != 1 or cin_g != cin:
        raise NotImplementedError("grouped convolution")
    (sh, sw), (pt, pb, pl, pr), (dh, dw) = stride, pad, dilation
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    ho = (h + pt + pb - dh * (hf - 1) - 1) // sh + 1
    wo = (w + pl + pr - dw * (wf - 1) - 1) // sw + 1
    out = np.zeros((n, ho, wo, cout))
    for i in range(hf):
        for j in range(wf):
            # The input pixels that filter tap (i, j) sees, for every output position at once.
            patch = xp[
                :, i * dh : i * dh + sh * (ho - 1) + 1 : sh, j * dw : j * dw + sw * (wo - 1) + 1 : sw, :
            ]
            out += patch @ f[0, i, j]  # (n, ho, wo, cin) @ (cin, cout)
    return out


def bias_add(x: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SeeDot ``<+>``: adds the per-channel bias ``b`` along the last dimension."""
    assert b.ndim == 1 and x.shape[-1] == b.shape[0]
    return x + b


def maxpool(
    x: np.ndarray, kernel: tuple[int, int], pad: tuple[int, int, int, int], stride: tuple[int, int]
) -> np.ndarray:
    """Max pooling on NHWC ``x``; padding (top, bottom, left, right) never wins the max."""
    (kh, kw), (pt, pb, pl, pr), (sh, sw) = kernel, pad, stride
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=-np.inf)
    n, h, w, c = xp.shape
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = np.full((n, ho, wo, c), -np.inf)
    for i in range(kh):
        for j in range(kw):
            out = np.maximum(out, xp[:, i : i + sh * (ho - 1) + 1 : sh, j : j + sw * (wo - 1) + 1 : sw, :])
    return out


def reshape(x: np.ndarray, shape: tuple[int, ...], order: tuple[int, ...]) -> np.ndarray:
    """SeeDot ``reshape(x, shape, order)``: read x with its dimensions in ``order`` (1-based),
    row-major, and refill row-major into ``shape``."""
    return np.transpose(x, [d - 1 for d in order]).reshape(shape)


# --- The models ---------------------------------------------------------------------------------------


def _as64(weights: Weights) -> dict[str, np.ndarray]:
    return {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}


def predict_protonn(weights: Weights, X: np.ndarray) -> np.ndarray:
    p = _as64(weights)
    W, B, Z, mg = p["W"], p["B"], p["Z"], p["mg"]
    preds = []
    for x in np.asarray(X, dtype=np.float64):
        X_ = x.reshape(64, 1)
        WX = sparse_mul(W, X_)
        score = np.zeros((10, 1))
        for j in range(20):  # $(j = [0:20])
            D = sub(WX, B[j])
            score = score + mul(Z[j], np.exp(mul(mg, mul(D.T, D))))
        preds.append(argmax(score))
    return np.array(preds, dtype=np.int64)


def _bonsai_score(p: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """The Bonsai body shared by the multi-class and the binary program: s0 + s1 + s2."""
    W, V, T, sigma = p["W"], p["V"], p["T"], p["sigma"]
    ZX = sparse_mul(p["Z"], x)

    def node(k: int) -> np.ndarray:
        return hadamard(mul(W[k], ZX), np.tanh(mul(sigma, mul(V[k], ZX))))

    s0 = node(0)
    k1 = 1 if scalar(mul(T[0], ZX)) >= 0 else 2
    s1 = node(k1)
    k2 = 2 * k1 + 1 if scalar(mul(T[k1], ZX)) >= 0 else 2 * k1 + 2
    s2 = node(k2)
    return add(add(s0, s1), s2)


def predict_bonsai(weights: Weights, X: np.ndarray) -> np.ndarray:
    p = _as64(weights)
    return np.array([argmax(_bonsai_score(p, x.reshape(64, 1))) for x in np.asarray(X, np.float64)])


def predict_bonsai_binary(weights: Weights, X: np.ndarray) -> np.ndarray:
    p = _as64(weights)
    # sgn(e): class 1 when the (1, 1) score is > 0, else class 0.
    return np.array(
        [1 if scalar(_bonsai_score(p, x.reshape(30, 1))) > 0 else 0 for x in np.asarray(X, np.float64)],
        dtype=np.int64,
    )


def predict_fastgrnn(weights: Weights, X: np.ndarray) -> np.ndarray:
    p = _as64(weights)
    W, U, bz, bh, zeta, nu, FC, FCb = (p[k] for k in ("W", "U", "bz", "bh", "zeta", "nu", "FC", "FCb"))
    one = np.ones((1, 1))
    preds = []
    for x in np.asarray(X, dtype=np.float64):
        X_ = x.reshape(8, 8, 1)
        H0 = np.zeros((16, 1))  # init([16, 1], 0.0)
        for t in range(8):  # loop(t = [0:8], H0): H0 is the carried state
            pre = add(mul(W, X_[t]), mul(U, H0))
            z = sigmoid(add(pre, bz))
            c = np.tanh(add(pre, bh))
            H0 = add(hadamard(add(mul(zeta, sub(one, z)), nu), c), hadamard(z, H0))
        preds.append(argmax(add(mul(FC, H0), FCb)))
    return np.array(preds, dtype=np.int64)


def predict_cnn(weights: Weights, X: np.ndarray) -> np.ndarray:
    p = _as64(weights)
    preds = []
    for x in np.asarray(X, dtype=np.float64):
        X_ = x.reshape(1, 8, 8, 1)
        c1 = conv2d(X_, p["F1"], (1, 1), (1, 1, 1, 1), (1, 1), 1)
        a1 = maxpool(relu(bias_add(c1, p["c1b"])), (2, 2), (0, 0, 0, 0), (2, 2))
        c2 = conv2d(a1, p["F2"], (1, 1), (1, 1, 1, 1), (1, 1), 1)
        a2 = maxpool(relu(bias_add(c2, p["c2b"])), (2, 2), (0, 0, 0, 0), (2, 2))
        flat = reshape(a2, (64, 1), (1, 2, 3, 4))
        h = relu(add(mul(p["D1"], flat), p["d1b"]))
        preds.append(argmax(add(mul(p["D2"], h), p["d2b"])))
    return np.array(preds, dtype=np.int64)


def predict_mlp(weights: Weights, X: np.ndarray) -> np.ndarray:
    p = _as64(weights)
    preds = []
    for x in np.asarray(X, dtype=np.float64):
        h = relu(add(mul(p["W1"], x.reshape(64, 1)), p["b1"]))
        preds.append(argmax(add(mul(p["W2"], h), p["b2"])))
    return np.array(preds, dtype=np.int64)


PREDICT: dict[str, Callable[[Weights, np.ndarray], np.ndarray]] = {
    "protonn": predict_protonn,
    "bonsai": predict_bonsai,
    "bonsai-binary": predict_bonsai_binary,
    "fastgrnn": predict_fastgrnn,
    "cnn": predict_cnn,
    "mlp": predict_mlp,
}


def accuracy(name: str, weights: Weights, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(PREDICT[name](weights, X) == y))
