"""Load from NVIDIA's tritonclient[http]: binary-tensor inference requests kept in flight.

Usage: bench_triton_client.py HOST:PORT MODEL CLIENTS REQUESTS [fp32|bytes IMAGE.png [IMAGES]]
       bench_triton_client.py HOST:PORT MODEL --write-body FILE [fp32|bytes IMAGE.png [IMAGES]]
CLIENTS clients, each sending one request after another over a connection of its own, each of
IMAGES images (default 1): FP32 [IMAGES, C, H, W] as a binary tensor (the model's normalised
input, random but fixed), or the PNG IMAGES times as a binary BYTES tensor. The clients are tasks of tritonclient's asyncio client (tritonclient.http.aio) in one
process: 64 Python threads of the blocking client spend most of their time on the GIL and keep
about half as many requests in flight. Prints one line: requests, seconds, requests/s, p50 and
p99 latency in ms, failures.
With --write-body: writes the body tritonclient sends for that request to FILE and prints the
length of its JSON header (the Inference-Header-Content-Length), for a load generator in C.
"""
import asyncio
import sys
import time

import numpy as np
import tritonclient.http as httpclient
import tritonclient.http.aio as aioclient


def tensor(url, model, kind, image, images):
    """The request's one input (data, datatype, dims) for the model's input shape."""
    shape = httpclient.InferenceServerClient(url=url).get_model_metadata(model)["inputs"][0]["shape"][1:]
    if kind == "bytes":
        with open(image, "rb") as f:
            return np.array([f.read()] * images, dtype=np.object_), "BYTES", [images]
    data = np.random.default_rng(0).standard_normal([images] + shape).astype(np.float32)
    return data, "FP32", [images] + shape


def write_body(url, model, path, kind, image, images):
    data, datatype, dims = tensor(url, model, kind, image, images)
    inp = httpclient.InferInput("input", dims, datatype)
    inp.set_data_from_numpy(data, binary_data=True)
    outputs = [httpclient.InferRequestedOutput("logits", binary_data=True)]
    body, json_size = httpclient.InferenceServerClient.generate_request_body([inp], outputs=outputs)
    with open(path, "wb") as f:
        f.write(body)
    print(json_size)


async def load(url, model, clients, requests, data, datatype, dims):
    """Runs the load; returns (seconds, sorted latencies in seconds, failures)."""
    client = aioclient.InferenceServerClient(url=url, conn_limit=clients, conn_timeout=60.0)
    inp = aioclient.InferInput("input", dims, datatype)
    inp.set_data_from_numpy(data, binary_data=True)
    outputs = [aioclient.InferRequestedOutput("logits", binary_data=True)]
    latencies, failures = [], [0]

    async def run(count):
        for _ in range(count):
            began = time.perf_counter()
            try:
                result = await client.infer(model, [inp], outputs=outputs)
                if result.as_numpy("logits").shape[0] != dims[0]:
                    failures[0] += 1
            except Exception:  # a refused or failed request counts; the run goes on
                failures[0] += 1
            latencies.append(time.perf_counter() - began)

    per_client = [requests // clients + (1 if i < requests % clients else 0) for i in range(clients)]
    started = time.perf_counter()
    await asyncio.gather(*(run(n) for n in per_client))
    elapsed = time.perf_counter() - started
    await client.close()
    return elapsed, sorted(latencies), failures[0]


def main():
    kind = sys.argv[5] if len(sys.argv) > 5 else "fp32"
    image = sys.argv[6] if len(sys.argv) > 6 else None
    images = int(sys.argv[7]) if len(sys.argv) > 7 else 1
    if len(sys.argv) > 3 and sys.argv[3] == "--write-body":
        write_body(sys.argv[1], sys.argv[2], sys.argv[4], kind, image, images)
        return
    url, model, clients, requests = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    data, datatype, dims = tensor(url, model, kind, image, images)
    elapsed, latencies, failures = asyncio.run(load(url, model, clients, requests, data, datatype, dims))
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    print(f"requests {requests} seconds {elapsed:.3f} rate {requests / elapsed:.1f} "
          f"p50_ms {p(0.5):.3f} p99_ms {p(0.99):.3f} failures {failures}")


if __name__ == "__main__":
    main()
