"""Train the zoo's PyTorch DS-CNN in miniature on the bundled 8x8 digits and export it with
torch.onnx: a conv with batch norm, a depthwise-separable block, a residual block, global average
pooling and a linear classifier (exported with its BatchNormalization nodes, which hlsfix folds
into the convolutions at import; PyTorch's flatten by ``x.view(x.size(0), -1)``, which the exporter
writes as a Shape → Gather → Concat → Reshape chain).

Run from the repository root: ``python examples/train_onnx_torch.py`` (needs torch==2.13.0 and
onnx/onnxruntime; hlsfix needs neither torch nor TensorFlow to use the file).
"""

from __future__ import annotations

import io

import torch
import torch.nn.functional as F
from torch import nn
from zoo_onnx import digits, write
from zoo_torch import fit, make_deterministic

SEED = 0
EPOCHS = 60
BATCH = 64
OPSET = 13


def conv_bn(cin: int, cout: int, k: int, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, padding=k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)
    )


class DsCnn(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = conv_bn(1, 8, 3)  # 8x8 -> pooled to 4x4
        self.dw1, self.pw1 = conv_bn(8, 8, 3, groups=8), conv_bn(8, 16, 1)
        self.dw2, self.pw2 = conv_bn(16, 16, 3, groups=16), conv_bn(16, 16, 1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.stem(x)), 2)
        x = F.relu(self.pw1(F.relu(self.dw1(x))))
        x = F.relu(x + self.pw2(F.relu(self.dw2(x))))  # the residual add
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(x.view(x.size(0), -1))


def main() -> None:
    gen = make_deterministic(SEED)
    data = digits()
    x = torch.from_numpy(data["X_train"]).reshape(-1, 1, 8, 8)
    y = torch.from_numpy(data["y_train"])
    model = DsCnn()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
    fit(model, opt, x, y, epochs=EPOCHS, batch_size=BATCH, generator=gen)  # a new Module trains
    model.eval()
    buf = io.BytesIO()
    torch.onnx.export(model, (x[:1],), buf, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}}, opset_version=OPSET,
                      training=torch.onnx.TrainingMode.PRESERVE, dynamo=False)  # fmt: skip
    write("torch-dscnn", buf.getvalue(), "logits", {
        "description": "DS-CNN in miniature on 8x8 digits (NCHW): conv3x3 1->8 + BN + ReLU, maxpool 2; "
        "depthwise 3x3 + BN + ReLU, pointwise 8->16 + BN + ReLU; residual block (depthwise 3x3, "
        "pointwise 16->16, BN) added to its input, ReLU; global average pool; linear 16->10.",
        "framework": f"PyTorch {torch.__version__} → torch.onnx (TorchScript exporter, opset {OPSET})",
        "training_script": "examples/train_onnx_torch.py",
    })  # fmt: skip


if __name__ == "__main__":
    main()
