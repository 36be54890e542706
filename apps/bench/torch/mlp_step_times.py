"""SGD and SAM step times of the benchmark MLP in PyTorch, one thread.

The same shapes and the same step as `pnpm bench perf` times in TF.js:
784 -> width (no bias) -> gain (a norm-like per-feature scale) -> relu ->
width -> relu -> 10, mean softmax cross-entropy, plain SGD; SAM as in
davda54/sam (ascent to w + rho g/||g||, gradient there, back to w, base step).
Prints one JSON line: {"sgd_ms": median, "sam_ms": median, "torch": version,
"blas": the BLAS library the process loaded}. Debian's torch calls whatever
libblas.so.3 the alternatives system points to: the reference BLAS is ~30x
slower than OpenBLAS (apt-get install libopenblas0-pthread).
"""
import argparse
import json
import statistics
import time

import torch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rho", type=float, default=0.05)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)

    class Mlp(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.first = torch.nn.Linear(784, args.width, bias=False)
            self.gain = torch.nn.Parameter(torch.ones(args.width))
            self.hidden = torch.nn.Linear(args.width, args.width, bias=False)
            self.readout = torch.nn.Linear(args.width, 10, bias=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = torch.relu(self.first(x) * self.gain)
            return self.readout(torch.relu(self.hidden(h)))

    x = torch.randn(args.batch, 784)
    y = torch.randint(0, 10, (args.batch,))
    models = [Mlp(), Mlp()]
    optimizers = [torch.optim.SGD(model.parameters(), lr=1e-4) for model in models]

    def sgd_step() -> None:
        model, optimizer = models[0], optimizers[0]
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()

    def sam_step() -> None:
        model, optimizer = models[1], optimizers[1]
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        params = [p for p in model.parameters() if p.grad is not None]
        with torch.no_grad():
            norm = torch.norm(torch.stack([p.grad.norm(p=2) for p in params]), p=2)
            scale = args.rho / (norm + 1e-12)
            perturbations = []
            for p in params:
                e = p.grad * scale
                p.add_(e)
                perturbations.append(e)
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        with torch.no_grad():
            for p, e in zip(params, perturbations):
                p.sub_(e)
        optimizer.step()

    steps = {"sgd": sgd_step, "sam": sam_step}
    for _ in range(args.warmup):
        for step in steps.values():
            step()
    samples = {name: [] for name in steps}
    for _ in range(args.rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            samples[name].append((time.perf_counter() - start) * 1000)
    print(json.dumps({
        "sgd_ms": statistics.median(samples["sgd"]),
        "sam_ms": statistics.median(samples["sam"]),
        "torch": torch.__version__,
        "blas": loaded_blas(),
    }))


def loaded_blas() -> str:
    """The BLAS shared libraries mapped into this process (Linux), resolved through symlinks."""
    import os
    try:
        with open("/proc/self/maps", encoding="utf8") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line}
    except OSError:
        return "unknown"
    return ", ".join(sorted({os.path.realpath(path) for path in paths})) or "none"


if __name__ == "__main__":
    main()
