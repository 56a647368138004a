"""Times full-network MC sampling against the fast path (`benchmark.py --mc_samples`)."""

import time

import numpy as np

from bayesian_segnet_tf.inference import MonteCarloSampler
from bayesian_segnet_tf.mc_graph import split_at_dropout
from bayesian_segnet_tf.model import build_model
from seg_common.benchmarking import conv_multiply_adds


def benchmark_mc(arch="segnet", dropout="central", image_size=(360, 480),
                 num_samples=50, chunk_size=10, repeats=3):
    """Times `num_samples` MC samples of one image, full passes vs fast path.

    Runs side by side in one process: float32 full passes (the paper's
    method), the shared-prefix path in float32 and in mixed bfloat16. The
    modes are traced first (one sample each), then interleaved, and each
    figure is the best of `repeats` runs; load from other processes only
    makes figures worse.

    Args:
        arch, dropout: the `build_model` settings.
        image_size: (H, W).
        num_samples: T.
        chunk_size: samples per batch.
        repeats: timed runs per mode.

    Returns:
        dict: `seconds` per mode ("full_float32", "fast_float32",
        "fast_bfloat16"), `speedup` of each mode over "full_float32",
        `prefix_bound` (total / stochastic-suffix multiply-adds: the most
        the shared prefix alone can gain), `multiply_adds` per pass.
    """
    model = build_model(arch=arch, dropout=dropout,
                        input_shape=(*image_size, 3))
    _, suffix, _ = split_at_dropout(model)
    total = conv_multiply_adds(model)
    image = np.random.default_rng(0).uniform(
        0, 255, (1, *image_size, 3)).astype(np.float32)
    modes = {"full_float32": (False, "float32"),
             "fast_float32": (True, "float32"),
             "fast_bfloat16": (True, "bfloat16")}
    samplers = {name: MonteCarloSampler(model, num_samples, chunk_size,
                                        shared, dtype)
                for name, (shared, dtype) in modes.items()}
    for sampler in samplers.values():
        sampler.warm_up(image)  # traces every chunk size
    seconds = {name: float("inf") for name in modes}
    for _ in range(repeats):  # interleaved, so load drifts hit every mode
        for name, sampler in samplers.items():
            start = time.perf_counter()
            sampler(image)
            seconds[name] = min(seconds[name], time.perf_counter() - start)
    return {
        "seconds": seconds,
        "speedup": {k: seconds["full_float32"] / v for k, v in seconds.items()},
        "prefix_bound": total / conv_multiply_adds(suffix),
        "multiply_adds": total,
    }
