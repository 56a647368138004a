"""Re-estimates the batch-norm statistics after training (spec §2.4)."""

import functools

import keras
import numpy as np
import tensorflow as tf

from seg_common.layers import MCDropout


def recompute_bn_statistics(model, dataset, steps=None):
    """Sets every BN layer's moving statistics from a dropout-off pass.

    `Scripts/compute_bn_statistics.py`: the network runs with frozen
    weights, dropout off and batch norm normalising with the statistics of
    each batch; each BN layer gets the average of the per-batch means and
    of the per-batch biased variances times `m / (m - 1)` (m = N*H*W, the
    values per channel in a batch; applied per batch, which is the same
    for equal batches).

    Args:
        model: a functional model of `build_model`.
        dataset: iterable of `images` or `(images, labels)` batches, images
            float32 RGB 0..255 (B, H, W, 3) (e.g. the training split, batch 4).
        steps: batches to use (default: all).

    Returns:
        The number of batches used.

    Example:
    >>> recompute_bn_statistics(model, train_dataset, steps=94)

    Reference: https://arxiv.org/abs/1511.02680
    """
    layers = [layer for layer in model._flatten_layers(include_self=False)
              if isinstance(layer, keras.layers.BatchNormalization)]
    batch_moments = tf.function(
        functools.partial(_batch_moments, model, layers),
        reduce_retracing=True)
    sums = [[0.0, 0.0] for _ in layers]
    count = 0
    for batch in dataset:
        if steps is not None and count >= steps:
            break
        images = batch[0] if isinstance(batch, (tuple, list)) else batch
        moments = batch_moments(tf.convert_to_tensor(images, tf.float32))
        for total, (mean, variance) in zip(sums, moments):
            total[0] += mean.numpy().astype(np.float64)
            total[1] += variance.numpy().astype(np.float64)
        count += 1
    if count == 0:
        raise ValueError("`dataset` gave no batch: cannot compute statistics.")
    for layer, (mean, variance) in zip(layers, sums):
        layer.moving_mean.assign(mean / count)
        layer.moving_variance.assign(variance / count)
    return count


def _batch_moments(model, layers, images):
    """Per-BN-layer (mean, unbiased variance) of one dropout-off,
    batch-statistics forward pass."""
    moments = {}

    def operation_fn(operation):
        if isinstance(operation, MCDropout):
            return lambda x, **kwargs: x
        if isinstance(operation, keras.layers.BatchNormalization):
            return lambda x, **kwargs: _normalise(operation, x, moments)
        return operation

    model._run_through_graph(images, operation_fn=operation_fn)
    return [moments[id(layer)] for layer in layers]


def _normalise(layer, x, moments):
    x = tf.cast(x, tf.float32)
    mean, variance = tf.nn.moments(x, axes=[0, 1, 2])
    m = tf.cast(tf.reduce_prod(tf.shape(x)[:3]), tf.float32)
    moments[id(layer)] = (mean, variance * m / tf.maximum(m - 1.0, 1.0))
    return tf.nn.batch_normalization(
        x, mean, variance, layer.beta, layer.gamma, layer.epsilon)
