"""Train the zoo's two-layer perceptron (hlsfix/zoo/mlp/model.sd) on 8x8 digits.

    h = relu(W1 * X + b1);  class = argmax(W2 * h + b2)

Run from the repository root: ``python examples/train_mlp.py``.
"""

from __future__ import annotations

import torch
from zoo_data import digits_split
from zoo_export import export
from zoo_torch import fit, make_deterministic, to_numpy

SEED = 0
EPOCHS = 120
BATCH = 64
HIDDEN = 32


def main() -> None:
    gen = make_deterministic(SEED)
    split = digits_split()
    X = torch.from_numpy(split.X_train)
    y = torch.from_numpy(split.y_train)

    model = torch.nn.Sequential(torch.nn.Linear(64, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 10))
    # Weight decay keeps the weights small, so that 8/16-bit fixed point loses little.
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
    fit(model, opt, X, y, epochs=EPOCHS, batch_size=BATCH, generator=gen)

    with torch.no_grad():
        torch_pred = model(torch.from_numpy(split.X_test)).argmax(1).numpy()
    lin1, lin2 = model[0], model[2]
    weights = {
        "W1": to_numpy(lin1.weight),  # torch's Linear computes x @ W^T, i.e. W * X on a column
        "b1": to_numpy(lin1.bias).reshape(HIDDEN, 1),
        "W2": to_numpy(lin2.weight),
        "b2": to_numpy(lin2.bias).reshape(10, 1),
    }
    export(
        "mlp",
        weights,
        split,
        description="Two-layer perceptron 64-32-10 with ReLU on 8x8 digits, trained with AdamW.",
        trainer_test_pred=torch_pred,
    )


if __name__ == "__main__":
    main()
