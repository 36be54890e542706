"""SGD-momentum and SAM step times of the benchmark MLP in JAX + optax (jit), as a perf peer.

The same MLP and loss as torch_mlp_steps.py. Each step is one jitted function with its
parameter and optimizer-state buffers donated, as a JAX training loop would write it. SAM
is the two-pass step of google-research/sam (and optax.contrib.sam with sync_period 1):
g = grad at w, eps = rho g/||g||, g' = grad at w + eps, optax.sgd(momentum 0.9) applies g'.
Threads: XLA sizes its CPU pool from the cores this process may run on (pin_threads).
Speaks peer_protocol.py.
"""
import argparse

from peer_protocol import pin_threads, serve


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rho", type=float, default=0.05)
    args = parser.parse_args()
    pin_threads(args.threads)
    import jax
    import jax.numpy as jnp
    import optax

    keys = jax.random.split(jax.random.PRNGKey(0), 5)

    def init(key_first, key_hidden, key_readout):
        # PyTorch Linear's default init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        def uniform(key, fan_in, fan_out):
            bound = 1 / fan_in**0.5
            return jax.random.uniform(key, (fan_in, fan_out), minval=-bound, maxval=bound)

        return {
            "first": uniform(key_first, 784, args.width),
            "gain": jnp.ones(args.width),
            "hidden": uniform(key_hidden, args.width, args.width),
            "readout": uniform(key_readout, args.width, 10),
        }

    def loss(params, x, y):
        h = jax.nn.relu((x @ params["first"]) * params["gain"])
        logits = jax.nn.relu(h @ params["hidden"]) @ params["readout"]
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))

    optimizer = optax.sgd(1e-4, momentum=0.9)
    x = jax.random.normal(keys[3], (args.batch, 784))
    y = jax.random.randint(keys[4], (args.batch,), 0, 10)

    def sgd_update(params, state):
        updates, state = optimizer.update(jax.grad(loss)(params, x, y), state, params)
        return optax.apply_updates(params, updates), state

    def sam_update(params, state):
        gradient = jax.grad(loss)(params, x, y)
        scale = args.rho / (optax.global_norm(gradient) + 1e-12)
        perturbed = jax.tree.map(lambda w, g: w + scale * g, params, gradient)
        updates, state = optimizer.update(jax.grad(loss)(perturbed, x, y), state, params)
        return optax.apply_updates(params, updates), state

    jitted = {
        "sgd": jax.jit(sgd_update, donate_argnums=(0, 1)),
        "sam": jax.jit(sam_update, donate_argnums=(0, 1)),
    }
    states = {}
    for name in jitted:
        params = init(*keys[:3])
        states[name] = (params, optimizer.init(params))

    def step(name):
        def run() -> None:
            params, state = jitted[name](*states[name])
            jax.block_until_ready(params)
            states[name] = (params, state)

        return run

    serve(
        {"framework": "JAX + optax", "version": f"jax {jax.__version__}, optax {optax.__version__}", "threads": args.threads},
        {name: step(name) for name in jitted},
        args.warmup,
    )


if __name__ == "__main__":
    main()
