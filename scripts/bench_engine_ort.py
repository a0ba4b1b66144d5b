#!/usr/bin/env python3
"""onnxruntime's side of scripts/bench-engine: forward-pass images/s of an ONNX model per batch
size and thread count, printed in the same format as `fixserve-bench engine`."""
import argparse
import statistics
import time

import numpy as np
import onnxruntime as ort


def median_seconds(run, runs, least_seconds):
    run()  # warm up
    repetitions = 1
    while True:
        start = time.perf_counter()
        for _ in range(repetitions):
            run()
        elapsed = time.perf_counter() - start
        if elapsed >= least_seconds or repetitions >= 1 << 20:
            break
        repetitions *= max(2, int(least_seconds / max(elapsed, 1e-9)) + 1)
    walls, cpus = [], []
    for _ in range(runs):
        start, cpu_start = time.perf_counter(), time.process_time()
        for _ in range(repetitions):
            run()
        walls.append((time.perf_counter() - start) / repetitions)
        cpus.append((time.process_time() - cpu_start) / repetitions)
    return statistics.median(walls), statistics.median(cpus)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("onnx")
    parser.add_argument("--name", default="model")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 64, 128])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--run-milliseconds", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    for threads in args.threads:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(args.onnx, options, providers=["CPUExecutionProvider"])
        feed = session.get_inputs()[0]
        shape = [d for d in feed.shape[1:]]
        for batch in args.batches:
            x = rng.standard_normal([batch] + shape).astype(np.float32)
            seconds, cpu = median_seconds(lambda: session.run(None, {feed.name: x}), args.runs,
                                     args.run_milliseconds / 1000)
            print(f"onnxruntime model={args.name} threads={threads} batch={batch} "
                  f"images_per_second={batch / seconds:.0f} batch_us={seconds * 1e6:.1f} "
                  f"cpu_us_per_image={cpu * 1e6 / batch:.1f}", flush=True)


if __name__ == "__main__":
    main()
