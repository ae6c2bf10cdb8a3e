"""Make the float .tflite models the TFLite float import is tested on, one per operator form (a
development tool: needs TensorFlow; CI reads the files).

    python examples/make_float_tflite_ops.py [OUT_DIR]      # default: tests/import/data/tflite

Each model is a ``tf.function`` on a fixed-shape input with random (seeded) constants, converted by
the TFLite converter as it is (it fuses biases and activations into CONV_2D/FULLY_CONNECTED as it
would for a user's model). The tests run the imported graph's float reference against the TFLite
interpreter on random inputs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

R = np.random.default_rng(13)


def c(*shape: int) -> tf.Tensor:
    return tf.constant(R.normal(size=shape).astype(np.float32) * 0.5)


def conv_same_relu(x):  # (1, 6, 6, 2)
    return tf.nn.relu(tf.nn.conv2d(x, c(3, 3, 2, 4), 1, "SAME") + c(4))


def conv_valid_strided(x):  # (1, 7, 6, 3)
    return tf.nn.conv2d(x, c(3, 2, 3, 5), (2, 2), "VALID") + c(5)


def conv_dilated_relu6(x):  # (1, 8, 8, 2)
    return tf.nn.relu6(tf.nn.conv2d(x, c(3, 3, 2, 3), 1, "SAME", dilations=2) + c(3))


def depthwise_multiplier(x):  # (1, 6, 5, 3)
    return tf.nn.relu(tf.nn.depthwise_conv2d(x, c(3, 3, 3, 2), (1, 1, 1, 1), "SAME") + c(6))


def depthwise_strided_valid(x):  # (1, 7, 7, 4)
    return tf.nn.depthwise_conv2d(x, c(3, 3, 4, 1), (1, 2, 2, 1), "VALID") + c(4)


def fc_flatten_tanh(x):  # (1, 4, 3, 2): the flattening order is NHWC's
    return tf.tanh(tf.matmul(tf.reshape(x, (1, 24)), c(24, 5)) + c(5))


def fc_softmax(x):  # (1, 10)
    h = tf.nn.relu(tf.matmul(x, c(10, 8)) + c(8))
    return tf.nn.softmax(tf.matmul(h, c(8, 4)) + c(4))


def add_mul_consts(x):  # (1, 5, 4, 3): a per-channel bias, a per-channel scale, a scalar
    y = tf.nn.conv2d(x, c(1, 1, 3, 3), 1, "SAME")
    return (y + c(3)) * c(3) - 0.25


def elementwise_consts(x):  # (1, 5, 4, 3): on the input, so that nothing folds into a convolution
    return tf.nn.relu6(tf.nn.relu(x + c(3)) * c(1, 4, 3) - 0.25) / 3.0


def add_mul_tensors(x):  # (1, 4, 4, 2): residual add and an elementwise product of two tensors
    a = tf.nn.conv2d(x, c(3, 3, 2, 2), 1, "SAME")
    b = tf.nn.conv2d(x, c(1, 1, 2, 2), 1, "SAME")
    return tf.nn.relu(a + x) * b


def avgpool_same(x):  # (1, 7, 7, 2): border windows average fewer elements
    return tf.nn.avg_pool2d(x, 3, 2, "SAME")


def maxpool_valid(x):  # (1, 6, 7, 3)
    return tf.nn.max_pool2d(x, (2, 3), (2, 2), "VALID")


def mean_hw(x):  # (1, 5, 4, 3): global average pooling
    return tf.reduce_mean(x, axis=(1, 2))


def mean_keepdims(x):  # (1, 5, 4, 3)
    return tf.reduce_mean(x, axis=(1, 2), keepdims=True) * 2.0


def mean_h(x):  # (1, 5, 4, 3): over one spatial axis
    return tf.reduce_mean(x, axis=1)


def pad_conv(x):  # (1, 4, 5, 2)
    return tf.nn.conv2d(tf.pad(x, ((0, 0), (1, 2), (2, 0), (0, 0))), c(3, 3, 2, 2), 1, "VALID")


def concat_channels(x):  # (1, 4, 4, 2)
    a = tf.nn.relu(tf.nn.conv2d(x, c(1, 1, 2, 3), 1, "SAME"))
    b = tf.nn.max_pool2d(x, 3, 1, "SAME")
    return tf.concat([a, b], axis=3)


def concat_rows(x):  # (1, 4, 4, 2): along H
    a = tf.nn.conv2d(x, c(3, 3, 2, 2), 1, "SAME")
    return tf.concat([a, x], axis=1)


def concat_const(x):  # (1, 3, 4, 2): a constant operand of a concatenation
    return tf.concat([x, c(1, 3, 4, 2)], axis=3)


def activations(x):  # (1, 12)
    h = tf.matmul(x, c(12, 12))
    return tf.sigmoid(h) + tf.tanh(h) + tf.nn.leaky_relu(h, 0.1) + tf.nn.relu6(h)


def reshape_to_4d(x):  # (1, 24) → (1, 2, 4, 3) → a convolution
    return tf.nn.conv2d(tf.reshape(x, (1, 2, 4, 3)), c(2, 2, 3, 2), 1, "SAME")


MODELS = {
    "conv_same_relu": (conv_same_relu, (1, 6, 6, 2)),
    "conv_valid_strided": (conv_valid_strided, (1, 7, 6, 3)),
    "conv_dilated_relu6": (conv_dilated_relu6, (1, 8, 8, 2)),
    "depthwise_multiplier": (depthwise_multiplier, (1, 6, 5, 3)),
    "depthwise_strided_valid": (depthwise_strided_valid, (1, 7, 7, 4)),
    "fc_flatten_tanh": (fc_flatten_tanh, (1, 4, 3, 2)),
    "fc_softmax": (fc_softmax, (1, 10)),
    "add_mul_consts": (add_mul_consts, (1, 5, 4, 3)),
    "elementwise_consts": (elementwise_consts, (1, 5, 4, 3)),
    "add_mul_tensors": (add_mul_tensors, (1, 4, 4, 2)),
    "avgpool_same": (avgpool_same, (1, 7, 7, 2)),
    "maxpool_valid": (maxpool_valid, (1, 6, 7, 3)),
    "mean_hw": (mean_hw, (1, 5, 4, 3)),
    "mean_keepdims": (mean_keepdims, (1, 5, 4, 3)),
    "mean_h": (mean_h, (1, 5, 4, 3)),
    "pad_conv": (pad_conv, (1, 4, 5, 2)),
    "concat_channels": (concat_channels, (1, 4, 4, 2)),
    "concat_rows": (concat_rows, (1, 4, 4, 2)),
    "concat_const": (concat_const, (1, 3, 4, 2)),
    "activations": (activations, (1, 12)),
    "reshape_to_4d": (reshape_to_4d, (1, 24)),
}


def unsupported_abs(x):  # (1, 6): ABS is not among the imported operators
    return tf.abs(tf.matmul(x, c(6, 4)))


def convert(fn, shape: tuple[int, ...], float16: bool = False) -> bytes:
    f = tf.function(fn, input_signature=[tf.TensorSpec(shape, tf.float32)])
    conv = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], f)
    if float16:  # float16 weights, DEQUANTIZEd to float32 in the graph
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.target_spec.supported_types = [tf.float16]
    return conv.convert()


def main() -> None:
    out = (
        Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent.parent / "tests/import/data/tflite"
    )
    out.mkdir(parents=True, exist_ok=True)
    for name, (fn, shape) in MODELS.items():
        data = convert(fn, shape)
        (out / f"{name}.tflite").write_bytes(data)
        print(f"{name}: {len(data)} bytes")
    (out / "fp16_weights.tflite").write_bytes(convert(conv_same_relu, (1, 6, 6, 2), float16=True))
    bad = out.parent / "tflite_unsupported"
    bad.mkdir(exist_ok=True)
    (bad / "abs.tflite").write_bytes(convert(unsupported_abs, (1, 6)))


if __name__ == "__main__":
    main()
