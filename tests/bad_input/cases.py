"""The bad-input corpus: one table of cases, each a user's mistake at the command line.

A case names the files it needs (written into a fresh directory), the command line (``{d}`` is that
directory) and a fragment the one error line must contain: the file, option or location at fault.
To add a family (CLI options, output paths, interruption), append ``Case``s to ``CASES`` — through
a helper like those below when many cases share their files.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

Files = dict[str, bytes]


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    fragment: str  # must appear in the error line
    files: Files = field(default_factory=dict)
    status: int = 2


def npz(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def npz_raw(members: dict[str, bytes]) -> bytes:
    """An .npz whose members are given as raw .npy bytes (headers that lie included)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(f"{name}.npy", data)
    return buf.getvalue()


def npy_header(shape: tuple[int, ...], dtype: str = "<f8", payload: bytes = b"") -> bytes:
    """A .npy whose header claims ``shape`` over ``payload`` (no more)."""
    header = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape!r}, }}"
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + payload


# A small model: X (4, 1), W (3, 4), argmax of 3 classes; its weights and data.
MODEL = "let X = (4, 1) in [0, 1] in\nlet W = (3, 4) in [-1, 1] in\nargmax(W * X)\n"
RNG = np.random.default_rng(12)
W = RNG.uniform(-1, 1, size=(3, 4))
X_TRAIN, X_TEST = RNG.uniform(0, 1, size=(40, 4)), RNG.uniform(0, 1, size=(20, 4))
Y_TRAIN, Y_TEST = RNG.integers(0, 3, size=40), RNG.integers(0, 3, size=20)
GOOD_WEIGHTS = npz(W=W)
GOOD_DATA_MEMBERS = {"y_train": npy(Y_TRAIN), "X_test": npy(X_TEST), "y_test": npy(Y_TEST)}


def data(**changes: np.ndarray | None) -> bytes:
    arrays = {"X_train": X_TRAIN, "y_train": Y_TRAIN, "X_test": X_TEST, "y_test": Y_TEST, **changes}
    return npz(**{k: v for k, v in arrays.items() if v is not None})


def compile_case(
    id: str,
    fragment: str,
    *,
    sd: str | bytes = MODEL,
    weights: bytes | None = GOOD_WEIGHTS,
    data_npz: bytes | None = None,
    sd_name: str = "m.sd",
    extra: tuple[str, ...] = (),
) -> Case:
    files: Files = {sd_name: sd.encode() if isinstance(sd, str) else sd}
    if weights is not None:
        files["w.npz"] = weights
    argv = ["compile", "{d}/" + sd_name, "--weights", "{d}/w.npz"]
    files["d.npz"] = data() if data_npz is None else data_npz
    argv += ["--data", "{d}/d.npz", "-o", "{d}/OUT", *extra]
    return Case(id, tuple(argv), fragment, files)


H = "let X = (4, 1) in [0, 1] in\nlet W = (3, 4) in [-1, 1] in\n"

# ---- .sd programs: (id, text, fragment) ---------------------------------------------------
PROGRAMS: list[tuple[str, str | bytes, str]] = [
    ("empty program", "", "m.sd:1:1: program must end with an expression"),
    ("only comments", "// nothing\n", "program must end with an expression"),
    ("unclosed paren", H + "argmax((W * X)\n", "m.sd:3:15: program must end with an expression"),
    ("stray token", H + "argmax(W * X))\n", "m.sd:3:14"),
    ("bad character", H + "argmax(W # X)\n", "m.sd:3:10"),
    ("missing in", "let X = (4, 1) in [0, 1]\nX\n", "m.sd:2:1"),
    ("unknown function", H + "softmax(W * X)\n", "m.sd:3:1: unknown function softmax (known: relu"),
    ("unknown function nested", H + "argmax(gelu(W * X))\n", "m.sd:3:8: unknown function gelu"),
    ("undeclared name", H + "argmax(V * X)\n", "m.sd:3:8: name 'V' must be declared"),
    ("no input", "let W = (3, 4) in [-1, 1] in\nW\n", "program must declare its input X"),
    (
        "declared twice",
        H + "let W = (3, 4) in [-1, 1] in\nargmax(W * X)\n",
        "m.sd:3:5: W must be declared once",
    ),
    ("zero dimension", "let X = (0, 1) in [0, 1] in\nX\n", "m.sd:1:5: dimensions of X must be positive"),
    ("huge input", "let X = (100000, 100000) in [0, 1] in\nX\n", "m.sd:1:5: X must have at most"),
    (
        "huge init",
        H + "let Z = init([100000, 100000], 0) in\nargmax(W * X)\n",
        "m.sd:3:9: init must have at most",
    ),
    (
        "huge product",
        H + "let A = (5000, 1) in [0, 1] in\nlet B = (1, 5000) in [0, 1] in\nA * B\n",
        "m.sd:5:3",
    ),
    ("reversed range", "let X = (4, 1) in [1, 0] in\nX\n", "m.sd:1:5: range of X must have low ≤ high"),
    ("infinite range", "let X = (4, 1) in [0, 1e999] in\nX\n", "m.sd:1:5: range of X must be finite"),
    ("shape mismatch", H + "argmax(X * W)\n", "m.sd:3:10: inner dimensions of * must agree"),
    ("add mismatch", H + "argmax(W * X + X)\n", "m.sd:3:14"),
    ("index out of range", H + "argmax(W[5] * X)\n", "m.sd:3:8: index must be in 0..2, not 5"),
    ("splice out of range", H + "argmax(W * X[3:+2])\n", "m.sd:3:12: start of the splice"),
    ("empty sum range", H + "argmax($(i = [3:3]) (W * X))\n", "m.sd:3:15: range must be non-empty"),
    (
        "huge loop range",
        H + "argmax($(i = [0:100000]) (W * X))\n",
        "m.sd:3:17: range must end at most at 32767",
    ),
    (
        "loop of integer",
        H + "let k = 1 in\nargmax(loop(i = [0:2], k) (W * X))\n",
        "m.sd:4:24: carried value of loop",
    ),
    (
        "maxpool pad = kernel",
        "let X = (1, 4, 4, 1) in [0, 1] in\nmaxpool(X, {k 2 2}, {p 2 0 0 0}, {s 1 1})\n",
        "m.sd:2:1: paddings of maxpool must be smaller",
    ),  # fmt: skip
    (
        "maxpool pad > kernel",
        "let X = (1, 4, 4, 1) in [0, 1] in\nmaxpool(X, {k 1 1}, {p 0 0 0 3}, {s 1 1})\n",
        "m.sd:2:1: paddings of maxpool",
    ),  # fmt: skip
    (
        "conv wrong groups",
        "let X = (1, 4, 4, 2) in [0, 1] in\nlet F = (1, 2, 2, 2, 3) in [-1, 1] in\n"
        "conv2d(X, F, {s 1 1}, {p 0 0 0 0}, {d 1 1}, {g 2})\n",
        "m.sd:3:1: first filter dimension",
    ),  # fmt: skip
    (
        "conv too small",
        "let X = (1, 2, 2, 1) in [0, 1] in\nlet F = (1, 3, 3, 1, 1) in [-1, 1] in\n"
        "conv2d(X, F, {s 1 1}, {p 0 0 0 0}, {d 1 1}, {g 1})\n",
        "m.sd:3:1: conv2d output must be",
    ),  # fmt: skip
    ("sparse of computed", H + "argmax((W * X) |*| X)\n", "m.sd:3:16: left operand of |*|"),
    ("reshape count", H + "argmax(reshape(W * X, (2, 2), (1, 2)))\n", "m.sd:3:8: reshape must keep"),
    ("reshape order", H + "argmax(reshape(W * X, (3, 1), (1, 1)))\n", "m.sd:3:8: order of reshape"),
    (
        "deep parens",
        H + "argmax(" + "(" * 3000 + "X" + ")" * 3000 + ")\n",
        "m.sd:3:3975: program must have at most 4000 tokens",
    ),
    ("long sum", "let X = (4, 1) in [0, 1] in\n" + " + ".join(["X"] * 2000) + "\n", "m.sd:2:"),
    (
        "deep lets",
        "let X = (4, 1) in [0, 1] in\n" + "".join(f"let a{i} = X in\n" for i in range(3000)) + "X\n",
        "m.sd:",
    ),  # fmt: skip
    (
        "deeply nested calls",
        H + "argmax(W * " + "relu(" * 1300 + "X" + ")" * 1300 + ")\n",
        "m.sd:1:1: program must nest",
    ),
    (
        "nested sum terms",
        H + "argmax(W * (" + " + ".join(["X"] * 1300) + "))\n",
        "m.sd:1:1: program must nest",
    ),
    ("fractional dimension", "let X = (4.5, 1) in [0, 1] in\nX\n", "m.sd:1:13"),
    ("missing range", "let X = (4, 1) in\nX\n", "m.sd:2:1"),
    ("range of names", "let X = (4, 1) in [a, b] in\nX\n", "m.sd:1:20"),
    ("let without name", H + "let = W in\nargmax(W * X)\n", "m.sd:3:5"),
    ("keyword as name", H + "let relu = W in\nargmax(W * X)\n", "m.sd:3:5"),
    (
        "conv missing braces",
        "let X = (1, 4, 4, 1) in [0, 1] in\nlet F = (1, 2, 2, 1, 1) in [-1, 1] in\n"
        "conv2d(X, F, {s 1 1}, {p 0 0 0}, {d 1 1}, {g 1})\n",
        "m.sd:3:31",
    ),  # fmt: skip
    (
        "maxpool input not 4-D",
        H + "argmax(maxpool(W * X, {k 1 1}, {p 0 0 0 0}, {s 1 1}))\n",
        "m.sd:3:8: input of maxpool",
    ),
    (
        "conv input not 4-D",
        "let X = (4, 1) in [0, 1] in\nlet F = (1, 1, 1, 1, 1) in [-1, 1] in\n"
        "conv2d(X, F, {s 1 1}, {p 0 0 0 0}, {d 1 1}, {g 1})\n",
        "m.sd:3:1: input of conv2d must be 4-D",
    ),  # fmt: skip
    (
        "conv zero stride",
        "let X = (1, 4, 4, 1) in [0, 1] in\nlet F = (1, 1, 1, 1, 1) in [-1, 1] in\n"
        "conv2d(X, F, {s 0 1}, {p 0 0 0 0}, {d 1 1}, {g 1})\n",
        "m.sd:3:1: strides and dilations",
    ),  # fmt: skip
    ("cond missing colon", H + "argmax(X[0:+1] >= 0 ? W * X)\n", "m.sd:3:"),
    ("cond threshold name", H + "argmax(X[0:+1] >= W ? W * X : W * X)\n", "m.sd:3:19"),
    ("splice size zero", H + "argmax(W * X[0:+0])\n", "m.sd:3:12: splice size of dimension 1"),
    ("index of integer", H + "let k = 1 + 1 in\nargmax(W * X[k][k])\n", "m.sd:4:"),
    ("transpose of integer", H + "let k = 1 + 1 in\nargmax(k^T)\n", "m.sd:4:8"),
    ("bias add mismatch", H + "let b = (5) in [0, 1] in\nargmax((W * X)^T <+> b)\n", "m.sd:4:"),
    ("hadamard mismatch", H + "argmax((W * X) <*> X)\n", "m.sd:3:16"),
    ("sgn of many", H + "sgn(W * X)\n", "m.sd:3:"),
    ("relu of integer", H + "argmax(W * X + relu(1 + 1))\n", "m.sd:3:"),
    ("trailing garbage", H + "argmax(W * X) in\n", "m.sd:3:15"),
    ("binary file", b"\x00\x01\x02\xff\xfe" * 20, "m.sd:1:4: program must be UTF-8 text"),
    (
        "latin-1 text",
        ("let X = (4, 1) in [0, 1] in // caf\xe9\nX\n").encode("latin-1"),
        "m.sd:1:35: program must be UTF-8 text, not hold the byte 0xe9",
    ),
    ("NUL byte", "let X = (4, 1) in [0, 1] in\x00\nX\n", "m.sd:1:28: program must be text"),
    ("BOM then error", "\ufefflet X = (4, 1) in [0, 1] in\nY\n", "m.sd:2:1: name 'Y'"),
    ("argmax of integer", H + "argmax(1 + 1)\n", "m.sd:3:"),
    ("computed integer as tensor", H + "let k = 1 + 1 in\nargmax(W * X + k)\n", "m.sd:4:14"),
]

# ---- weights files ---------------------------------------------------------------------------
WEIGHTS: list[tuple[str, bytes, str]] = [
    ("weights empty file", b"", "weights file {d}/w.npz must be a .npz archive (name → array), not empty"),
    ("weights not zip", b"hello, world\n" * 4, "weights file {d}/w.npz must be a .npz archive"),
    ("weights single npy", npy(W), "not a single .npy array"),
    (
        "weights truncated",
        GOOD_WEIGHTS[: len(GOOD_WEIGHTS) // 2],
        "weights file {d}/w.npz must be a readable",
    ),
    ("weights missing array", npz(V=W), "m.sd:2:5: weights file must hold an array 'W'"),
    ("weights wrong shape", npz(W=W.T), "m.sd:2:5: array 'W' must have the declared shape (3, 4)"),
    ("weights NaN", npz(W=np.where(W > 0, np.nan, W)), "m.sd:2:5: array 'W' must be finite"),
    ("weights out of range", npz(W=W * 5), "m.sd:2:5: values of 'W' must lie in the declared range"),
    (
        "weights strings",
        npz(W=np.array([["a"] * 4] * 3)),
        "array 'W' of weights file {d}/w.npz must be numeric",
    ),
    ("weights object", npz_raw({"W": npy_header((3, 4), "|O")}), "must be numeric, not of dtype object"),
    (
        "weights huge header",
        npz_raw({"W": npy_header((1 << 20, 1 << 20))}),
        "must be at most 256 MiB, not claim",
    ),
    (
        "weights header over little data",
        npz_raw({"W": npy_header((3, 4), payload=b"\0" * 16)}),
        "must be whole",
    ),
    ("weights bad header", npz_raw({"W": b"\x93NUMPY\x01\x00\x10\x00{garbage}      \n"}), "must be readable"),
    ("weights complex", npz(W=W.astype(np.complex128)), "must be numeric, not of dtype complex128"),
    (
        "weights directory",
        b"",
        "weights file {d}/w.npz must be a file, not a directory",
    ),  # see DIRECTORY_CASES
    ("weights Inf", npz(W=np.where(W > 0, np.inf, W)), "m.sd:2:5: array 'W' must be finite, not hold"),
    (
        "weights 1-D",
        npz(W=W.reshape(-1)),
        "m.sd:2:5: array 'W' must have the declared shape (3, 4), not (12,)",
    ),
    ("weights bool", npz(W=W > 0), "m.sd:2:5: array 'W' must be numeric, not bool"),
]

# ---- data files --------------------------------------------------------------------------------
DATA: list[tuple[str, bytes, str]] = [
    ("data empty file", b"", "data file {d}/d.npz must be a .npz archive (name → array), not empty"),
    ("data not zip", b"\x00" * 100, "data file {d}/d.npz must be a .npz archive"),
    (
        "data single npy",
        npy(X_TRAIN),
        "data file {d}/d.npz must be a .npz archive (name → array), not a single",
    ),
    ("data truncated", data()[:300], "data file {d}/d.npz must be"),
    (
        "data missing keys",
        data(y_test=None),
        "data file {d}/d.npz must hold X_train, y_train, X_test, y_test",
    ),
    (
        "data X_test features",
        data(X_test=X_TEST[:, :3]),
        "data file {d}/d.npz: X_test: input rows must have 4",
    ),
    (
        "data X_train features",
        data(X_train=X_TRAIN[:, :5].repeat(2, axis=1)),
        "{d}/d.npz: X_train: input rows",
    ),
    (
        "data X_test NaN",
        data(X_test=np.where(X_TEST > 0.5, np.nan, X_TEST)),
        "{d}/d.npz: X_test: input data must be finite",
    ),
    (
        "data X strings",
        data(X_train=np.array([["a"] * 4] * 40)),
        "array 'X_train' of data file {d}/d.npz must be numeric",
    ),
    (
        "data X empty",
        data(X_train=np.zeros((0, 4)), y_train=np.zeros(0)),
        "{d}/d.npz: X_train: input data must hold",
    ),
    (
        "labels count",
        data(y_test=Y_TEST[:-1]),
        "{d}/d.npz: y_test must hold one label per row of X_test (20)",
    ),
    ("labels train count", data(y_train=Y_TRAIN[:5]), "y_train must hold one label per row of X_train (40)"),
    ("labels negative", data(y_test=Y_TEST - 1), "y_test must hold classes in 0..2"),
    ("labels too large", data(y_train=Y_TRAIN + 3), "y_train must hold classes in 0..2"),
    ("labels fractional", data(y_test=Y_TEST + 0.5), "y_test must hold integer classes"),
    ("labels NaN", data(y_test=np.where(Y_TEST > 1, np.nan, Y_TEST)), "y_test must hold integer classes"),
    (
        "labels strings",
        data(y_test=np.array(["cat"] * 20)),
        "array 'y_test' of data file {d}/d.npz must be numeric",
    ),
    ("labels 2-D", data(y_test=np.eye(3)[Y_TEST]), "y_test must be one class per row (1-D)"),
    ("labels scalar", data(y_test=np.array(3)), "y_test must hold one label per row"),
    (
        "data X_test 3 rows of 3",
        data(X_test=X_TEST[:3, :3]),
        "data file {d}/d.npz: X_test: input rows must have 4",
    ),
    (
        "data X_train inf",
        data(X_train=np.where(X_TRAIN > 0.9, np.inf, X_TRAIN)),
        "{d}/d.npz: X_train: input data must be finite",
    ),
    ("data X_test 1-D", data(X_test=X_TEST.reshape(-1)), "{d}/d.npz: X_test: input rows must have 4"),
    (
        "data X_test scalar",
        data(X_test=np.array(1.0)),
        "{d}/d.npz: X_test: input data must hold at least one row",
    ),
    (
        "labels complex",
        data(y_test=Y_TEST.astype(np.complex64)),
        "array 'y_test' of data file {d}/d.npz must be numeric",
    ),
    ("labels train 2-D", data(y_train=Y_TRAIN.reshape(-1, 1)), "y_train must be one class per row (1-D)"),
    ("labels huge", data(y_test=Y_TEST * 10**12), "y_test must hold classes in 0..2"),
    (
        "data members only X",
        npz(X_train=X_TRAIN),
        "must hold X_train, y_train, X_test, y_test, not lack y_train",
    ),
    ("data directory", b"", "data file {d}/d.npz must be a file, not a directory"),  # see DIRECTORY_CASES
    (
        "data huge header",
        npz_raw({"X_train": npy_header((1 << 30, 1 << 10)), **GOOD_DATA_MEMBERS}),
        "must be at most 256 MiB",
    ),
]


def _program_cases() -> list[Case]:
    return [compile_case(f"sd: {i}", frag, sd=text) for i, text, frag in PROGRAMS]


def _weights_cases() -> list[Case]:
    return [compile_case(f"weights: {i}", frag, weights=w) for i, w, frag in WEIGHTS]


def _data_cases() -> list[Case]:
    return [compile_case(f"data: {i}", frag, data_npz=d) for i, d, frag in DATA]


def _name_cases() -> list[Case]:
    """Hostile or odd file names: the error stays one line and names the file."""
    out = []
    for name in ("m\nrm -rf x.sd", "m[exec touch X].sd", "a;rm -rf x.sd", "m\rX.sd", "m\x1b[31m.sd"):
        out.append(
            compile_case(
                f"name: {name!r} bad program", "program must end with an expression", sd="", sd_name=name
            )
        )
    missing = "no\nsuch.sd"
    out.append(Case("name: newline in a missing model", ("info", missing), "'no\\nsuch.sd'"))
    model, weights = {"m.sd": MODEL.encode()}, {"w.npz": GOOD_WEIGHTS}
    bad_w = "weights file must exist, not be missing: {d}/w\\n.npz"
    out.append(
        Case(
            "name: missing weights with newline",
            ("info", "{d}/m.sd", "--weights", "{d}/w\n.npz"),
            bad_w,
            model,
        )
    )
    zoo = "weights must not be given for the zoo model mlp"
    out.append(
        Case("name: zoo model with --weights", ("info", "mlp", "--weights", "{d}/w.npz"), zoo, weights)
    )
    argv = ("compile", "mlp", "--weights", "{d}/w.npz", "-o", "{d}/OUT")
    out.append(Case("name: zoo model with --weights (compile)", argv, zoo, weights))
    out.append(
        Case("name: not an .sd", ("info", "{d}/m.txt"), "or an existing .sd file", {"m.txt": MODEL.encode()})
    )
    out.append(
        Case(
            "name: a directory named .sd",
            ("info", "{d}/dir.sd"),
            "or an existing .sd file",
            {"dir.sd/x": b""},
        )
    )
    return out


CaseFamily = Callable[[], list[Case]]
FAMILIES: tuple[CaseFamily, ...] = (_program_cases, _weights_cases, _data_cases, _name_cases)
CASES: list[Case] = [c for family in FAMILIES for c in family()]
DIRECTORY_CASES = {
    "weights: weights directory": "w.npz",
    "data: data directory": "d.npz",
}  # this file is a directory instead
