"""Load from NVIDIA's tritonclient[http]: binary-tensor inference requests kept in flight.

Usage: bench_triton_client.py HOST:PORT MODEL CLIENTS REQUESTS [fp32|bytes IMAGE.png]
       bench_triton_client.py HOST:PORT MODEL --write-body FILE [fp32|bytes IMAGE.png]
CLIENTS clients, each a thread with its own connection sending one request after another, each one image: FP32 [1, C, H, W]
as a binary tensor (the model's normalised input, random but fixed), or the PNG as a binary BYTES
tensor. Prints one line: requests, seconds, requests/s, p50 and p99 latency in ms, failures.
With --write-body: writes the body tritonclient sends for that request to FILE and prints the
length of its JSON header (the Inference-Header-Content-Length), for a load generator in C.
"""
import sys
import threading
import time

import numpy as np
import tritonclient.http as httpclient


def tensor(url, model, kind, image):
    """The request's one input (data, datatype, dims) for the model's input shape."""
    shape = httpclient.InferenceServerClient(url=url).get_model_metadata(model)["inputs"][0]["shape"][1:]
    if kind == "bytes":
        with open(image, "rb") as f:
            return np.array([f.read()], dtype=np.object_), "BYTES", [1]
    return np.random.default_rng(0).standard_normal([1] + shape).astype(np.float32), "FP32", [1] + shape


def write_body(url, model, path, kind, image):
    data, datatype, dims = tensor(url, model, kind, image)
    inp = httpclient.InferInput("input", dims, datatype)
    inp.set_data_from_numpy(data, binary_data=True)
    outputs = [httpclient.InferRequestedOutput("logits", binary_data=True)]
    body, json_size = httpclient.InferenceServerClient.generate_request_body([inp], outputs=outputs)
    with open(path, "wb") as f:
        f.write(body)
    print(json_size)


def main():
    if len(sys.argv) > 3 and sys.argv[3] == "--write-body":
        kind = sys.argv[5] if len(sys.argv) > 5 else "fp32"
        write_body(sys.argv[1], sys.argv[2], sys.argv[4], kind, sys.argv[6] if len(sys.argv) > 6 else None)
        return
    url, model, clients, requests = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    kind = sys.argv[5] if len(sys.argv) > 5 else "fp32"
    data, datatype, dims = tensor(url, model, kind, sys.argv[6] if len(sys.argv) > 6 else None)

    latencies, failures = [], [0]
    lock = threading.Lock()
    per_client = [requests // clients + (1 if i < requests % clients else 0) for i in range(clients)]

    def run(count):
        client = httpclient.InferenceServerClient(url=url, network_timeout=60.0)
        inp = httpclient.InferInput("input", dims, datatype)
        inp.set_data_from_numpy(data, binary_data=True)
        outputs = [httpclient.InferRequestedOutput("logits", binary_data=True)]
        mine, failed = [], 0
        for _ in range(count):
            began = time.perf_counter()
            try:
                if client.infer(model, [inp], outputs=outputs).as_numpy("logits").shape[0] != 1:
                    failed += 1
            except Exception:  # a refused or failed request counts; the run goes on
                failed += 1
            mine.append(time.perf_counter() - began)
        with lock:
            latencies.extend(mine)
            failures[0] += failed

    threads = [threading.Thread(target=run, args=(n,)) for n in per_client]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    print(f"requests {requests} seconds {elapsed:.3f} rate {requests / elapsed:.1f} "
          f"p50_ms {p(0.5):.3f} p99_ms {p(0.99):.3f} failures {failures[0]}")


if __name__ == "__main__":
    main()
