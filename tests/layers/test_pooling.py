"""MaxPoolWithArgmax2D / MaxUnpool2D against a NumPy pool + unpool oracle."""

import numpy as np
import pytest
import tensorflow as tf

from seg_common.layers import MaxPoolWithArgmax2D, MaxUnpool2D
from seg_common.layers.pooling import max_pool_with_argmax


def numpy_pool_unpool(x):
    """Ceil-mode 2x2/2 max pool, first max in raster order, batch-inclusive indices."""
    b, h, w, c = x.shape
    ho, wo = -(-h // 2), -(-w // 2)
    values = np.zeros((b, ho, wo, c), x.dtype)
    indices = np.zeros((b, ho, wo, c), np.int64)
    unpooled = np.zeros_like(x)
    for n in range(b):
        for i in range(ho):
            for j in range(wo):
                for ch in range(c):
                    best = None
                    for y in range(2 * i, min(2 * i + 2, h)):
                        for xx in range(2 * j, min(2 * j + 2, w)):
                            if best is None or x[n, y, xx, ch] > x[n, best[0], best[1], ch]:
                                best = (y, xx)
                    values[n, i, j, ch] = x[n, best[0], best[1], ch]
                    indices[n, i, j, ch] = ((n * h + best[0]) * w + best[1]) * c + ch
                    unpooled[n, best[0], best[1], ch] = values[n, i, j, ch]
    return values, indices, unpooled


def _inputs(rng, shape, ties):
    if not ties:
        return rng.normal(size=shape).astype(np.float32)
    # Post-ReLU style data: many all-zero windows and repeated maxima.
    return np.maximum(rng.integers(-3, 2, size=shape), 0).astype(np.float32)


@pytest.mark.parametrize("shape", [(2, 45, 60, 3), (1, 8, 6, 2), (2, 7, 9, 1),
                                   (1, 1, 1, 2)])
@pytest.mark.parametrize("ties", [False, True])
def test_pool_and_unpool_match_numpy(rng, shape, ties):
    x = _inputs(rng, shape, ties)
    values, indices = MaxPoolWithArgmax2D()(x)
    unpooled = MaxUnpool2D()([values, indices, x])
    want_values, want_indices, want_unpooled = numpy_pool_unpool(x)
    assert indices.dtype == tf.int64
    np.testing.assert_array_equal(np.asarray(values), want_values)
    np.testing.assert_array_equal(np.asarray(indices), want_indices)
    np.testing.assert_array_equal(np.asarray(unpooled), want_unpooled)


def test_45_to_23_and_back_to_45(rng):
    x = rng.normal(size=(1, 45, 45, 4)).astype(np.float32)
    values, indices = MaxPoolWithArgmax2D()(x)
    assert values.shape == (1, 23, 23, 4)
    assert MaxUnpool2D()([values, indices, x]).shape == (1, 45, 45, 4)


def test_gradients_reach_only_the_indexed_positions(rng):
    x = tf.constant(rng.normal(size=(2, 5, 6, 3)).astype(np.float32))
    weights = tf.constant(rng.normal(size=(2, 5, 6, 3)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        values, indices = MaxPoolWithArgmax2D()(x)
        y = MaxUnpool2D()([values, indices, x])
        loss = tf.reduce_sum(y * weights)
    grad = tape.gradient(loss, x).numpy()
    _, _, unpooled = numpy_pool_unpool(x.numpy())
    mask = np.zeros(x.shape, bool)
    mask.reshape(-1)[numpy_pool_unpool(x.numpy())[1].reshape(-1)] = True
    np.testing.assert_allclose(grad[mask], weights.numpy()[mask])
    assert np.all(grad[~mask] == 0)
    assert np.array_equal(unpooled != 0, mask & (x.numpy() != 0))


def test_unpool_rejects_non_int64_indices(rng):
    x = rng.normal(size=(1, 4, 4, 1)).astype(np.float32)
    values, indices = MaxPoolWithArgmax2D()(x)
    with pytest.raises(ValueError, match="indices"):
        MaxUnpool2D()([values, tf.cast(indices, tf.int32), x])


def test_pool_rejects_wrong_rank():
    with pytest.raises(ValueError, match="inputs"):
        MaxPoolWithArgmax2D()(np.zeros((4, 4, 1), np.float32))


@pytest.mark.parametrize("dtype", [tf.float32, tf.bfloat16])
def test_pool_equals_tf_max_pool_with_argmax(rng, dtype):
    x = tf.cast(_inputs(rng, (2, 9, 12, 5), ties=True) +
                _inputs(rng, (2, 9, 12, 5), ties=False) * 0.1, dtype)
    values, indices = max_pool_with_argmax(x)
    want_values, want_indices = tf.nn.max_pool_with_argmax(
        x, 2, 2, "SAME", output_dtype=tf.int64, include_batch_in_index=True)
    assert values.dtype == dtype
    np.testing.assert_array_equal(np.asarray(tf.cast(values, tf.float32)),
                                  tf.cast(want_values, tf.float32).numpy())
    np.testing.assert_array_equal(np.asarray(indices), want_indices.numpy())
