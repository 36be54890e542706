"""The round protocol the perf command drives its peers with (apps/bench/src/perf/peer-process.ts).

A peer builds its model and optimizers, runs the warm-up, and prints one JSON line
describing itself ({"ready": true, ...}). Then, for each line "round" on stdin, it times
every step kind once, in order, and prints {"sgd": ms, "sam": ms}. EOF or "exit" ends it.
The driver sends rounds to every peer in turn, so all of them see the same machine load.
"""
import json
import os
import sys
import time
from typing import Callable, Dict


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


def serve(describe: Dict[str, object], steps: Dict[str, Callable[[], None]], warmup: int) -> None:
    for _ in range(warmup):
        for step in steps.values():
            step()
    print(json.dumps({"ready": True, **describe}), flush=True)
    for line in sys.stdin:
        if line.strip() != "round":
            break
        timings = {}
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            timings[name] = (time.perf_counter() - start) * 1000
        print(json.dumps(timings), flush=True)


def loaded_blas() -> str:
    """The BLAS shared libraries mapped into this process (Linux), resolved through symlinks."""
    try:
        with open("/proc/self/maps", encoding="utf8") as maps:
            paths = {line.split()[-1] for line in maps if ("blas" in line.lower() or "mkl" in line.lower()) and "/" in line}
    except OSError:
        return "unknown"
    return ", ".join(sorted({os.path.basename(os.path.realpath(path)) for path in paths})) or "none"
