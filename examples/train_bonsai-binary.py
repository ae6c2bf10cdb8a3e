"""Train the zoo's binary Bonsai (hlsfix/zoo/bonsai-binary/model.sd) on the breast-cancer data.

The same depth-2 tree as train_bonsai.py (whose training code this reuses) over a sparse 6 x 30
projection, with one output per node: the class is sgn(s0 + s1 + s2), i.e. 1 (benign) when the
score is > 0. Trained with the logistic loss on that score.

The model is fitted on 80 % of the training split only; the other 20 %, the validation rows, chose
its configuration (weight decay and seed) by how well hlsfix's 8-bit and mixed programs agree with
float there (``select_bonsai-binary.py``, which reads no test row).
data.npz ships the whole training split (fitting and validation rows): the compiler makes its own
choices on it, so on rows the float model was not fitted to as well.

Run from the repository root: ``python examples/train_bonsai-binary.py``.
"""

from __future__ import annotations

from train_bonsai import Config, hard_predict, shipped_weights, train
from zoo_data import breast_cancer_split, hold_out_validation
from zoo_export import export

# Chosen by select_bonsai-binary.py among weight decays 0.1 / 0.3 / 1.0 and seeds 0-11: the best
# float accuracy on the validation rows, and no sign flip of the 8-bit or mixed program on 30
# jittered copies of each.
CONFIG = Config(proj=6, n_out=1, weight_decay=0.3, seed=1)


def main() -> None:
    split = breast_cancer_split()
    fit, X_val, y_val = hold_out_validation(split)
    model = train(fit, CONFIG)
    nnz = int(model.Z.count_nonzero())
    export(
        "bonsai-binary",
        shipped_weights(model),
        split,
        description=(
            f"Binary Bonsai on breast cancer: depth-2 tree (7 nodes, one output each) over a "
            f"{nnz}/{model.Z.numel()}-sparse 6x30 projection; class = sign of the summed path score. "
            "Trained with a soft path annealed to the hard one (AdamW, logistic loss, iterative hard "
            f"thresholding of Z) on {len(fit.y_train)} of the {len(split.y_train)} training rows; the "
            f"other {len(y_val)} (validation) chose the configuration by the 8-bit programs' agreement "
            "with float."
        ),
        trainer_test_pred=hard_predict(model, split.X_test),
        validation=(X_val, y_val),
    )


if __name__ == "__main__":
    main()
