"""LRN and the channel flip against NumPy oracles."""

import keras
import numpy as np
import pytest

from bayesian_segnet_tf.layers import LocalResponseNormalization


def caffe_lrn(x, size=5, alpha=1e-4, beta=0.75, k=1.0):
    """Caffe ACROSS_CHANNELS LRN: x / (k + alpha/size * sum_window x^2)^beta."""
    c = x.shape[-1]
    out = np.empty_like(x, dtype=np.float64)
    for ch in range(c):
        lo, hi = max(0, ch - size // 2), min(c, ch + size // 2 + 1)
        scale = k + alpha / size * np.sum(x[..., lo:hi].astype(np.float64)**2,
                                          -1)
        out[..., ch] = x[..., ch] / scale**beta
    return out


@pytest.mark.parametrize("channels,size", [(3, 5), (8, 5), (6, 3)])
def test_lrn_matches_caffe(rng, channels, size):
    x = rng.uniform(0, 255, (2, 5, 7, channels)).astype(np.float32)
    got = LocalResponseNormalization(size=size)(x)
    np.testing.assert_allclose(np.asarray(got), caffe_lrn(x, size), rtol=1e-5)


def test_lrn_known_value():
    # One pixel (255, 0, 0): y0 = 255 / (1 + 1e-4 / 5 * 255^2)^0.75.
    x = np.array([[[[255.0, 0.0, 0.0]]]], np.float32)
    got = np.asarray(LocalResponseNormalization()(x))[0, 0, 0, 0]
    assert got == pytest.approx(255.0 / (1 + 1e-4 / 5 * 255.0**2)**0.75)


def test_lrn_rejects_even_size():
    with pytest.raises(ValueError, match="size"):
        LocalResponseNormalization(size=4)


@pytest.mark.parametrize("layer", [
    LocalResponseNormalization(size=3, alpha=2e-4, beta=0.5, k=2.0)])
def test_get_config_round_trip(layer):
    clone = layer.__class__.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert keras.saving.get_registered_object(
        keras.saving.get_registered_name(layer.__class__)) is layer.__class__
