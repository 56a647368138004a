"""MCDropout: statistics of the masks, the sampling switch, batch norm untouched."""

import keras
import numpy as np
import pytest

from seg_common.layers import MCDropout, batch_norm, set_mc_sampling


@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_zero_fraction_and_mean(rate):
    n = 200_000
    y = np.asarray(MCDropout(rate, seed=1)(np.ones((4, n // 4), np.float32),
                                           training=True))
    sigma = np.sqrt(rate * (1 - rate) / n)
    assert abs(np.mean(y == 0) - rate) < 6 * sigma
    kept = y[y != 0]
    np.testing.assert_allclose(kept, 1.0 / (1.0 - rate), rtol=1e-6)
    assert abs(y.mean() - 1.0) < 6 * sigma / (1 - rate)


def test_identity_at_inference_unless_sampling(rng):
    x = rng.normal(size=(3, 50)).astype(np.float32)
    layer = MCDropout(0.5)
    np.testing.assert_array_equal(np.asarray(layer(x)), x)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    layer.sampling = True
    assert np.mean(np.asarray(layer(x, training=False)) == 0) > 0.3


def test_fresh_mask_per_call_and_per_batch_item():
    layer = MCDropout(0.5, sampling=True)
    x = np.ones((2, 1000), np.float32)
    first, second = np.asarray(layer(x)), np.asarray(layer(x))
    assert np.mean(first != second) > 0.3
    assert np.mean(first[0] != first[1]) > 0.3


def test_sampling_leaves_batch_norm_in_inference_mode(rng):
    inputs = keras.Input((6,))
    bn = batch_norm(epsilon=1e-3)
    outputs = MCDropout(0.5)(bn(inputs))
    model = keras.Model(inputs, outputs)
    gamma, beta = rng.uniform(0.5, 2, 6), rng.normal(size=6)
    mean, var = rng.normal(size=6), rng.uniform(0.5, 2, 6)
    bn.set_weights([v.astype(np.float32) for v in (gamma, beta, mean, var)])
    assert set_mc_sampling(model, True) == 1
    x = rng.normal(size=(64, 6)).astype(np.float32)
    y = model.predict(x, verbose=0)
    expected = ((x - mean) / np.sqrt(var + 1e-3) * gamma + beta) / 0.5
    kept = y != 0
    assert 0.35 < kept.mean() < 0.65
    np.testing.assert_allclose(y[kept], expected[kept], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(bn.moving_mean.numpy(), mean, rtol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), var, rtol=1e-6)
    set_mc_sampling(model, False)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected * 0.5,
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, "0.5"])
def test_rate_outside_unit_interval_is_rejected(rate):
    with pytest.raises(ValueError, match="rate"):
        MCDropout(rate)
