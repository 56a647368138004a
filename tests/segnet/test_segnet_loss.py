"""build_loss against the reference softmax_loss, hand-built case."""

import numpy as np
import pytest
import tensorflow as tf

from bayesian_segnet_tf import Config, build_loss
from bayesian_segnet_tf.config import PROTOTXT_CLASS_WEIGHTS


def _numpy_loss(labels, logits, weights, ignore=255):
    z = logits - logits.max(-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(-1, keepdims=True))
    valid = labels != ignore
    safe = np.where(valid, labels, 0)
    ce = -np.take_along_axis(log_p, safe[..., None], -1)[..., 0]
    return (np.asarray(weights)[safe] * ce)[valid].sum() / valid.sum()


def test_weighted_loss_divides_by_pixel_count_not_weight_sum(rng):
    labels = rng.integers(0, 11, (2, 3, 4))
    labels[0, 0] = 255  # void
    logits = rng.normal(size=(2, 3, 4, 11)).astype(np.float32)
    loss = build_loss(Config())(tf.constant(labels, tf.int32),
                                {"logits": tf.constant(logits)})["loss"]
    want = _numpy_loss(labels, logits, PROTOTXT_CLASS_WEIGHTS)
    assert float(loss) == pytest.approx(want, rel=1e-5)


def test_known_value_two_pixels():
    # Uniform logits: CE = log 3 per pixel; weights 1 and 3, one void pixel:
    # (1 + 3) * log 3 / 2 (the sum-of-weights rule would give log 3).
    config = Config(num_classes=3, class_weights=(1.0, 3.0, 5.0))
    labels = tf.constant([[[0, 1, 255]]], tf.int32)
    logits = tf.zeros((1, 1, 3, 3))
    loss = build_loss(config)(labels, {"logits": logits})["loss"]
    assert float(loss) == pytest.approx(2 * np.log(3), rel=1e-6)


def test_explicit_weights_override_and_length_check():
    config = Config(num_classes=2, class_weights=None)
    labels = tf.constant([[[0, 1]]], tf.int32)
    logits = tf.zeros((1, 1, 2, 2))
    loss = build_loss(config, class_weights=(2.0, 0.0))(
        labels, {"logits": logits})["loss"]
    assert float(loss) == pytest.approx(np.log(2), rel=1e-6)
    with pytest.raises(ValueError, match="class_weights"):
        build_loss(config, class_weights=(1.0, 2.0, 3.0))
