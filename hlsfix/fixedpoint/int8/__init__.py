"""The int8 affine family: TFLite int8 models executed exactly as TensorFlow Lite Micro does."""
