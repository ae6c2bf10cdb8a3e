"""Train the ``keras-cnn`` zoo model in Keras and convert it with the TFLite converter, float and
int8 (a development tool: needs TensorFlow; hlsfix and CI read the files).

    python examples/train_keras_tflite.py [ZOO_DIR]      # default: hlsfix/zoo

Writes ``keras-cnn/model.tflite`` (float32), ``keras-cnn/data.npz`` (the digits split of the zoo's
``cnn`` model, as a Keras user's NHWC rows), ``keras-cnn/meta.json`` and
``tflite/keras_cnn_int8.tflite`` (full int8: int8 input and output, per-channel weights, quantised
on the training rows). The network is a small DS-CNN-like classifier on 8×8 digits: a convolution,
max pooling, a depthwise-separable block with a residual add, average pooling, a dense layer and
softmax — CONV_2D, MAX_POOL_2D, DEPTHWISE_CONV_2D, ADD (fused ReLU), AVERAGE_POOL_2D, RESHAPE,
FULLY_CONNECTED, SOFTMAX in the file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

L = tf.keras.layers
SEED = 3


def model(batch: int | None) -> tf.keras.Model:
    x = inp = L.Input((8, 8, 1), batch_size=batch)
    x = L.Conv2D(8, 3, padding="same", activation="relu")(x)
    x = L.MaxPooling2D(2)(x)  # 4×4×8
    y = L.DepthwiseConv2D(3, padding="same", activation="relu")(x)
    y = L.Conv2D(8, 1)(y)
    x = L.ReLU()(L.Add()([x, y]))
    x = L.Conv2D(16, 1, activation="relu")(x)
    x = L.AveragePooling2D(2)(x)  # 2×2×16
    x = L.Flatten()(x)
    return tf.keras.Model(inp, L.Softmax()(L.Dense(10)(x)))


def train(x: np.ndarray, y: np.ndarray) -> tf.keras.Model:
    # Trained with a batch dimension of any size, then rebuilt with batch 1 for the converter
    tf.keras.utils.set_random_seed(SEED)
    m, trainable = model(1), model(None)
    trainable.compile(
        optimizer=tf.keras.optimizers.Adam(3e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    trainable.fit(x, y, epochs=60, batch_size=32, verbose=0)
    m.set_weights(trainable.get_weights())
    return m


def convert(m: tf.keras.Model, x_cal: np.ndarray, int8: bool) -> bytes:
    conv = tf.lite.TFLiteConverter.from_keras_model(m)
    if int8:

        def representative():
            for row in x_cal[:300]:
                yield [row.reshape(1, 8, 8, 1).astype(np.float32)]

        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = representative
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    return conv.convert()


def accuracy(data: bytes, x: np.ndarray, y: np.ndarray) -> float:
    it = tf.lite.Interpreter(model_content=data)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    right = 0
    for row, label in zip(x, y, strict=True):
        v = row.reshape(inp["shape"])
        if inp["dtype"] == np.int8:
            s, z = inp["quantization"]
            v = np.clip(np.round(v / s) + z, -128, 127).astype(np.int8)
        it.set_tensor(inp["index"], v.astype(inp["dtype"]))
        it.invoke()
        right += int(np.argmax(it.get_tensor(out["index"])) == label)
    return right / len(y)


def main() -> None:
    zoo = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent.parent / "hlsfix/zoo"
    with np.load(zoo / "cnn" / "data.npz") as d:
        data = {k: d[k] for k in d.files}
    x_train = data["X_train"].reshape(-1, 8, 8, 1).astype(np.float32)
    x_test = data["X_test"].reshape(-1, 8, 8, 1).astype(np.float32)
    m = train(x_train, data["y_train"])
    out = zoo / "keras-cnn"
    out.mkdir(exist_ok=True)
    float_model = convert(m, x_train, int8=False)
    int8_model = convert(m, x_train, int8=True)
    (out / "model.tflite").write_bytes(float_model)
    (zoo / "tflite" / "keras_cnn_int8.tflite").write_bytes(int8_model)
    np.savez_compressed(out / "data.npz", **data)
    meta = {
        "name": "keras-cnn",
        "dataset": "sklearn load_digits (8x8 handwritten digits, 64 features, 10 classes), the cnn zoo split",
        "description": "Keras CNN on 8x8 digits (NHWC): conv3x3 1->8 ReLU, maxpool 2; depthwise 3x3 ReLU, "
        "pointwise 8->8, residual add, ReLU; pointwise 8->16 ReLU; avgpool 2; dense 64->10; softmax.",
        "framework": f"Keras {tf.keras.__version__} (TensorFlow {tf.__version__}) -> TFLite converter, "
        "float32; int8 twin: hlsfix/zoo/tflite/keras_cnn_int8.tflite",
        "training_script": "examples/train_keras_tflite.py",
        "float_test_accuracy": round(accuracy(float_model, x_test, data["y_test"]), 4),
        "float_train_accuracy": round(accuracy(float_model, x_train, data["y_train"]), 4),
        "int8_test_accuracy": round(accuracy(int8_model, x_test, data["y_test"]), 4),
        "float_accuracy_by": f"the TFLite interpreter (TensorFlow {tf.__version__})",
        "n_train": len(x_train),
        "n_test": len(x_test),
        "input_preprocessing": "As the digits zoo models: pixels 0..16 divided by 16.0, row-major "
        "(= NHWC with one channel).",
        "licence": "Trained here by the training script on scikit-learn's bundled digits data; the model "
        "files are distributed under the project's licence (MIT).",
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps(meta, indent=2))


if __name__ == "__main__":
    main()
