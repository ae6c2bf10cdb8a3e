"""Train the zoo's Bonsai tree (hlsfix/zoo/bonsai/model.sd) on 8x8 digits.

Bonsai (Kumar et al., ICML 2017) projects the input with a sparse Z, then walks a depth-2 tree of
7 nodes in heap order (children of k are 2k+1, 2k+2); every node k on the path adds

    (W[k] * ZX) <*> tanh(sigma * (V[k] * ZX))

and an internal node k goes left (2k+1) when T[k] * ZX >= 0. That hard path has no gradient, so
training uses a soft path: the left child is taken with probability sigmoid(beta * T[k] * ZX) and
the score sums every node weighted by the probability of reaching it. beta is annealed from 1 to
a sharpness at which the soft path is the hard one for almost every input, and the shipped model is
evaluated with the hard path exactly as model.sd writes it. Z is made sparse by iterative hard
thresholding (dense warm-up, keep the largest entries after every step, then a fixed support).

train_bonsai-binary.py trains the binary variant with the same code.

Run from the repository root: ``python examples/train_bonsai.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from zoo_data import Split, digits_split
from zoo_export import export
from zoo_torch import batches, keep_largest, make_deterministic, to_numpy

NODES = 7
INTERNAL = 3


@dataclass(frozen=True)
class Config:
    proj: int  # rows of Z
    n_out: int  # 10 classes, or 1 score for the binary variant
    keep_fraction: float = 0.35  # of Z's entries
    epochs: int = 300  # a third dense, a third IHT, a third on the fixed support
    batch: int = 64
    lr: float = 1e-2
    weight_decay: float = 1e-3
    beta_start: float = 1.0
    beta_end: float = 100.0
    seed: int = 0


class Bonsai(torch.nn.Module):
    def __init__(self, cfg: Config, Z0: np.ndarray) -> None:
        super().__init__()
        d = cfg.proj
        self.Z = torch.nn.Parameter(torch.from_numpy(Z0.astype(np.float32)))
        self.W = torch.nn.Parameter(torch.randn(NODES, cfg.n_out, d) * 0.1)
        self.V = torch.nn.Parameter(torch.randn(NODES, cfg.n_out, d) * 0.1)
        self.T = torch.nn.Parameter(torch.randn(INTERNAL, 1, d) * 0.1)
        self.sigma = torch.nn.Parameter(torch.ones(1, 1))

    def node_scores(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per node contributions (N, 7, n_out) and branching values T[k] * ZX (N, 3)."""
        zx = x @ self.Z.T  # (N, d)
        wzx = torch.einsum("kod,nd->nko", self.W, zx)
        vzx = torch.einsum("kod,nd->nko", self.V, zx)
        contrib = wzx * torch.tanh(self.sigma.reshape(()) * vzx)
        branch = torch.einsum("kd,nd->nk", self.T[:, 0, :], zx)
        return contrib, branch

    def forward(self, x: torch.Tensor, beta: float | None) -> torch.Tensor:
        """Soft-path score with sharpness ``beta``; ``beta=None`` takes the hard path."""
        contrib, branch = self.node_scores(x)
        # Probability of going left at each internal node (hard: T[k] * ZX >= 0 goes left).
        left = (branch >= 0).float() if beta is None else torch.sigmoid(beta * branch)
        reach = [torch.ones_like(left[:, 0])] + [None] * (NODES - 1)
        for k in range(INTERNAL):
            reach[2 * k + 1] = reach[k] * left[:, k]
            reach[2 * k + 2] = reach[k] * (1.0 - left[:, k])
        reach = torch.stack(reach, dim=1)  # (N, 7)
        return (reach[:, :, None] * contrib).sum(1)  # (N, n_out)


def pca_rows(X: np.ndarray, k: int) -> np.ndarray:
    """The top-k principal directions (rows), a better start for Z than noise."""
    _, _, Vt = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)
    return Vt[:k]


def train(split: Split, cfg: Config) -> Bonsai:
    gen = make_deterministic(cfg.seed)
    X = torch.from_numpy(split.X_train)
    y = torch.from_numpy(split.y_train)
    model = Bonsai(cfg, pca_rows(split.X_train, cfg.proj))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    keep = round(cfg.keep_fraction * model.Z.numel())
    mask = None
    for epoch in range(cfg.epochs):
        # Geometric annealing of the path sharpness over the whole run.
        beta = cfg.beta_start * (cfg.beta_end / cfg.beta_start) ** (epoch / max(1, cfg.epochs - 1))
        for idx in batches(len(y), cfg.batch, gen):
            score = model(X[idx], beta)
            if cfg.n_out == 1:
                loss = F.binary_cross_entropy_with_logits(score[:, 0], y[idx].float())
            else:
                loss = F.cross_entropy(score, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if epoch >= 2 * cfg.epochs // 3:
                if mask is None:
                    mask = keep_largest(model.Z, keep)
                with torch.no_grad():
                    model.Z.mul_(mask)
            elif epoch >= cfg.epochs // 3:
                keep_largest(model.Z, keep)
    return model


def hard_predict(model: Bonsai, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        score = model(torch.from_numpy(X), beta=None)
    return (score[:, 0] > 0).long().numpy() if score.shape[1] == 1 else score.argmax(1).numpy()


def shipped_weights(model: Bonsai) -> dict[str, np.ndarray]:
    return {
        "Z": to_numpy(model.Z),
        "W": to_numpy(model.W),
        "V": to_numpy(model.V),
        "T": to_numpy(model.T),
        "sigma": to_numpy(model.sigma),
    }


CONFIG = Config(proj=10, n_out=10)


def main() -> None:
    split = digits_split()
    model = train(split, CONFIG)
    nnz = int(torch.count_nonzero(model.Z))
    export(
        "bonsai",
        shipped_weights(model),
        split,
        description=(
            f"Bonsai on 8x8 digits: depth-2 tree (7 nodes) over a {nnz}/{model.Z.numel()}-sparse "
            "10x64 projection; trained with a soft path annealed to the hard one (AdamW, "
            "cross-entropy, iterative hard thresholding of Z)."
        ),
        trainer_test_pred=hard_predict(model, split.X_test),
    )


if __name__ == "__main__":
    main()
