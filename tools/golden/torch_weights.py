"""Deterministic weights for a PyTorch state dict, drawn from its names alone.

The golden files of `tests/golden/` store the official model's outputs and
its parameter manifest (names, shapes), not its weights. The generator and
the tests both call `draw(name, shape, seed)` for every entry, so the tests
rebuild the exact state dict the official model ran with, without the
official code. numpy only: importing this never needs torch.

Each tensor gets its own generator, seeded from `seed` and the CRC-32 of its
name, so a draw never depends on the order or set of other names. Draws are
scaled per kind so activations stay O(1) through a deep network:

| name ends with / shape | draw |
|---|---|
| `running_mean` | N(0, 0.1) |
| `running_var` | U(0.5, 1.5) |
| `num_batches_tracked` | 0 (int64) |
| `codewords` (K, D) | U(-1/sqrt(K D), 1/sqrt(K D)) (Encoding init) |
| `scale` (K,) | U(-1, 0) (Encoding init) |
| `weight`, 1-D (batch-norm gamma) | U(0.5, 1.5) |
| `weight`, (out, in, kh, kw) conv | N(0, sqrt(2 / (in kh kw))) |
| `weight`, (out, in) linear | N(0, sqrt(1 / in)) |
| `bias` (batch-norm beta, conv, linear) | N(0, 0.1) |

Example:
>>> draw("conv1.0.weight", (64, 3, 3, 3), seed=0).std() < 0.5
True
"""

import zlib

import numpy as np


def _generator(name, seed):
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def draw(name, shape, seed):
    """The value of state-dict entry `name`.

    Args:
        name: the official state-dict key, e.g. `"head.conv5.1.running_var"`.
        shape: its shape.
        seed: an integer shared by all entries of one golden file.

    Returns:
        A float32 array of `shape` (int64 for `num_batches_tracked`).

    Raises:
        ValueError: a name/shape of no known kind.
    """
    shape = tuple(int(d) for d in shape)
    leaf = name.rsplit(".", 1)[-1]
    if leaf == "num_batches_tracked":
        return np.zeros(shape, np.int64)
    rng = _generator(name, seed)
    if leaf in ("running_mean", "bias"):
        value = rng.normal(0.0, 0.1, shape)
    elif leaf == "running_var" or (leaf == "weight" and len(shape) == 1):
        value = rng.uniform(0.5, 1.5, shape)
    elif leaf == "codewords" and len(shape) == 2:
        bound = 1.0 / np.sqrt(shape[0] * shape[1])
        value = rng.uniform(-bound, bound, shape)
    elif leaf == "scale" and len(shape) == 1:
        value = rng.uniform(-1.0, 0.0, shape)
    elif leaf == "weight" and len(shape) in (2, 4):
        fan_in = int(np.prod(shape[1:]))
        gain = 2.0 if len(shape) == 4 else 1.0
        value = rng.normal(0.0, np.sqrt(gain / fan_in), shape)
    else:
        raise ValueError(f"No draw rule for {name!r} of shape {shape}.")
    return value.astype(np.float32)


def draw_state(manifest, seed):
    """`{name: draw(name, shape, seed)}` for `(name, shape)` pairs, in order."""
    return {name: draw(name, shape, seed) for name, shape in manifest}
