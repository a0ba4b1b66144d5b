"""Load from NVIDIA's tritonclient[http]: binary-tensor inference requests kept in flight.

Usage: bench_triton_client.py HOST:PORT MODEL CLIENTS REQUESTS [fp32|bytes IMAGE.png]
CLIENTS requests stay in flight (the client's own greenlet pool), each one image: FP32 [1, C, H, W]
as a binary tensor (the model's normalised input, random but fixed), or the PNG as a binary BYTES
tensor. Prints one line: requests, seconds, requests/s, p50 and p99 latency in ms, failures.
"""
import collections
import sys
import time

import numpy as np
import tritonclient.http as httpclient


def main():
    url, model, clients, requests = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    kind = sys.argv[5] if len(sys.argv) > 5 else "fp32"
    client = httpclient.InferenceServerClient(url=url, concurrency=clients, network_timeout=60.0)
    shape = client.get_model_metadata(model)["inputs"][0]["shape"][1:]
    if kind == "bytes":
        with open(sys.argv[6], "rb") as f:
            data = np.array([f.read()], dtype=np.object_)
        inp = httpclient.InferInput("input", [1], "BYTES")
    else:
        data = np.random.default_rng(0).standard_normal([1] + shape).astype(np.float32)
        inp = httpclient.InferInput("input", [1] + shape, "FP32")
    inp.set_data_from_numpy(data, binary_data=True)
    outputs = [httpclient.InferRequestedOutput("logits", binary_data=True)]

    latencies, failures = [], 0
    pending = collections.deque()
    started = time.perf_counter()
    sent = 0
    while sent < requests or pending:
        while sent < requests and len(pending) < clients:
            pending.append((time.perf_counter(), client.async_infer(model, [inp], outputs=outputs)))
            sent += 1
        began, request = pending.popleft()
        try:
            result = request.get_result()
            if result.as_numpy("logits").shape[0] != 1:
                failures += 1
        except Exception:  # a refused or failed request counts; the run goes on
            failures += 1
        latencies.append(time.perf_counter() - began)
    elapsed = time.perf_counter() - started
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    print(f"requests {requests} seconds {elapsed:.3f} rate {requests / elapsed:.1f} "
          f"p50_ms {p(0.5):.3f} p99_ms {p(0.99):.3f} failures {failures}")


if __name__ == "__main__":
    main()
