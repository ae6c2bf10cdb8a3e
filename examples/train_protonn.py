"""Train the zoo's ProtoNN (hlsfix/zoo/protonn/model.sd) on 8x8 digits.

    score = sum_j Z[j] * exp(mg * ||W X - B[j]||^2),   class = argmax(score)

with a sparse projection W (16 x 64), 20 prototypes B[j] in the projected space, their label
vectors Z[j] and mg = -gamma^2. Following ProtoNN (Gupta et al., ICML 2017): W starts from the top
16 principal directions, B from 2 k-means centres per class, Z from the one-hot labels of those
centres; the loss is the squared error of the score against the one-hot label. W is made sparse by
iterative hard thresholding (IHT): dense warm-up, then keep the largest 35% after every step, then
fine-tune on the fixed support.

Run from the repository root: ``python examples/train_protonn.py``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans
from zoo_data import digits_split
from zoo_export import export
from zoo_torch import batches, keep_largest, make_deterministic, to_numpy

SEED = 0
EPOCHS = 300  # a third dense, a third IHT, a third on the fixed support
BATCH = 64
PROJ = 16
PROTOS_PER_CLASS = 2
KEEP_FRACTION = 0.35  # of W's 1024 entries
L2 = 1e-4
# exp(mg * d^2) is evaluated in fixed point later: a mild penalty keeps its argument mostly within
# [-10, 0] (beyond that, exp() is below 5e-5 and carries no information anyway).
EXP_ARG_FLOOR = -10.0
EXP_ARG_PENALTY = 1e-2


def init_params(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """PCA projection, per-class k-means prototypes, one-hot label vectors and a gamma that puts
    the median squared distance to the nearest prototype at exp(-1)."""
    _, _, Vt = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)
    W = Vt[:PROJ]
    P = X @ W.T
    B, labels = [], []
    for c in range(10):
        km = KMeans(PROTOS_PER_CLASS, n_init=10, random_state=SEED).fit(P[y == c])
        B.append(km.cluster_centers_)
        labels += [c] * PROTOS_PER_CLASS
    B = np.concatenate(B)
    Z = np.eye(10)[labels]
    d2 = ((P[:, None, :] - B[None]) ** 2).sum(-1)
    gamma = 1.0 / np.sqrt(np.median(d2.min(axis=1)))
    return W.astype(np.float32), B.astype(np.float32), Z.astype(np.float32), float(gamma)


class ProtoNN(torch.nn.Module):
    def __init__(self, W: np.ndarray, B: np.ndarray, Z: np.ndarray, gamma: float) -> None:
        super().__init__()
        self.W = torch.nn.Parameter(torch.from_numpy(W))
        self.B = torch.nn.Parameter(torch.from_numpy(B))
        self.Z = torch.nn.Parameter(torch.from_numpy(Z))
        self.log_gamma = torch.nn.Parameter(torch.tensor(float(np.log(gamma))))

    def mg(self) -> torch.Tensor:
        return -torch.exp(2 * self.log_gamma)  # -gamma^2, always negative

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Scores (N, 10) and the exp arguments (N, 20)."""
        wx = x @ self.W.T
        d2 = ((wx[:, None, :] - self.B[None]) ** 2).sum(-1)
        arg = self.mg() * d2
        return torch.exp(arg) @ self.Z, arg


def main() -> None:
    gen = make_deterministic(SEED)
    split = digits_split()
    X = torch.from_numpy(split.X_train)
    y = torch.from_numpy(split.y_train)
    target = F.one_hot(y, 10).float()

    model = ProtoNN(*init_params(split.X_train, split.y_train))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    keep = round(KEEP_FRACTION * model.W.numel())
    mask = None
    for epoch in range(EPOCHS):
        for idx in batches(len(y), BATCH, gen):
            score, arg = model(X[idx])
            loss = ((score - target[idx]) ** 2).sum(1).mean()
            # L2 on W, B, Z only: gamma sets the kernel width relative to them.
            loss = loss + L2 * sum(p.pow(2).sum() for p in (model.W, model.B, model.Z))
            loss = loss + EXP_ARG_PENALTY * torch.relu(EXP_ARG_FLOOR - arg).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if epoch >= 2 * EPOCHS // 3:  # fine-tune: the support of W is fixed
                if mask is None:
                    mask = keep_largest(model.W, keep)
                with torch.no_grad():
                    model.W.mul_(mask)
            elif epoch >= EPOCHS // 3:  # IHT: the support may still move
                keep_largest(model.W, keep)

    with torch.no_grad():
        score, arg = model(X)
        inside = (arg >= EXP_ARG_FLOOR).float().mean().item()
        torch_pred = model(torch.from_numpy(split.X_test))[0].argmax(1).numpy()
    print(f"protonn: {inside:.1%} of the training exp() arguments lie in [{EXP_ARG_FLOOR:g}, 0]")
    weights = {
        "W": to_numpy(model.W),
        "B": to_numpy(model.B).reshape(20, PROJ, 1),
        "Z": to_numpy(model.Z).reshape(20, 10, 1),
        "mg": to_numpy(model.mg()).reshape(1, 1),
    }
    export(
        "protonn",
        weights,
        split,
        description=(
            "ProtoNN on 8x8 digits: 35%-sparse 16x64 projection, 20 prototypes (2 per class, "
            "k-means initialised) with learned label vectors and RBF kernel exp(-gamma^2 d^2); "
            "squared loss, trained with Adam and iterative hard thresholding."
        ),
        trainer_test_pred=torch_pred,
    )


if __name__ == "__main__":
    main()
