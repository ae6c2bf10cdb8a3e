"""Train the zoo's LeNet-style CNN (hlsfix/zoo/cnn/model.sd) on 8x8 digits.

conv3x3(1->8)-relu-maxpool2, conv3x3(8->16)-relu-maxpool2, dense 64->32-relu, dense 32->10.
torch computes in NCHW with filters (COUT, CIN, HF, WF); model.sd is NHWC with filters
[groups, HF, WF, CIN, COUT] and flattens (1, 2, 2, 16) row-major, so the export permutes both.

Run from the repository root: ``python examples/train_cnn.py``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from zoo_data import digits_split
from zoo_export import export
from zoo_torch import fit, make_deterministic, to_numpy

SEED = 0
EPOCHS = 60
BATCH = 64


class Cnn(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = x.view(-1, 1, 8, 8)
        a = F.max_pool2d(F.relu(self.conv1(a)), 2)
        a = F.max_pool2d(F.relu(self.conv2(a)), 2)  # (N, 16, 2, 2)
        # Flatten in model.sd's NHWC order: flat index = h * 2 * 16 + w * 16 + c.
        flat = a.permute(0, 2, 3, 1).reshape(-1, 64)
        return self.fc2(F.relu(self.fc1(flat)))


def sd_filter(conv: nn.Conv2d) -> torch.Tensor:
    """torch (COUT, CIN, HF, WF) -> SeeDot [groups=1, HF, WF, CIN, COUT]."""
    return conv.weight.permute(2, 3, 1, 0).unsqueeze(0)


def main() -> None:
    gen = make_deterministic(SEED)
    split = digits_split()
    X = torch.from_numpy(split.X_train)
    y = torch.from_numpy(split.y_train)

    model = Cnn()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
    fit(model, opt, X, y, epochs=EPOCHS, batch_size=BATCH, generator=gen)

    with torch.no_grad():
        torch_pred = model(torch.from_numpy(split.X_test)).argmax(1).numpy()
    weights = {
        "F1": to_numpy(sd_filter(model.conv1)),
        "c1b": to_numpy(model.conv1.bias),
        "F2": to_numpy(sd_filter(model.conv2)),
        "c2b": to_numpy(model.conv2.bias),
        "D1": to_numpy(model.fc1.weight),
        "d1b": to_numpy(model.fc1.bias).reshape(32, 1),
        "D2": to_numpy(model.fc2.weight),
        "d2b": to_numpy(model.fc2.bias).reshape(10, 1),
    }
    export(
        "cnn",
        weights,
        split,
        description=(
            "LeNet-style CNN on 8x8 digits (NHWC): conv3x3 1->8, ReLU, maxpool 2x2; conv3x3 8->16, "
            "ReLU, maxpool 2x2; dense 64->32 ReLU; dense 32->10. Trained with AdamW."
        ),
        trainer_test_pred=torch_pred,
    )


if __name__ == "__main__":
    main()
