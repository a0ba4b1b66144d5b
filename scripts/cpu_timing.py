"""CPU time of a Python call, measured as fixserve-bench measures its own: the call repeated
until a run lasts at least 50 ms, the median of 7 runs. The benchmark scripts import it to time
the Python peer beside FixServe in the same run."""
import statistics
import time


def cpu_us(function, runs=7, minimum_seconds=0.05):
    """The median process CPU microseconds of one call of `function`."""
    reps = 1
    while True:
        start = time.process_time()
        for _ in range(reps):
            function()
        if time.process_time() - start >= minimum_seconds:
            break
        reps *= 2
    samples = []
    for _ in range(runs):
        start = time.process_time()
        for _ in range(reps):
            function()
        samples.append((time.process_time() - start) / reps * 1e6)
    return statistics.median(samples)
