"""Train the two scikit-learn zoo models on the bundled digits split and export them with
skl2onnx: an MLPClassifier (64-32-10, ReLU) and a multinomial LogisticRegression.

Run from the repository root: ``python examples/train_onnx_sklearn.py``
(needs scikit-learn, skl2onnx and onnxruntime; hlsfix itself needs none of them to use the files).
"""

from __future__ import annotations

import warnings

import numpy as np
from skl2onnx import to_onnx
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from zoo_onnx import digits, write

OPSET = 13


def export(clf, name: str, description: str) -> None:
    x = digits()["X_train"]
    onx = to_onnx(clf, x[:1].astype(np.float32), options={id(clf): {"zipmap": False}}, target_opset=OPSET)
    write(name, onx.SerializeToString(), "probabilities", {
        "description": description,
        "framework": "scikit-learn → skl2onnx",
        "training_script": "examples/train_onnx_sklearn.py",
    })  # fmt: skip


def main() -> None:
    data = digits()
    x, y = data["X_train"], data["y_train"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn's convergence chatter; the accuracy is printed
        mlp = MLPClassifier((32,), activation="relu", alpha=1e-3, max_iter=300, random_state=0).fit(x, y)
        logreg = LogisticRegression(C=1.0, max_iter=2000).fit(x, y)
    export(mlp, "sklearn-mlp", "scikit-learn MLPClassifier 64-32-10 (ReLU, Adam, L2 1e-3) on 8x8 digits.")
    export(logreg, "sklearn-logreg", "scikit-learn LogisticRegression (multinomial, L2, C=1) on 8x8 digits.")


if __name__ == "__main__":
    main()
