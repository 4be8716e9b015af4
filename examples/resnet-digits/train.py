"""Trains the small residual CNN in this folder on scikit-learn's 8x8 digits and exports it to ONNX.

Run by hand (the build never runs it): /usr/bin/python3 train.py  (Debian's python3-torch, python3-sklearn,
python3-onnx). Writes model.onnx, calib.npy, test_x.npy, test_y.npy next to this script.

The architecture exists to exercise structured channel pruning: identity and projection residual Adds,
a depthwise conv paired with its producer, a Concat of two branches, global pooling, Flatten -> Gemm.
"""
import os

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

HERE = os.path.dirname(os.path.abspath(__file__))


def cbr(cin, cout, k=3, stride=1, groups=1, relu=True):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = cbr(1, 16)
        self.b1a = cbr(16, 16)
        self.b1b = cbr(16, 16, relu=False)
        self.b2a = cbr(16, 32, stride=2)
        self.b2b = cbr(32, 32, relu=False)
        self.b2s = cbr(16, 32, k=1, stride=2, relu=False)
        self.dw = cbr(32, 32, groups=32)
        self.pw = cbr(32, 16, k=1)
        self.side = cbr(32, 16, k=1)
        self.fc1 = nn.Linear(32, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = self.stem(x)
        x = torch.relu(x + self.b1b(self.b1a(x)))
        x = torch.relu(self.b2s(x) + self.b2b(self.b2a(x)))
        x = torch.cat([self.pw(self.dw(x)), self.side(x)], dim=1)
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return self.fc2(torch.relu(self.fc1(x)))


def main():
    torch.manual_seed(0)
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3, weight_decay=1e-4)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    for epoch in range(40):
        net.train()
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(net(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            acc = (net(torch.from_numpy(x_test)).argmax(1).numpy() == y_test).mean()
        print(f"epoch {epoch} loss {loss.item():.4f} test accuracy {acc:.4f}")
    net.eval()
    # training=PRESERVE in eval mode keeps BatchNormalization nodes (not fused into the convs), so the
    # converter's own folding and the pruner's BN handling both see them.
    torch.onnx.export(net, torch.zeros(1, 1, 8, 8), os.path.join(HERE, "model.onnx"), opset_version=13,
                      input_names=["pixels"], output_names=["logits"],
                      dynamic_axes={"pixels": {0: "N"}, "logits": {0: "N"}},
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True)
    np.save(os.path.join(HERE, "calib.npy"), x_train[:200])
    np.save(os.path.join(HERE, "test_x.npy"), x_test)
    np.save(os.path.join(HERE, "test_y.npy"), y_test)
    print(f"final test accuracy {acc:.4f} on {len(y_test)} samples")


if __name__ == "__main__":
    main()
