#!/usr/bin/env python3
"""Writes Fashion-MNIST test images as PNG files, named by index and true label.

Usage: sample_images.py OUT_DIR [COUNT] [--data /usr/share/datasets/fashion-mnist]
Uses only the standard library (gzip, zlib, struct): the images are 8-bit gray 28x28 PNGs.
"""
import argparse
import gzip
import os
import struct
import zlib

LABELS = ["T-shirt-top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle-boot"]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    if magic >> 8 != 0x08:
        raise SystemExit(f"{path}: not an unsigned-byte IDX file")
    return shape, data[4 + 4 * dims:]


def png(width, height, pixels):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + pixels[y * width:(y + 1) * width] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("count", nargs="?", type=int, default=10)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    (n, h, w), images = read_idx(os.path.join(args.data, "t10k-images-idx3-ubyte.gz"))
    _, labels = read_idx(os.path.join(args.data, "t10k-labels-idx1-ubyte.gz"))
    os.makedirs(args.out, exist_ok=True)
    for i in range(min(args.count, n)):
        name = os.path.join(args.out, f"{i:04d}-{LABELS[labels[i]]}.png")
        with open(name, "wb") as f:
            f.write(png(w, h, images[i * h * w:(i + 1) * h * w]))
        print(name)


if __name__ == "__main__":
    main()
