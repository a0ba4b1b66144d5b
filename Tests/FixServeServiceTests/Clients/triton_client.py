"""Drives a FixServe server with NVIDIA's tritonclient[http], checking every answer.

Usage: triton_client.py HOST:PORT MODEL EXPECTED.json
EXPECTED.json lists images with their raw gray pixels (uint8 28x28 file), the normalised input
(float32 1x28x28 file), the encoded image file and the logits FixServe computed offline.
Exits non-zero with a message on the first mismatch.
"""
import json
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

TOLERANCE = 1e-4


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def check_logits(what, got, expected):
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        fail(f"{what}: shape {got.shape}, expected {expected.shape}")
    diff = np.max(np.abs(got - expected))
    if diff > TOLERANCE * max(1.0, np.max(np.abs(expected))):
        fail(f"{what}: max |difference| {diff}")


def main():
    url, model, expected_path = sys.argv[1:4]
    with open(expected_path) as f:
        expected = json.load(f)
    images = expected["images"]
    labels = expected["labels"]
    client = httpclient.InferenceServerClient(url=url, network_timeout=30.0)

    if not client.is_server_live() or not client.is_server_ready():
        fail("server not live or not ready")
    if not client.is_model_ready(model):
        fail("model not ready")
    metadata = client.get_model_metadata(model)
    if metadata["inputs"][0]["name"] != "input" or metadata["inputs"][0]["shape"] != [-1, 1, 28, 28]:
        fail(f"unexpected metadata {metadata}")
    if {o["name"] for o in metadata["outputs"]} != {"logits", "probabilities"}:
        fail(f"unexpected outputs {metadata['outputs']}")
    config = client.get_model_config(model)
    if config["max_batch_size"] < 1:
        fail(f"unexpected config {config}")
    stats_before = client.get_inference_statistics(model)

    pixels = np.stack([np.fromfile(i["pixels_file"], dtype=np.uint8).reshape(28, 28) for i in images])
    normalised = np.stack([np.fromfile(i["normalized_file"], dtype=np.float32).reshape(1, 28, 28) for i in images])
    logits = np.array([i["logits"] for i in images], dtype=np.float32)

    # UINT8 raw pixels, binary input, binary outputs.
    inp = httpclient.InferInput("input", list(pixels.shape), "UINT8")
    inp.set_data_from_numpy(pixels, binary_data=True)
    outs = [httpclient.InferRequestedOutput("logits", binary_data=True),
            httpclient.InferRequestedOutput("probabilities", binary_data=True)]
    result = client.infer(model, [inp], outputs=outs)
    check_logits("UINT8 binary", result.as_numpy("logits"), logits)
    probabilities = result.as_numpy("probabilities")
    if not np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5):
        fail("probabilities do not sum to 1")

    # FP32 normalised input as JSON, JSON outputs.
    inp = httpclient.InferInput("input", list(normalised.shape), "FP32")
    inp.set_data_from_numpy(normalised, binary_data=False)
    result = client.infer(model, [inp], outputs=[httpclient.InferRequestedOutput("logits", binary_data=False)])
    check_logits("FP32 JSON", result.as_numpy("logits"), logits)

    # FP32 binary input, default outputs.
    inp = httpclient.InferInput("input", list(normalised.shape), "FP32")
    inp.set_data_from_numpy(normalised, binary_data=True)
    result = client.infer(model, [inp])
    check_logits("FP32 binary", result.as_numpy("logits"), logits)

    # Encoded images as BYTES, classification extension (top 3).
    encoded = np.array([open(i["image_file"], "rb").read() for i in images], dtype=np.object_)
    inp = httpclient.InferInput("input", [len(images)], "BYTES")
    inp.set_data_from_numpy(encoded, binary_data=True)
    result = client.infer(model, [inp], outputs=[httpclient.InferRequestedOutput("probabilities", binary_data=True, class_count=3)])
    top = result.as_numpy("probabilities")
    if top.shape != (len(images), 3):
        fail(f"classification shape {top.shape}")
    for row, image in zip(top, images):
        first = row[0].decode() if isinstance(row[0], bytes) else str(row[0])
        score, index, label = first.split(":", 2)
        want = int(np.argmax(image["logits"]))
        if int(index) != want or label != labels[want]:
            fail(f"classification {first}, expected index {want} ({labels[want]})")

    # An unknown model is an error the client raises, not a crash.
    try:
        client.get_model_metadata("no-such-model")
        fail("unknown model accepted")
    except InferenceServerException as error:
        if "no-such-model" not in str(error):
            fail(f"unclear error for an unknown model: {error}")

    stats = client.get_inference_statistics(model)
    count = int(stats["model_stats"][0]["inference_count"]) - int(stats_before["model_stats"][0]["inference_count"])
    if count != 4 * len(images):
        fail(f"statistics counted {count} inferences, expected {4 * len(images)}")
    print("ok")


if __name__ == "__main__":
    main()
