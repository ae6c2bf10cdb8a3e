"""Small torch helpers shared by the zoo training scripts: determinism, mini-batches, sparsity."""

from __future__ import annotations

import random
from collections.abc import Iterator

import numpy as np
import torch


def make_deterministic(seed: int) -> torch.Generator:
    """Fix every seed and use one thread: the same run then gives bit-identical weights (a different
    thread count can change the order of float additions in torch's kernels)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    return torch.Generator().manual_seed(seed)


def batches(n: int, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """Index tensors of one shuffled epoch."""
    perm = torch.randperm(n, generator=generator)
    yield from perm.split(batch_size)


@torch.no_grad()
def keep_largest(param: torch.Tensor, keep: int) -> torch.Tensor:
    """Hard thresholding: zero all but the ``keep`` entries of largest magnitude, in place, and
    return the 0/1 mask of the kept entries (ties are broken by position, deterministically)."""
    flat = param.abs().flatten()
    idx = torch.argsort(flat, descending=True, stable=True)[:keep]
    mask = torch.zeros_like(flat)
    mask[idx] = 1.0
    mask = mask.view_as(param)
    param.mul_(mask)
    return mask


def fit(
    model: torch.nn.Module,
    opt: torch.optim.Optimizer,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    batch_size: int,
    generator: torch.Generator,
) -> torch.nn.Module:
    """Train ``model`` on (X, y) by cross-entropy: ``epochs`` shuffled epochs of mini-batches, the
    learning rate following a cosine from ``opt``'s down to 0."""
    import torch.nn.functional as F

    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    for _ in range(epochs):
        for idx in batches(len(y), batch_size, generator):
            loss = F.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    return model


def to_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().astype(np.float32)
