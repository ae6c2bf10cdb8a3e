"""Train the zoo's FastGRNN (hlsfix/zoo/fastgrnn/model.sd) on 8x8 digits read row by row.

For t = 0..7, with x_t the t-th image row as an (8, 1) column and h_0 = 0:
    pre = W x_t + U h;  z = sigmoid(pre + bz);  c = tanh(pre + bh)
    h   = (zeta (1 - z) + nu) <*> c + z <*> h
then class = argmax(FC h + FCb). As in the paper (Kusupati et al., 2018), zeta = sigmoid(a) and
nu = sigmoid(b) are trained through unconstrained a, b; model.sd receives their values.

Run from the repository root: ``python examples/train_fastgrnn.py``.
"""

from __future__ import annotations

import torch
from torch import nn
from zoo_data import Split, digits_split
from zoo_export import export
from zoo_torch import fit, make_deterministic, to_numpy

SEED = 0
EPOCHS = 150
BATCH = 64
# Picked by hand among 1e-2 (overfits: train accuracy 1.00), 5e-2, 1e-1 and 3e-1 (these push nu
# towards 1, widening the hidden-state range that fixed point must cover).
WEIGHT_DECAY = 5e-2
HIDDEN = 16
STEPS = 8  # image rows = time steps
INPUT = 8  # pixels per row


class FastGrnn(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.W = nn.Parameter(torch.randn(HIDDEN, INPUT) * 0.3)
        self.U = nn.Parameter(torch.randn(HIDDEN, HIDDEN) * 0.1)
        self.bz = nn.Parameter(torch.ones(HIDDEN, 1))
        self.bh = nn.Parameter(torch.zeros(HIDDEN, 1))
        # The paper's initial zeta = sigmoid(1) ~ 0.73 and nu = sigmoid(-4) ~ 0.02.
        self.zeta_raw = nn.Parameter(torch.tensor(1.0))
        self.nu_raw = nn.Parameter(torch.tensor(-4.0))
        self.fc = nn.Linear(HIDDEN, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.view(-1, STEPS, INPUT)
        zeta, nu = torch.sigmoid(self.zeta_raw), torch.sigmoid(self.nu_raw)
        h = x.new_zeros(len(rows), HIDDEN)
        for t in range(STEPS):  # batch-major: rows of h are samples, hence the transposes
            pre = rows[:, t] @ self.W.T + h @ self.U.T
            z = torch.sigmoid(pre + self.bz.T)
            c = torch.tanh(pre + self.bh.T)
            h = (zeta * (1.0 - z) + nu) * c + z * h
        return self.fc(h)


def train(split: Split, weight_decay: float = WEIGHT_DECAY, epochs: int = EPOCHS) -> FastGrnn:
    gen = make_deterministic(SEED)
    X = torch.from_numpy(split.X_train)
    y = torch.from_numpy(split.y_train)

    model = FastGrnn()
    # No weight decay on zeta/nu: it would pull them towards 0.5 for no benefit to the ranges.
    decayed = [p for n, p in model.named_parameters() if not n.endswith("_raw")]
    opt = torch.optim.AdamW(
        [
            {"params": decayed, "weight_decay": weight_decay},
            {"params": [model.zeta_raw, model.nu_raw], "weight_decay": 0.0},
        ],
        lr=1e-2,
    )
    fit(model, opt, X, y, epochs=epochs, batch_size=BATCH, generator=gen)
    return model


def main() -> None:
    split = digits_split()
    model = train(split)
    with torch.no_grad():
        torch_pred = model(torch.from_numpy(split.X_test)).argmax(1).numpy()
    weights = {
        "W": to_numpy(model.W),
        "U": to_numpy(model.U),
        "bz": to_numpy(model.bz),
        "bh": to_numpy(model.bh),
        "zeta": to_numpy(torch.sigmoid(model.zeta_raw)).reshape(1, 1),
        "nu": to_numpy(torch.sigmoid(model.nu_raw)).reshape(1, 1),
        "FC": to_numpy(model.fc.weight),
        "FCb": to_numpy(model.fc.bias).reshape(10, 1),
    }
    export(
        "fastgrnn",
        weights,
        split,
        description=(
            "FastGRNN with 16 hidden units reading the 8x8 digit as 8 time steps of 8 pixels, then a "
            "dense 16->10 classifier; zeta and nu trained as sigmoids. Trained with AdamW (BPTT)."
        ),
        trainer_test_pred=torch_pred,
    )


if __name__ == "__main__":
    main()
