#!/usr/bin/env python3
"""Trains the digits-cnn example model and exports it to ONNX.

Documentation of how the committed files were made; the Hedge build never runs Python.
Run with Debian's python3 (python3-torch, python3-sklearn, python3-onnx):

    /usr/bin/python3 examples/digits-cnn/train.py

Writes, next to this script: model.onnx, calib.npy, test_x.npy, test_y.npy.
Re-running reproduces the same split, weights and accuracy on the same torch build (fixed seeds,
single thread, deterministic algorithms).
"""
import os

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 20240611
HERE = os.path.dirname(os.path.abspath(__file__))

torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


class DigitsCnn(nn.Module):
    """Conv+BN+ReLU x2, MaxPool, Conv+BN+ReLU, GlobalAveragePool, Flatten, Gemm."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
            nn.MaxPool2d(2),                                   # 8x8 -> 4x4
            nn.Conv2d(32, 48, 3, padding=1, bias=False), nn.BatchNorm2d(48), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),                           # exported as GlobalAveragePool
        )
        self.classifier = nn.Linear(48, 10)                    # exported as Gemm

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def main():
    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0)[:, None, :, :]   # [N,1,8,8], pixel/16 like digits-mlp
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=SEED, stratify=y)

    model = DigitsCnn()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    gen = torch.Generator().manual_seed(SEED)
    for epoch in range(30):
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()

    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(x_test)).argmax(1).numpy()
    correct = int((pred == y_test).sum())
    print(f"test accuracy: {correct}/{len(y_test)} = {100.0 * correct / len(y_test):.2f}%")

    # Calibration samples: unlabelled, drawn from the training split only (never the test split).
    rng = np.random.default_rng(SEED)
    calib = x_train[rng.choice(len(x_train), 256, replace=False)]

    np.save(os.path.join(HERE, "calib.npy"), np.ascontiguousarray(calib))
    np.save(os.path.join(HERE, "test_x.npy"), np.ascontiguousarray(x_test))
    np.save(os.path.join(HERE, "test_y.npy"), np.ascontiguousarray(y_test))

    # PRESERVE (with the model in eval mode) keeps BatchNormalization as its own node instead of folding it
    # into the Conv weights, so the example exercises Hedge's own Conv+BN fusion.
    torch.onnx.export(
        model, torch.zeros(1, 1, 8, 8), os.path.join(HERE, "model.onnx"),
        input_names=["pixels"], output_names=["logits"],
        dynamic_axes={"pixels": {0: "N"}, "logits": {0: "N"}},
        opset_version=13, training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)

    import onnx
    m = onnx.load(os.path.join(HERE, "model.onnx"))
    onnx.checker.check_model(m)
    print("ops:", sorted({n.op_type for n in m.graph.node}))


if __name__ == "__main__":
    main()
