"""Deterministic weights for golden tests, drawn from a seed and a variable's name.

The golden generators (run by hand against the official code) and the tests
(run in CI without it) must assign the same numbers to the same variable.
Each variable gets its own NumPy generator seeded from `(seed, crc32(name))`,
so the values depend on nothing but the seed, the official variable name and
the shape: not on the order in which variables are created, nor on the
framework.

Scales keep activations moderate through deep residual networks in eval
mode, where the drawn BN statistics do not normalise anything: convolution
kernels LeCun-normal (std sqrt(1 / fan_in): a ReLU then halves the second
moment, so a residual branch adds a fraction of its input; He's sqrt(2 /
fan_in) doubles it per block, ~1e12 after Xception-65's middle flow), biases
and BN offsets N(0, 0.1), BN scales and variances U(0.5, 1.5).

Example:
>>> w = draw("aspp0/weights", (1, 1, 2048, 256), "kernel", seed=0, fan_in=2048)
>>> w.dtype, w.shape
(dtype('float32'), (1, 1, 2048, 256))
"""

import zlib

import numpy as np

KINDS = ("kernel", "bias", "gamma", "beta", "mean", "variance")


def draw(name, shape, kind, seed, fan_in=None):
    """The float32 values of one variable.

    Args:
        name: the variable's official name (seeds its generator).
        shape: its shape.
        kind: one of `KINDS`: `"kernel"` (N(0, 1 / fan_in), needs `fan_in`),
            `"bias"`, `"beta"`, `"mean"` (N(0, 0.1)), `"gamma"`,
            `"variance"` (U(0.5, 1.5)).
        seed: int, the golden file's seed.
        fan_in: inputs per output of a kernel (kernel h * w * input channels;
            h * w for a depthwise kernel).

    Returns:
        float32 array of `shape`.

    Raises:
        ValueError: unknown kind, or a kernel without `fan_in`.
    """
    rng = np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])
    shape = tuple(int(d) for d in shape)
    if kind == "kernel":
        if not fan_in:
            raise ValueError(f"kernel {name!r} needs fan_in")
        values = rng.normal(0.0, np.sqrt(1.0 / fan_in), shape)
    elif kind in ("bias", "beta", "mean"):
        values = rng.normal(0.0, 0.1, shape)
    elif kind in ("gamma", "variance"):
        values = rng.uniform(0.5, 1.5, shape)
    else:
        raise ValueError(f"unknown kind {kind!r} for {name!r}; one of {KINDS}")
    return values.astype(np.float32)


_TF1_KINDS = {"gamma": "gamma", "beta": "beta", "moving_mean": "mean",
              "moving_variance": "variance", "biases": "bias"}


def draw_tf1(name, shape, seed):
    """`draw` for a TF1/slim variable, its kind and fan-in read from the name.

    Args:
        name: slim name, e.g. `.../weights` (HWIO kernel),
            `.../depthwise_weights` (HWC1), `.../biases`,
            `.../BatchNorm/{gamma,beta,moving_mean,moving_variance}`.
        shape: its shape.
        seed: int.

    Returns:
        float32 array of `shape`.

    Raises:
        ValueError: a name of none of these kinds.
    """
    leaf = name.rsplit("/", 1)[-1]
    if leaf == "depthwise_weights":
        return draw(name, shape, "kernel", seed, fan_in=shape[0] * shape[1])
    if leaf == "weights":
        return draw(name, shape, "kernel", seed, fan_in=int(np.prod(shape[:-1])))
    if leaf in _TF1_KINDS:
        return draw(name, shape, _TF1_KINDS[leaf], seed)
    raise ValueError(f"no golden weight kind for TF1 variable {name!r}")
