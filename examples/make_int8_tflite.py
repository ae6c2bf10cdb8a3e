"""Make hlsfix's own int8 TFLite models (a development tool: needs TensorFlow, CI does not).

    python examples/make_int8_tflite.py [OUT_DIR]      # default: hlsfix/zoo/tflite

Writes, fully int8 (int8 input and output, per-channel conv weights), quantised on random
representative data (the models are untrained: they exist to exercise every kernel and the memory
planner, and hlsfix must reproduce TFLM on them bit for bit):

- ``ds_cnn_tiny``: a keyword-spotting DS-CNN in miniature (conv, depthwise+pointwise blocks,
  average pooling, fully connected, softmax) on a 49×10 spectrogram;
- ``resnet_tiny``: a ResNet-8-like network (residual ADDs, max pooling, average pooling) on 32×32×3;
- ``bottleneck``: one wide inverted bottleneck, pointwise 8→96 → depthwise 3×3 → pointwise 96→8 with
  a residual ADD, on 24×24×8 — the shape partial execution is for;
- ``ae_fc``: the MLPerf-Tiny anomaly-detection autoencoder's shape (fully connected 640→128→128→8→
  128→128→640, ReLU), smaller hidden widths kept as in the benchmark;
- ``gated_mlp``: fully connected layers with an element-wise MUL gate;
- ``branchy``: an inception-like block (two branches and a pooling one, CONCATENATION);
- ``pad_mean``: explicit zero padding (PAD) and a global average pooling (MEAN);
- ``sigmoid_tanh``: fully connected layers with LOGISTIC and TANH activations;
- ``float_io``: a small CNN with float input and output (QUANTIZE first, DEQUANTIZE last);
- ``edge_ops``: the kernels' corner cases (depth multiplier, dilation, VALID strides, partial
  pooling windows, fully connected and softmax over several rows).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

L = tf.keras.layers


def classifier(units: int) -> L.Dense:
    """The last layer, with weights large enough that the softmax sees logits a few units apart
    (an untrained default initialisation leaves them within 1/256 of each other)."""
    return L.Dense(units, kernel_initializer=tf.keras.initializers.RandomNormal(stddev=3.0))


def ds_cnn_tiny() -> tf.keras.Model:
    x = inp = L.Input((49, 10, 1), batch_size=1)
    x = L.Conv2D(32, (10, 4), strides=(2, 2), padding="same", activation="relu")(x)
    for _ in range(2):
        x = L.DepthwiseConv2D(3, padding="same", activation="relu")(x)
        x = L.Conv2D(32, 1, activation="relu")(x)
    x = L.AveragePooling2D(pool_size=(25, 5))(x)
    x = L.Flatten()(x)
    x = classifier(12)(x)
    return tf.keras.Model(inp, L.Softmax()(x))


def resnet_tiny() -> tf.keras.Model:
    x = inp = L.Input((32, 32, 3), batch_size=1)
    x = L.Conv2D(16, 3, padding="same", activation="relu")(x)
    y = L.Conv2D(16, 3, padding="same", activation="relu")(x)
    y = L.Conv2D(16, 3, padding="same")(y)
    x = L.ReLU()(L.Add()([x, y]))
    x = L.MaxPooling2D(2)(x)
    y = L.Conv2D(32, 3, strides=2, padding="same", activation="relu")(x)
    y = L.Conv2D(32, 3, padding="same")(y)
    s = L.Conv2D(32, 1, strides=2)(x)
    x = L.ReLU()(L.Add()([s, y]))
    x = L.AveragePooling2D(pool_size=8)(x)
    x = L.Flatten()(x)
    x = classifier(10)(x)
    return tf.keras.Model(inp, L.Softmax()(x))


def bottleneck() -> tf.keras.Model:
    x = inp = L.Input((24, 24, 8), batch_size=1)
    y = L.Conv2D(96, 1, activation="relu6")(x)
    y = L.DepthwiseConv2D(3, padding="same", activation="relu6")(y)
    y = L.Conv2D(8, 1)(y)
    x = L.Add()([x, y])
    x = L.AveragePooling2D(pool_size=24)(x)
    x = L.Flatten()(x)
    x = classifier(4)(x)
    return tf.keras.Model(inp, L.Softmax()(x))


def ae_fc() -> tf.keras.Model:
    x = inp = L.Input((640,), batch_size=1)
    for units in (128, 128, 8, 128, 128):
        x = L.Dense(units, activation="relu")(x)
    return tf.keras.Model(inp, L.Dense(640)(x))


def gated_mlp() -> tf.keras.Model:
    x = inp = L.Input((16,), batch_size=1)
    x = L.Dense(32, activation="relu")(x)
    g = L.Dense(32, activation="relu")(x)
    h = L.Dense(32)(x)
    x = L.Multiply()([g, h])
    return tf.keras.Model(inp, L.Softmax()(classifier(4)(x)))


def branchy() -> tf.keras.Model:
    """An inception-like block: two branches that widen to 64 channels (one ending with 16
    channels, one with 2) and a pooling branch, joined by a CONCATENATION: a branching graph for
    the arena planner and the order search."""
    x = inp = L.Input((16, 16, 8), batch_size=1)
    a = L.Conv2D(64, 1, activation="relu")(x)
    a = L.Conv2D(16, 3, padding="same", activation="relu")(a)
    b = L.Conv2D(64, 1, activation="relu")(x)
    b = L.Conv2D(2, 3, padding="same", activation="relu")(b)
    c = L.MaxPooling2D(3, strides=1, padding="same")(x)
    x = L.Concatenate()([a, b, c])
    x = L.AveragePooling2D(pool_size=16)(x)
    x = L.Flatten()(x)
    return tf.keras.Model(inp, L.Softmax()(classifier(4)(x)))


def pad_mean() -> tf.keras.Model:
    """Explicit zero padding (PAD), a VALID convolution and a global average (MEAN)."""
    x = inp = L.Input((20, 20, 4), batch_size=1)
    x = L.ZeroPadding2D(((1, 2), (2, 1)))(x)
    x = L.Conv2D(16, 3, activation="relu")(x)
    x = L.GlobalAveragePooling2D()(x)
    return tf.keras.Model(inp, L.Softmax()(classifier(6)(x)))


def sigmoid_tanh() -> tf.keras.Model:
    """Fully connected layers with sigmoid (LOGISTIC) and tanh (TANH) activations."""
    x = inp = L.Input((24,), batch_size=1)
    x = L.Dense(32, activation="sigmoid")(x)
    x = L.Dense(32, activation="tanh", kernel_initializer=tf.keras.initializers.RandomNormal(stddev=0.6))(x)
    return tf.keras.Model(inp, L.Softmax()(classifier(5)(x)))


def float_io() -> tf.keras.Model:
    """A small CNN converted with float input and output: QUANTIZE first, DEQUANTIZE last."""
    x = inp = L.Input((12, 12, 2), batch_size=1)
    x = L.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)
    x = L.DepthwiseConv2D(3, padding="same", activation="relu6")(x)
    x = L.Flatten()(x)
    return tf.keras.Model(inp, classifier(6)(x))


def edge_ops() -> tf.keras.Model:
    """The corners of the kernels: depth multiplier 2 with dilation, strided VALID convolution,
    dilated SAME convolution, SAME pooling with partial windows on an odd size, and fully connected
    layers and a softmax over several rows."""
    x = inp = L.Input((15, 13, 3), batch_size=1)
    x = L.DepthwiseConv2D(3, depth_multiplier=2, dilation_rate=2, padding="same", activation="relu")(x)
    x = L.Conv2D(10, 3, strides=2, padding="valid", activation="relu6")(x)
    x = L.Conv2D(8, 3, dilation_rate=2, padding="same")(x)
    x = L.AveragePooling2D(pool_size=3, strides=2, padding="same")(x)
    x = L.MaxPooling2D(pool_size=2, strides=1, padding="same")(x)
    x = L.Reshape((12, 8))(x)
    x = L.Dense(6, activation="relu")(x)
    return tf.keras.Model(inp, L.Softmax()(classifier(5)(x)))


FLOAT_IO = {"float_io"}
MODELS = {
    "ds_cnn_tiny": ds_cnn_tiny,
    "resnet_tiny": resnet_tiny,
    "bottleneck": bottleneck,
    "ae_fc": ae_fc,
    "gated_mlp": gated_mlp,
    "branchy": branchy,
    "pad_mean": pad_mean,
    "sigmoid_tanh": sigmoid_tanh,
    "float_io": float_io,
    "edge_ops": edge_ops,
}


def convert(model: tf.keras.Model, seed: int, int8_io: bool = True) -> bytes:
    shape = (1, *model.input_shape[1:])
    rng = np.random.default_rng(seed)

    def representative():
        for _ in range(64):
            yield [rng.normal(0.0, 1.0, shape).astype(np.float32)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if int8_io:
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    return conv.convert()


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1] / "hlsfix" / "zoo" / "tflite"
    out.mkdir(parents=True, exist_ok=True)
    for i, (name, make) in enumerate(MODELS.items()):
        tf.keras.utils.set_random_seed(100 + i)
        data = convert(make(), seed=i, int8_io=name not in FLOAT_IO)
        (out / f"{name}.tflite").write_bytes(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
