"""Encoding layer against the naive residual formula in NumPy, and its gradients."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seg_common.layers import Encoding
from seg_common.layers.encoding import encode
from tests.oracles import naive_encoding


@pytest.mark.parametrize("num_codes", [4, 32])
@pytest.mark.parametrize("shape", [(2, 5, 7, 6), (3, 11, 6)])
def test_matches_naive_formula(rng, num_codes, shape):
    x = rng.normal(size=shape).astype(np.float32)
    layer = Encoding(num_codes)
    layer.build(x.shape)
    # Spread codewords and use sharp factors so assignments are far from uniform.
    layer.codewords.assign(rng.normal(size=(num_codes, shape[-1])))
    layer.scale.assign(rng.uniform(-1.0, -0.1, num_codes))
    got = np.asarray(layer(x))
    want = naive_encoding(x.reshape(shape[0], -1, shape[-1]).astype(np.float64),
                          layer.codewords.numpy().astype(np.float64),
                          layer.scale.numpy().astype(np.float64))
    assert got.shape == (shape[0], num_codes, shape[-1])
    np.testing.assert_allclose(got, want, atol=2e-4, rtol=1e-4)


def test_initialisation_follows_the_spec(rng):
    layer = Encoding(32)
    layer.build((None, 100, 512))
    bound = 1.0 / np.sqrt(32 * 512)
    codewords = layer.codewords.numpy()
    assert codewords.shape == (32, 512) and layer.scale.shape == (32,)
    assert np.abs(codewords).max() <= bound and np.abs(codewords).max() > 0.9 * bound
    assert np.all(layer.scale.numpy() <= 0) and np.all(layer.scale.numpy() >= -1)
    assert sorted(v.name for v in layer.weights) == ["codewords", "scale"]


def test_gradients_match_finite_differences(rng):
    x = tf.constant(rng.normal(size=(2, 6, 3)), tf.float64)
    codewords = tf.constant(rng.normal(size=(4, 3)), tf.float64)
    scale = tf.constant(rng.uniform(-1.0, -0.2, 4), tf.float64)
    theoretical, numerical = tf.test.compute_gradient(
        encode, [x, codewords, scale], delta=1e-6)
    for t, n in zip(theoretical, numerical):
        np.testing.assert_allclose(t, n, atol=1e-6)


def test_never_builds_a_b_n_k_d_tensor():
    b, n, k, d = 2, 12, 5, 7
    fn = tf.function(encode).get_concrete_function(
        tf.TensorSpec((b, n, d)), tf.TensorSpec((k, d)), tf.TensorSpec((k,)))
    sizes = [np.prod(t.shape) for op in fn.graph.get_operations()
             for t in op.outputs if t.shape.rank is not None]
    assert max(sizes) < b * n * k * d


def test_float32_under_mixed_precision(rng):
    x = rng.normal(size=(2, 4, 4, 8)).astype(np.float32)
    reference = Encoding(4)
    want = np.asarray(reference(x))
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    try:
        layer = Encoding(4)
        layer.build(x.shape)
        layer.set_weights(reference.get_weights())
        got = layer(keras.ops.cast(x, "bfloat16"))
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    assert got.dtype == "float32" and layer.codewords.dtype == "float32"
    # Only the bfloat16 rounding of the input differs.
    np.testing.assert_allclose(np.asarray(got), want, rtol=0.05, atol=0.05)


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_codes"):
        Encoding(0)
    with pytest.raises(ValueError, match="inputs"):
        Encoding(4)(np.zeros((2, 8), np.float32))
