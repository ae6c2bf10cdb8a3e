"""Every zoo model's float accuracy, recomputed from the shipped files, meets its floor and
matches the accuracy recorded in its meta.json."""

from __future__ import annotations

import numpy as np
import pytest

from hlsfix.ir.interp import run_float
from hlsfix.zoo import ZOO_NAMES, load_model

# Floors from the issue (digits); breast cancer's binary Bonsai is held to the level of the paper's
# binary Bonsai results.
FLOORS = {"protonn": 0.93, "bonsai": 0.90, "fastgrnn": 0.90, "cnn": 0.96, "mlp": 0.95, "bonsai-binary": 0.93}


@pytest.mark.parametrize("name", ZOO_NAMES)
def test_float_accuracy_meets_floor_and_record(name: str) -> None:
    model = load_model(name)
    data = model.data
    assert data is not None
    acc = float(np.mean(run_float(model.graph, data.x_test) == data.y_test))
    assert acc >= FLOORS[name]
    assert acc == pytest.approx(model.meta["float_test_accuracy"], abs=5e-5)
    assert len(data.x_test) == model.meta["n_test"] and len(data.x_train) == model.meta["n_train"]


def test_digits_models_share_one_split() -> None:
    first = load_model("protonn").data
    for name in ("bonsai", "fastgrnn", "cnn", "mlp"):
        other = load_model(name).data
        np.testing.assert_array_equal(first.x_test, other.x_test)
        np.testing.assert_array_equal(first.y_train, other.y_train)


def test_sparse_projections_are_sparse() -> None:
    for name, param in (("protonn", "W"), ("bonsai", "Z"), ("bonsai-binary", "Z")):
        g = load_model(name).graph
        assert g.param(param).sparse
        assert np.mean(g.weights[param] == 0) > 0.5
