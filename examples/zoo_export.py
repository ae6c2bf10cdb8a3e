"""Writes a trained zoo model into hlsfix/zoo/<name>/ and fits the ranges declared in its model.sd.

``export`` checks the weights against the declarations of model.sd, measures the float accuracy with
the numpy reference forward (zoo_forward), writes weights.npz, data.npz and meta.json, and rewrites
each ``let NAME = (dims) in [lo, hi] in`` so that [lo, hi] is the actual min/max rounded outward to
two decimals (for X: over the training inputs). Everything else in model.sd is left as it is.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path

import numpy as np
from zoo_data import Split
from zoo_forward import PREDICT, accuracy

REPO = Path(__file__).resolve().parents[1]
ZOO = REPO / "hlsfix" / "zoo"

# `let NAME = (d1, d2, ...) in [lo, hi] in`, with whatever spacing; groups: head, name, dims, lo, hi.
_DECL = re.compile(
    r"^(?P<head>let\s+(?P<name>\w+)\s*=\s*\((?P<dims>[\d\s,]*)\)\s*in\s*)"
    r"\[\s*(?P<lo>[-+\d.eE]+)\s*,\s*(?P<hi>[-+\d.eE]+)\s*\](?P<tail>\s*in\b)(?P<rest>.*)$"
)


@dataclass(frozen=True)
class Decl:
    name: str
    shape: tuple[int, ...]


def declarations(sd_text: str) -> dict[str, Decl]:
    """The tensors declared with a shape and a range, in program order (X included)."""
    decls = {}
    for line in sd_text.splitlines():
        m = _DECL.match(line.strip())
        if m:
            shape = tuple(int(d) for d in m["dims"].replace(" ", "").split(",") if d)
            decls[m["name"]] = Decl(m["name"], shape)
    return decls


def outward(lo: float, hi: float) -> tuple[str, str]:
    """[lo, hi] rounded outward to two decimals, exactly (Decimal holds the float's exact value)."""
    step = Decimal("0.01")
    dlo = Decimal(float(lo)).quantize(step, rounding=ROUND_FLOOR)
    dhi = Decimal(float(hi)).quantize(step, rounding=ROUND_CEILING)
    # "-0.00" would read oddly; it is the same bound as 0.00.
    return tuple("0.00" if d.is_zero() else f"{d:.2f}" for d in (dlo, dhi))  # type: ignore[return-value]


def _rewrite_ranges(sd_text: str, ranges: dict[str, tuple[str, str]]) -> str:
    lines = sd_text.splitlines(keepends=True)
    # (line index, new declaration text, trailing comment, the comment's old column)
    edits = []
    for i, line in enumerate(lines):
        body = line.rstrip("\n")
        indent = body[: len(body) - len(body.lstrip())]
        m = _DECL.match(body.strip())
        if m and m["name"] in ranges:
            lo, hi = ranges[m["name"]]
            comment = m["rest"].strip()
            edits.append(
                (i, f"{indent}{m['head']}[{lo}, {hi}]{m['tail']}", comment, len(body) - len(comment))
            )
    # Trailing comments of the declarations stay aligned: in their old column, or all moved right
    # together when a longer range would otherwise run into one.
    col = max((max(old, len(new) + 2) for _, new, comment, old in edits if comment), default=0)
    for i, new, comment, _ in edits:
        text = new + " " * (col - len(new)) + comment if comment else new
        lines[i] = text + lines[i][len(lines[i].rstrip("\n")) :]
    return "".join(lines)


def export(
    name: str,
    weights: dict[str, np.ndarray],
    split: Split,
    description: str,
    trainer_test_pred: np.ndarray | None = None,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[float, float]:
    """Validate, evaluate and write model ``name``; returns (train accuracy, test accuracy).

    ``trainer_test_pred``, the test predictions of the training framework's own model, is compared
    with the numpy reference: a mismatch beyond a rare float tie means a layout bug in the export.
    ``validation``, rows of ``split``'s training part that the model was not fitted to (X, y), is
    recorded in meta.json (its size and float accuracy); data.npz ships the whole training split.
    """
    folder = ZOO / name
    sd_path = folder / "model.sd"
    sd_text = sd_path.read_text()
    decls = declarations(sd_text)

    # The shipped weights are exactly the declared parameters, float32, with the declared shapes.
    params = {k: d for k, d in decls.items() if k != "X"}
    if set(weights) != set(params):
        raise ValueError(f"{name}: weights {sorted(weights)} != declared {sorted(params)}")
    weights = {k: np.ascontiguousarray(weights[k], dtype=np.float32) for k in params}
    for k, d in params.items():
        if weights[k].shape != d.shape:
            raise ValueError(f"{name}: {k} has shape {weights[k].shape}, model.sd declares {d.shape}")
        if not np.all(np.isfinite(weights[k])):
            raise ValueError(f"{name}: {k} is not finite")
    n_features = math.prod(decls["X"].shape)
    if split.X_train.shape[1] != n_features:
        raise ValueError(f"{name}: X has {split.X_train.shape[1]} features, model.sd declares {n_features}")

    train_acc = accuracy(name, weights, split.X_train, split.y_train)
    test_pred = PREDICT[name](weights, split.X_test)
    test_acc = float(np.mean(test_pred == split.y_test))
    if trainer_test_pred is not None:
        agree = float(np.mean(test_pred == np.asarray(trainer_test_pred)))
        print(f"{name}: numpy reference agrees with the trained model on {agree:.2%} of the test set")
        if agree < 0.99:
            raise RuntimeError(f"{name}: the exported weights do not reproduce the trained model")

    np.savez(folder / "weights.npz", **weights)
    np.savez(
        folder / "data.npz",
        X_train=split.X_train.astype(np.float32),
        y_train=split.y_train.astype(np.int64),
        X_test=split.X_test.astype(np.float32),
        y_test=split.y_test.astype(np.int64),
    )
    meta = {
        "name": name,
        "dataset": split.dataset,
        "description": description,
        "float_test_accuracy": round(test_acc, 4),
        "float_train_accuracy": round(train_acc, 4),
        "n_train": int(len(split.y_train)),
        "n_test": int(len(split.y_test)),
        "input_preprocessing": split.input_preprocessing,
        "training_script": f"examples/train_{name}.py",
    }
    if validation is not None:
        X_val, y_val = validation
        meta["n_validation"] = int(len(y_val))
        meta["float_validation_accuracy"] = round(accuracy(name, weights, X_val, y_val), 4)
    (folder / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")

    ranges = {k: outward(v.min(), v.max()) for k, v in weights.items()}
    ranges["X"] = outward(split.X_train.min(), split.X_train.max())
    sd_path.write_text(_rewrite_ranges(sd_text, ranges))

    print(f"{name}: float train accuracy {train_acc:.4f}, test accuracy {test_acc:.4f}")
    for k, v in weights.items():
        nnz = int(np.count_nonzero(v))
        print(f"  {k:6s} {str(v.shape):14s} range [{ranges[k][0]}, {ranges[k][1]}]  nnz {nnz}/{v.size}")
    print(f"  X range [{ranges['X'][0]}, {ranges['X'][1]}]; wrote {folder.relative_to(REPO)}/")
    return train_acc, test_acc
