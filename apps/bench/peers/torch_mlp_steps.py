"""SGD-momentum and SAM step times of the benchmark MLP in PyTorch, as a perf peer.

The same shapes and the same step as `pnpm bench perf` times in TF.js: 784 -> width
(no bias) -> gain (a norm-like per-feature scale) -> relu -> width -> relu -> 10, mean
softmax cross-entropy, SGD with momentum 0.9; SAM as in davda54/sam (ascent to
w + rho g/||g||, gradient there, back to w, base step). Speaks peer_protocol.py.
Debian's torch calls whatever libblas.so.3 the alternatives system points to: the
reference BLAS is ~30x slower than OpenBLAS (apt-get install libopenblas0-pthread).
"""
import argparse
import re

from peer_protocol import loaded_blas, pin_threads, serve


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rho", type=float, default=0.05)
    args = parser.parse_args()
    pin_threads(args.threads)
    import torch

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
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
    optimizers = [torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9) for model in models]

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

    blas = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
    serve(
        {
            "framework": "PyTorch",
            "version": torch.__version__,
            "threads": torch.get_num_threads(),
            "blas": blas.group(1) if blas else loaded_blas(),
        },
        {"sgd": sgd_step, "sam": sam_step},
        args.warmup,
    )


if __name__ == "__main__":
    main()
