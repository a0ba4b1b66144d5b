#!/usr/bin/env python3
"""Independent numpy forward pass of a FixServe network, for the Swift cross-check.

Usage: forward_reference.py DIR

DIR/index.json holds the backbone specs (FixServe's LayerSpec JSON), the per-sample input
shape and, for every tensor (the network's named tensors plus "input"), its shape and the
raw little-endian float32 file it is stored in. The head is y = alpha * (x / ||x||) @ M + b
with M = head.weight [N, C], alpha = head.alpha [1], b = head.bias [C].
Writes DIR/reference_logits.bin (float32, [B, C]). Everything is computed in float64.
"""
import json
import os
import sys

import numpy as np


def load(directory, entry):
    data = np.fromfile(os.path.join(directory, entry["file"]), dtype="<f4")
    return data.reshape(entry["shape"]).astype(np.float64)


def conv2d(x, w, b, stride, padding):
    batch, _, height, width = x.shape
    out_channels, _, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh = (height + 2 * padding - k) // stride + 1
    ow = (width + 2 * padding - k) // stride + 1
    y = np.zeros((batch, out_channels, oh, ow))
    for ky in range(k):
        for kx in range(k):
            window = xp[:, :, ky:ky + stride * (oh - 1) + 1:stride, kx:kx + stride * (ow - 1) + 1:stride]
            y += np.einsum("bchw,oc->bohw", window, w[:, :, ky, kx])
    if b is not None:
        y += b[None, :, None, None]
    return y


def batch_norm(x, t, prefix, eps):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean, var = t[prefix + "running_mean"].reshape(shape), t[prefix + "running_var"].reshape(shape)
    gamma, beta = t[prefix + "weight"].reshape(shape), t[prefix + "bias"].reshape(shape)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def max_pool(x, k, s):
    batch, channels, height, width = x.shape
    oh, ow = (height - k) // s + 1, (width - k) // s + 1
    y = np.full((batch, channels, oh, ow), -np.inf)
    for ky in range(k):
        for kx in range(k):
            y = np.maximum(y, x[:, :, ky:ky + s * (oh - 1) + 1:s, kx:kx + s * (ow - 1) + 1:s])
    return y


def residual(x, t, p, stride):
    h = np.maximum(batch_norm(conv2d(x, t[p + "conv1.weight"], None, stride, 1), t, p + "bn1.", 1e-5), 0)
    h = batch_norm(conv2d(h, t[p + "conv2.weight"], None, 1, 1), t, p + "bn2.", 1e-5)
    if p + "shortcut.conv.weight" in t:
        s = batch_norm(conv2d(x, t[p + "shortcut.conv.weight"], None, stride, 0), t, p + "shortcut.bn.", 1e-5)
    else:
        s = x
    return np.maximum(h + s, 0)


def forward(specs, t, x):
    for index, spec in enumerate(specs):
        p = "backbone.%d." % index
        kind = spec["type"]
        if kind == "conv2d":
            x = conv2d(x, t[p + "weight"], t.get(p + "bias"), spec["stride"], spec["padding"])
        elif kind == "batchnorm2d":
            x = batch_norm(x, t, p, spec["epsilon"])
        elif kind == "relu":
            x = np.maximum(x, 0)
        elif kind == "maxpool2d":
            x = max_pool(x, spec["kernel"], spec["stride"])
        elif kind == "residual":
            x = residual(x, t, p, spec["stride"])
        elif kind == "globalavgpool":
            x = x.mean(axis=(2, 3))
        elif kind == "flatten":
            x = x.reshape(x.shape[0], -1)
        elif kind == "dropout":
            pass
        elif kind == "linear":
            x = x @ t[p + "weight"].T + (t[p + "bias"] if p + "bias" in t else 0)
        else:
            raise ValueError("unknown layer type %r" % kind)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    return t["head.alpha"][0] * unit @ t["head.weight"] + t["head.bias"]


def main():
    directory = sys.argv[1]
    with open(os.path.join(directory, "index.json")) as f:
        index = json.load(f)
    tensors = {name: load(directory, entry) for name, entry in index["tensors"].items()}
    logits = forward(index["specs"], tensors, tensors.pop("input"))
    logits.astype("<f4").tofile(os.path.join(directory, "reference_logits.bin"))


if __name__ == "__main__":
    main()
