#!/usr/bin/env python3
"""Convert a PyTorch state_dict into a FixServe model version directory.

Usage:
    python3 scripts/convert_pytorch.py --manifest manifest.json --weights model.pt \
        --output models/<name> [--version N] [--rename old.=new. ...]

The manifest (docs/MODEL_FORMAT.md) describes the architecture; the weights are a state_dict
saved with torch.save (a .pt file, read with torch) or a NumPy .npz archive. The state_dict of
the documented small architecture -- an nn.Sequential backbone of Conv2d, BatchNorm2d, ReLU,
MaxPool2d, AdaptiveAvgPool2d(1), Flatten, Dropout and Linear registered as `backbone`, plus a
head module `head` holding `alpha` and `bias` (fixed head) or `weight` and `bias` (learned) --
maps over name for name; other module names are mapped with --rename prefixes.

Every tensor name and shape is checked against the manifest before anything is written. The
safetensors file is written with the standard library only (F32, names in sorted order, header
padded with spaces to 8 bytes), and the version appears atomically: both files go to a hidden
temporary directory inside --output, are fsynced, and the directory is renamed to its number.
"""

import argparse
import json
import os
import shutil
import struct
import sys
import uuid


class ConversionError(Exception):
    pass


def expected_tensors(manifest):
    """(name, shape) pairs the manifest's architecture needs, in layer order."""
    out = []

    def batch_norm(prefix, channels):
        for suffix in ("weight", "bias", "running_mean", "running_var"):
            out.append((f"{prefix}.{suffix}", [channels]))

    for i, layer in enumerate(manifest["architecture"]["backbone"]):
        p = f"backbone.{i}"
        kind = layer["type"]
        if kind == "linear":
            out.append((f"{p}.weight", [layer["out"], layer["in"]]))
            if layer.get("bias", True):
                out.append((f"{p}.bias", [layer["out"]]))
        elif kind == "conv2d":
            k = layer["kernel"]
            out.append((f"{p}.weight", [layer["out"], layer["in"], k, k]))
            if layer.get("bias", True):
                out.append((f"{p}.bias", [layer["out"]]))
        elif kind == "batchnorm2d":
            batch_norm(p, layer["channels"])
        elif kind == "residual":
            cin, cout, stride = layer["in"], layer["out"], layer.get("stride", 1)
            out.append((f"{p}.conv1.weight", [cout, cin, 3, 3]))
            batch_norm(f"{p}.bn1", cout)
            out.append((f"{p}.conv2.weight", [cout, cout, 3, 3]))
            batch_norm(f"{p}.bn2", cout)
            if stride != 1 or cin != cout:
                out.append((f"{p}.shortcut.conv.weight", [cout, cin, 1, 1]))
                batch_norm(f"{p}.shortcut.bn", cout)
        elif kind not in ("relu", "maxpool2d", "globalavgpool", "flatten", "dropout"):
            raise ConversionError(f"architecture.backbone[{i}]: unknown layer type '{kind}'")

    head = manifest["head"]
    n, c = head["features"], head["classes"]
    if head["kind"] == "learned":
        out.append(("head.weight", [c, n]))
    elif head.get("alphaLearned", True):
        out.append(("head.alpha", [1]))
    if head.get("bias", True):
        out.append(("head.bias", [c]))
    return out


def load_weights(path):
    """name -> (shape, little-endian F32 bytes)."""
    if path.endswith(".npz"):
        import numpy as np
        with np.load(path) as archive:
            return {name: (list(archive[name].shape), archive[name].astype("<f4").tobytes())
                    for name in archive.files}
    import torch  # only needed for .pt files
    state = torch.load(path, map_location="cpu", weights_only=True)
    if hasattr(state, "state_dict"):
        state = state.state_dict()
    out = {}
    for name, tensor in state.items():
        values = tensor.detach().to(torch.float32).contiguous().reshape(-1).tolist()
        out[name] = (list(tensor.shape), struct.pack(f"<{len(values)}f", *values))
    return out


def rename(weights, rules):
    renamed = {}
    for name, value in weights.items():
        if name.endswith("num_batches_tracked"):
            continue  # a PyTorch training counter with no FixServe counterpart
        for old, new in rules:
            if name.startswith(old):
                name = new + name[len(old):]
                break
        if name == "head.alpha" and value[0] == []:
            value = ([1], value[1])
        renamed[name] = value
    return renamed


def check(weights, manifest):
    expected = expected_tensors(manifest)
    for name, shape in expected:
        if name not in weights:
            raise ConversionError(f"missing tensor '{name}' (shape {shape})")
        if weights[name][0] != shape:
            raise ConversionError(f"tensor '{name}' has shape {weights[name][0]}, the manifest implies {shape}")
    known = {name for name, _ in expected}
    unused = sorted(set(weights) - known)
    if unused:
        raise ConversionError(f"unused tensor '{unused[0]}' (not in the manifest's architecture; use --rename?)")
    if len(manifest["labels"]) != manifest["head"]["classes"]:
        raise ConversionError(f"labels: {len(manifest['labels'])} labels for {manifest['head']['classes']} classes")


def safetensors_bytes(weights, metadata):
    names = sorted(weights)
    entries = {"__metadata__": metadata} if metadata else {}
    offset = 0
    for name in names:
        shape, data = weights[name]
        entries[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    header = json.dumps(entries, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    header += b" " * ((8 - len(header) % 8) % 8)
    return b"".join([struct.pack("<Q", len(header)), header] + [weights[name][1] for name in names])


def write_synced(path, data):
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def fsync_directory(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(output, version, manifest, tensor_file):
    os.makedirs(output, exist_ok=True)
    if version is None:
        existing = [int(n) for n in os.listdir(output)
                    if n.isdigit() and not n.startswith("0") and os.path.isdir(os.path.join(output, n))]
        version = max(existing, default=0) + 1
    if version <= 0:
        raise ConversionError(f"--version must be a positive integer, got {version}")
    destination = os.path.join(output, str(version))
    if os.path.exists(destination):
        raise ConversionError(f"{destination} already exists")
    temporary = os.path.join(output, f".tmp-{uuid.uuid4()}")
    os.mkdir(temporary)
    try:
        write_synced(os.path.join(temporary, "model.safetensors"), tensor_file)
        write_synced(os.path.join(temporary, "manifest.json"),
                     (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8"))
        fsync_directory(temporary)
        os.rename(temporary, destination)
        fsync_directory(output)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return destination


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", required=True, help="manifest.json describing the model")
    parser.add_argument("--weights", required=True, help="state_dict: .pt (torch.save) or .npz")
    parser.add_argument("--output", required=True, help="the model directory, models/<name>")
    parser.add_argument("--version", type=int, help="version number (default: one above the highest)")
    parser.add_argument("--rename", action="append", default=[], metavar="OLD=NEW",
                        help="replace the name prefix OLD with NEW, e.g. features.=backbone.")
    args = parser.parse_args(argv)
    try:
        with open(args.manifest, encoding="utf-8") as f:
            manifest = json.load(f)
        if manifest.get("formatVersion") != 1:
            raise ConversionError(f"formatVersion: expected 1, got {manifest.get('formatVersion')}")
        rules = []
        for rule in args.rename:
            if "=" not in rule:
                raise ConversionError(f"--rename needs OLD=NEW, got '{rule}'")
            rules.append(tuple(rule.split("=", 1)))
        weights = rename(load_weights(args.weights), rules)
        check(weights, manifest)
        data = safetensors_bytes(weights, {"format": "fixserve", "formatVersion": "1"})
        print(publish(args.output, args.version, manifest, data))
    except KeyError as error:
        print(f"convert_pytorch: manifest field {error} is missing", file=sys.stderr)
        return 1
    except (ConversionError, OSError, ValueError) as error:
        print(f"convert_pytorch: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
