"""The round protocol the perf command drives its peers with (apps/bench/src/perf/peer-process.ts).

A peer builds its model and optimizers, runs the warm-up, and prints one JSON line
describing itself ({"ready": true, ...}). Then, for each line "round" on stdin, it takes
every step kind in order: an untimed sample, then a timed sample of as many consecutive
steps, and prints each kind's milliseconds per step, {"sgd": ms, "sam": ms}. EOF or "exit" ends it.
The driver sends rounds to every peer in turn, so all of them see the same machine load.

A sample holds as many steps as last about SAMPLE_MS (sized from the last warm-up step, at
most MAX_STEPS_PER_SAMPLE): the rule of the in-process timer (interleaved-timer.ts). Each
process sits idle while the others take their turn, and the first steps after such a pause
are slower (docs/performance.md, "Waking up takes more than a step"): after half a second
idle, mup2's 2-thread SGD step took 15.8, 18.4, 16.9, 13.0 ms against 10.7 back to back, and
JAX's 9.7, 9.3, 9.7, 9.4 against 8.1. The untimed sample, as long as the timed one, takes the
wake-up, so that the timed sample is a training loop's steady steps.
"""
import argparse
import json
import math
import os
import sys
import time
from typing import Callable, Dict


def peer_arguments() -> argparse.Namespace:
    """The options every MLP peer takes; the driver passes the MLP's shapes and the thread count."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rho", type=float, default=0.05)
    return parser.parse_args()


def pin_threads(threads: int) -> None:
    """Restricts this process to `threads` cores, before a framework sizes its thread pools.

    XLA (JAX) sizes its CPU pool from the schedulable cores and has no thread-count setting
    of its own; PyTorch is told through torch.set_num_threads as well.
    """
    cores = sorted(os.sched_getaffinity(0))
    if threads < len(cores):
        os.sched_setaffinity(0, set(cores[:threads]))
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[variable] = str(threads)


SAMPLE_MS = 100.0
MAX_STEPS_PER_SAMPLE = 20


def steps_per_sample(milliseconds: float) -> int:
    """Steps in a sample of a step that took `milliseconds`: about SAMPLE_MS of them."""
    return max(1, min(MAX_STEPS_PER_SAMPLE, math.ceil(SAMPLE_MS / max(milliseconds, 1e-3))))


def timed_ms(step: Callable[[], None], count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        step()
    return (time.perf_counter() - start) * 1000 / count


def serve(describe: Dict[str, object], steps: Dict[str, Callable[[], None]], warmup: int) -> None:
    sizes = {name: 1 for name in steps}
    for _ in range(warmup):
        for name, step in steps.items():
            sizes[name] = steps_per_sample(timed_ms(step, 1))
    print(json.dumps({"ready": True, **describe}), flush=True)
    for line in sys.stdin:
        if line.strip() != "round":
            break
        timings = {}
        for name, step in steps.items():
            timed_ms(step, sizes[name])
            timings[name] = timed_ms(step, sizes[name])
        print(json.dumps(timings), flush=True)


def loaded_blas() -> str:
    """The BLAS shared libraries mapped into this process (Linux), resolved through symlinks."""
    try:
        with open("/proc/self/maps", encoding="utf8") as maps:
            paths = {line.split()[-1] for line in maps if ("blas" in line.lower() or "mkl" in line.lower()) and "/" in line}
    except OSError:
        return "unknown"
    return ", ".join(sorted({os.path.basename(os.path.realpath(path)) for path in paths})) or "none"
