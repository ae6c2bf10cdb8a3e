"""Train the zoo's binary Bonsai (hlsfix/zoo/bonsai-binary/model.sd) on the breast-cancer data.

The same depth-2 tree as train_bonsai.py (whose training code this reuses) over a sparse 6 x 30
projection, with one output per node: the class is sgn(s0 + s1 + s2), i.e. 1 (benign) when the
score is > 0. Trained with the logistic loss on that score.

Run from the repository root: ``python examples/train_bonsai-binary.py``.
"""

from __future__ import annotations

from train_bonsai import Config, hard_predict, shipped_weights, train
from zoo_data import breast_cancer_split
from zoo_export import export

# 426 training samples are few for 7 * 2 * 6 + 18 + 63 parameters: the tree fits the training
# split perfectly with light weight decay. Strong (decoupled) weight decay regularises it and keeps
# all weights within about +-1.
CONFIG = Config(proj=6, n_out=1, weight_decay=1.0)


def main() -> None:
    split = breast_cancer_split()
    model = train(split, CONFIG)
    nnz = int(model.Z.count_nonzero())
    export(
        "bonsai-binary",
        shipped_weights(model),
        split,
        description=(
            f"Binary Bonsai on breast cancer: depth-2 tree (7 nodes, one output each) over a "
            f"{nnz}/{model.Z.numel()}-sparse 6x30 projection; class = sign of the summed path score. "
            "Trained with a soft path annealed to the hard one (AdamW, logistic loss, iterative hard "
            "thresholding of Z)."
        ),
        trainer_test_pred=hard_predict(model, split.X_test),
    )


if __name__ == "__main__":
    main()
