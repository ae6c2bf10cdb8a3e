"""The int8 TFLite models bundled with hlsfix (``zoo/tflite/``; see its NOTICE.md for origins)."""

from __future__ import annotations

from pathlib import Path

from hlsfix.errors import ModelError

TFLITE_DIR = Path(__file__).parent / "tflite"
INT8_MODEL_NAMES = (
    "hello_world_int8",
    "micro_speech_quantized",
    "person_detect",
    "ds_cnn_tiny",
    "resnet_tiny",
    "bottleneck",
    "ae_fc",
    "gated_mlp",
    "branchy",
    "pad_mean",
    "sigmoid_tanh",
    "float_io",
    "edge_ops",
    "mlperf_kws_dscnn",
    "mlperf_vww_mobilenet",
    "mlperf_ic_resnet8",
    "mlperf_ad01",
    "keras_cnn_int8",
)


def int8_model_path(name: str) -> Path:
    """The bundled .tflite file called ``name``."""
    if name not in INT8_MODEL_NAMES:
        raise ModelError(f"int8 model must be one of {', '.join(INT8_MODEL_NAMES)}, not {name!r}")
    return TFLITE_DIR / f"{name}.tflite"


def is_int8_tflite(model: str | Path) -> bool:
    """The name of a bundled int8 model, or a .tflite file that is not a float model (a float
    .tflite is imported into the IR like an .onnx; a missing or unreadable file takes the int8
    path, whose reader says what is wrong with it)."""
    if str(model) in INT8_MODEL_NAMES:
        return True
    if not str(model).endswith(".tflite"):
        return False
    try:
        from hlsfix.frontend.tflite_float import is_float_tflite

        return not is_float_tflite(Path(model).read_bytes())
    except (OSError, ModelError):
        return True


def resolve_int8(model: str | Path) -> Path:
    return int8_model_path(str(model)) if str(model) in INT8_MODEL_NAMES else Path(model)
