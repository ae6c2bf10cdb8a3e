"""Data sets of the bundled model zoo: one fixed train/test split per data set.

Every ``train_<name>.py`` script loads its data through this module, so all the digits models
share exactly the same split (and so do any later comparisons between them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split

TEST_SIZE = 0.25
SPLIT_SEED = 0
# breast-cancer features are clipped to this many standard deviations: a few outliers reach 10.6,
# and an 8-bit input wide enough for them would resolve the bulk, within +-3, only to 1/8
CLIP_SD = 3.9
# the share of a training split held out from fitting, for choices judged on unseen data
VALIDATION_SIZE = 0.2


@dataclass(frozen=True)
class Split:
    """A train/test split; X is float32 of shape (N, features) (row-major flattened), y is int64."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    dataset: str
    input_preprocessing: str

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max())) + 1


def _split(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return train_test_split(X, y, test_size=TEST_SIZE, stratify=y, random_state=SPLIT_SEED)


def digits_split() -> Split:
    """sklearn's 8x8 digits, pixels scaled from 0..16 to [0, 1]; 1347 train / 450 test images."""
    data = load_digits()
    X = (data.data / 16.0).astype(np.float32)
    y = data.target.astype(np.int64)
    X_train, X_test, y_train, y_test = _split(X, y)
    return Split(
        X_train=np.ascontiguousarray(X_train),
        y_train=y_train,
        X_test=np.ascontiguousarray(X_test),
        y_test=y_test,
        dataset="sklearn load_digits (8x8 handwritten digits, 64 features, 10 classes)",
        input_preprocessing=(
            "Pixel intensities 0..16 divided by 16.0 into [0, 1]; each 8x8 image is flattened "
            "row-major (flat index = 8 * row + column)."
        ),
    )


def breast_cancer_split() -> Split:
    """sklearn's breast-cancer data, standardised with the mean/std of the training split and
    clipped to +-CLIP_SD (0.4 % of the training values)."""
    data = load_breast_cancer()
    X = data.data.astype(np.float64)
    y = data.target.astype(np.int64)  # 0 = malignant, 1 = benign
    X_train, X_test, y_train, y_test = _split(X, y)
    # Statistics of the training split only, so no test information leaks into the inputs.
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    X_train = np.clip((X_train - mean) / std, -CLIP_SD, CLIP_SD).astype(np.float32)
    X_test = np.clip((X_test - mean) / std, -CLIP_SD, CLIP_SD).astype(np.float32)
    return Split(
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        dataset="sklearn load_breast_cancer (Wisconsin diagnostic, 30 features, 0 = malignant, 1 = benign)",
        input_preprocessing=(
            "Each of the 30 features is standardised as (x - mean) / std with the mean and "
            f"(population) std of the training split, then clipped to [-{CLIP_SD}, {CLIP_SD}]; the "
            "stored arrays are already standardised and clipped."
        ),
    )


def hold_out_validation(split: Split) -> tuple[Split, np.ndarray, np.ndarray]:
    """``split`` with its training part cut into a fitting part and a validation part (stratified,
    fixed seed): the returned Split trains on the fitting rows only (its test rows are unchanged);
    the validation rows (X, y) are for choices the float model must not have been fitted to."""
    X_fit, X_val, y_fit, y_val = train_test_split(
        split.X_train,
        split.y_train,
        test_size=VALIDATION_SIZE,
        stratify=split.y_train,
        random_state=SPLIT_SEED,
    )
    fit = Split(
        X_train=np.ascontiguousarray(X_fit),
        y_train=y_fit,
        X_test=split.X_test,
        y_test=split.y_test,
        dataset=split.dataset,
        input_preprocessing=split.input_preprocessing,
    )
    return fit, np.ascontiguousarray(X_val), y_val
