#!/usr/bin/env python3
"""Runs an exported ONNX model with onnxruntime and, optionally, an independent NumPy forward
pass (float64) of the same stored model, for FixServe's ONNX export tests.

    onnx_reference.py --onnx model.onnx --input x.f32 --shape B,C,H,W --out ort.f32
        [--model-dir DIR --head-matrix m.f32 --epsilon E --numpy-out ref.f32]

Inputs and outputs are raw little-endian float32 files.
"""

import argparse
import json
import struct

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        out[name] = np.frombuffer(body[begin:end], dtype="<f4").astype(np.float64).reshape(entry["shape"])
    return out


def conv(x, w, b, stride, pad):
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    k = w.shape[2]
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]
    y = np.einsum("bchwij,ocij->bohw", windows, w)
    return y if b is None else y + b[None, :, None, None]


def batch_norm(x, t, p, eps):
    scale = t[f"{p}.weight"] / np.sqrt(t[f"{p}.running_var"] + eps)
    return (x - t[f"{p}.running_mean"][None, :, None, None]) * scale[None, :, None, None] + t[f"{p}.bias"][None, :, None, None]


def forward(manifest, t, x, matrix, epsilon):
    for i, layer in enumerate(manifest["architecture"]["backbone"]):
        p, kind = f"backbone.{i}", layer["type"]
        if kind == "conv2d":
            x = conv(x, t[f"{p}.weight"], t.get(f"{p}.bias"), layer["stride"], layer["padding"])
        elif kind == "batchnorm2d":
            x = batch_norm(x, t, p, layer["epsilon"])
        elif kind == "relu":
            x = np.maximum(x, 0)
        elif kind == "maxpool2d":
            k, s = layer["kernel"], layer["stride"]
            x = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s].max(axis=(4, 5))
        elif kind == "globalavgpool":
            x = x.mean(axis=(2, 3))
        elif kind == "flatten":
            x = x.reshape(x.shape[0], -1)
        elif kind == "linear":
            x = x @ t[f"{p}.weight"].T + (t[f"{p}.bias"] if f"{p}.bias" in t else 0)
        elif kind == "residual":
            s = layer["stride"]
            y = np.maximum(batch_norm(conv(x, t[f"{p}.conv1.weight"], None, s, 1), t, f"{p}.bn1", 1e-5), 0)
            y = batch_norm(conv(y, t[f"{p}.conv2.weight"], None, 1, 1), t, f"{p}.bn2", 1e-5)
            shortcut = x
            if f"{p}.shortcut.conv.weight" in t:
                shortcut = batch_norm(conv(x, t[f"{p}.shortcut.conv.weight"], None, s, 0), t, f"{p}.shortcut.bn", 1e-5)
            x = np.maximum(y + shortcut, 0)
        elif kind != "dropout":
            raise ValueError(kind)
    head = manifest["head"]
    if head["kind"] == "learned":
        return x @ t["head.weight"].T + (t["head.bias"] if head["bias"] else 0)
    unit = x / (np.linalg.norm(x, axis=1, keepdims=True) + epsilon)
    alpha = t["head.alpha"][0] if head["alphaLearned"] else head["alpha"]
    return alpha * (unit @ matrix) + (t["head.bias"] if head["bias"] else 0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--onnx", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--shape", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--model-dir")
    parser.add_argument("--head-matrix")
    parser.add_argument("--epsilon", type=float, default=1e-6)
    parser.add_argument("--numpy-out")
    args = parser.parse_args()

    import onnxruntime as ort
    shape = [int(s) for s in args.shape.split(",")]
    x = np.fromfile(args.input, dtype="<f4").reshape(shape)
    session = ort.InferenceSession(args.onnx, providers=["CPUExecutionProvider"])
    (logits,) = session.run(["logits"], {"input": x})
    logits.astype("<f4").tofile(args.out)

    if args.model_dir:
        with open(f"{args.model_dir}/manifest.json", encoding="utf-8") as f:
            manifest = json.load(f)
        tensors = read_safetensors(f"{args.model_dir}/model.safetensors")
        matrix = None
        if manifest["head"]["kind"] != "learned":
            n, c = manifest["head"]["features"], manifest["head"]["classes"]
            matrix = np.fromfile(args.head_matrix, dtype="<f4").astype(np.float64).reshape(n, c)
        reference = forward(manifest, tensors, x.astype(np.float64), matrix, args.epsilon)
        reference.astype("<f4").tofile(args.numpy_out)


if __name__ == "__main__":
    main()
