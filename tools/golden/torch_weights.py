"""`tools.golden.weights.draw` for the entries of a PyTorch state dict.

The PyTorch-Encoding golden files store the official model's outputs and
its state-dict manifest (keys, shapes), not its weights: the generator and
the tests both fill every key with `draw_torch(key, shape, seed)`, so the
tests rebuild the exact state dict the official model ran with, without the
official code. numpy only: importing this never needs torch.

| key ends with / shape | `weights.draw` kind |
|---|---|
| `weight`, (out, in, kh, kw) conv / (out, in) linear | `"kernel"`, fan-in in*kh*kw / in |
| `weight`, 1-D (batch-norm scale) | `"gamma"` |
| `bias` (batch norm, conv, linear) | `"bias"` |
| `running_mean`, `running_var` | `"mean"`, `"variance"` |
| `num_batches_tracked` | 0 (int64) |
| `codewords` (K, D), `scale` (K,) of an Encoding layer | its own init ranges U(-1/sqrt(K D), 1/sqrt(K D)), U(-1, 0), as affine maps of a `"gamma"` draw, U(0.5, 1.5) |

Example:
>>> draw_torch("head.encmodule.encoding.3.scale", (32,), seed=0).max() <= 0
True
"""

import hashlib

import numpy as np

from tools.golden.weights import draw

_KINDS = {"bias": "bias", "running_mean": "mean", "running_var": "variance"}


def draw_torch(key, shape, seed):
    """The value of state-dict entry `key`.

    Args:
        key: the official state-dict key, e.g. `"head.conv5.1.running_var"`.
        shape: its shape.
        seed: an integer shared by all entries of one golden file.

    Returns:
        A float32 array of `shape` (int64 zeros for `num_batches_tracked`).

    Raises:
        ValueError: a key/shape of no known kind.
    """
    shape = tuple(int(d) for d in shape)
    leaf = key.rsplit(".", 1)[-1]
    if leaf == "num_batches_tracked":
        return np.zeros(shape, np.int64)
    if leaf in _KINDS:
        return draw(key, shape, _KINDS[leaf], seed)
    if leaf == "weight" and len(shape) == 1:
        return draw(key, shape, "gamma", seed)
    if leaf == "weight" and len(shape) in (2, 4):
        return draw(key, shape, "kernel", seed, fan_in=int(np.prod(shape[1:])))
    if leaf == "codewords" and len(shape) == 2:
        bound = 1.0 / np.sqrt(shape[0] * shape[1])
        unit = draw(key, shape, "gamma", seed) - 1.0        # U(-0.5, 0.5)
        return (2.0 * bound * unit).astype(np.float32)
    if leaf == "scale" and len(shape) == 1:
        return draw(key, shape, "gamma", seed) - np.float32(1.5)
    raise ValueError(f"no golden weight kind for state-dict key {key!r} "
                     f"of shape {shape}")


def draw_state(manifest, seed):
    """`{key: draw_torch(key, shape, seed)}` for `(key, shape)` pairs."""
    return {key: draw_torch(key, shape, seed) for key, shape in manifest}


def fingerprint(state):
    """SHA-256 (hex) of the keys and values of `state`, in order: stored in a
    golden file, it tells whether `draw_state` still gives its weights."""
    digest = hashlib.sha256()
    for key, value in state.items():
        digest.update(key.encode("utf-8"))
        digest.update(np.ascontiguousarray(value).tobytes())
    return digest.hexdigest()
