"""seg_common.losses against NumPy oracles."""

import numpy as np
import pytest

from seg_common import losses


def _numpy_masked_ce(labels, logits, ignore_label, weights=None):
    logits = logits.astype(np.float64)
    logp = logits - logits.max(-1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(-1, keepdims=True))
    total, count = 0.0, 0
    for idx in np.ndindex(labels.shape):
        y = labels[idx]
        if y == ignore_label:
            continue
        w = 1.0 if weights is None else weights[y]
        total += -w * logp[idx + (y,)]
        count += 1
    return total / count if count else 0.0


@pytest.mark.parametrize("use_weights", [False, True])
def test_masked_cross_entropy_matches_numpy(use_weights):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 5, 4, 3)).astype(np.float32) * 3
    labels = rng.integers(0, 3, size=(2, 5, 4)).astype(np.int32)
    labels[0, :2] = 255
    weights = [0.5, 2.0, 1.5] if use_weights else None
    got = losses.masked_cross_entropy(labels, logits, 255, weights)
    want = _numpy_masked_ce(labels, logits, 255, weights)
    np.testing.assert_allclose(float(got), want, rtol=1e-5)


def test_masked_cross_entropy_all_ignored_is_zero():
    labels = np.full((1, 2, 2), 255, np.int32)
    logits = np.ones((1, 2, 2, 4), np.float32)
    assert float(losses.masked_cross_entropy(labels, logits)) == 0.0


def test_masked_cross_entropy_uniform_logits_is_log_c():
    labels = np.zeros((1, 3, 3), np.int32)
    logits = np.zeros((1, 3, 3, 5), np.float16)
    got = losses.masked_cross_entropy(labels, logits)
    np.testing.assert_allclose(float(got), np.log(5.0), rtol=1e-6)


def test_median_frequency_weights_hand_computed():
    # image A: 6 px of class 0, 2 of class 1; image B: 4 px of 0, 4 ignored.
    a = np.array([[0, 0, 0, 0], [0, 0, 1, 1]])
    b = np.array([[0, 0, 0, 0], [255, 255, 255, 255]])
    class_px, image_px = losses.class_pixel_counts([a[None], b[None]], 3)
    np.testing.assert_array_equal(class_px, [10, 2, 0])
    np.testing.assert_array_equal(image_px, [12, 8, 0])
    weights = losses.median_frequency_weights(class_px, image_px)
    freq = np.array([10 / 12, 2 / 8])
    median = np.median(freq)
    np.testing.assert_allclose(weights, [median / freq[0], median / freq[1], 0])


def test_median_frequency_weights_rejects_empty():
    with pytest.raises(ValueError, match="No labelled pixel"):
        losses.median_frequency_weights([0, 0], [0, 0])
