"""EncNet loss: SE targets on a hand-built case, terms against NumPy formulas."""

import numpy as np
import pytest
import tensorflow as tf

import encnet_tf
from encnet_tf.loss import se_loss, se_targets

IGN = 255


def _hand_labels():
    """Two 3x4 label maps over 5 classes with ignore pixels.

    Image 0 holds classes 0, 3 (+ ignore); image 1 holds 1, 4 and only
    ignore where class 2 might have been. Class 2 never occurs.
    """
    return np.array([
        [[0, 0, IGN, 3], [3, 3, IGN, IGN], [0, 0, 0, 0]],
        [[IGN, IGN, IGN, IGN], [1, 1, 4, IGN], [IGN, 4, 4, 4]],
    ], np.int32)


def test_se_targets_hand_built_with_ignore():
    want = np.array([[1, 0, 0, 1, 0], [0, 1, 0, 0, 1]], np.float32)
    got = se_targets(tf.constant(_hand_labels()), 5, IGN)
    np.testing.assert_array_equal(np.asarray(got), want)


def test_se_targets_all_ignored_image_has_no_class():
    labels = np.full((2, 2, 2), IGN, np.int32)
    labels[1, 0, 0] = 2
    got = np.asarray(se_targets(tf.constant(labels), 3, IGN))
    np.testing.assert_array_equal(got, [[0, 0, 0], [0, 0, 1]])


def test_se_targets_rejects_labels_beyond_num_classes():
    labels = _hand_labels()
    labels[0, 0, 0] = 7
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_classes=5"):
        se_targets(tf.constant(labels), 5, IGN)


def test_se_targets_builds_no_one_hot():
    """The traced graph holds no tensor of B*H*W*C elements."""
    fn = tf.function(lambda y: se_targets(y, 150, IGN)).get_concrete_function(
        tf.TensorSpec((4, 32, 32), tf.int32))
    sizes = [np.prod(t.shape.as_list()) for op in fn.graph.get_operations()
             for t in op.outputs if t.shape.is_fully_defined()]
    assert max(sizes) < 4 * 32 * 32 * 150 / 10


def test_se_loss_is_mean_binary_cross_entropy(rng):
    logits = rng.normal(size=(2, 5)).astype(np.float32)
    t = np.array([[1, 0, 0, 1, 0], [0, 1, 0, 0, 1]], np.float64)
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    want = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    got = se_loss(tf.constant(_hand_labels()), logits, IGN)
    np.testing.assert_allclose(float(got), want, rtol=1e-5)


def _masked_ce(labels, logits):
    valid = labels != IGN
    z = logits - logits.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    picked = np.take_along_axis(logp, np.where(valid, labels, 0)[..., None], -1)
    return -picked[..., 0][valid].mean()


def _bce(labels, logits):
    t = np.asarray(se_targets(tf.constant(labels), logits.shape[-1], IGN))
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    return -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))


def test_total_loss_weights_the_terms(rng):
    config = encnet_tf.Config(num_classes=5, aux_head=True,
                              se_loss_weight=0.2, aux_weight=0.4)
    labels = _hand_labels()
    outputs = {
        "logits": rng.normal(size=(2, 3, 4, 5)).astype(np.float32),
        "aux_logits": rng.normal(size=(2, 3, 4, 5)).astype(np.float32),
        "se_logits_stage4": rng.normal(size=(2, 5)).astype(np.float32),
        "se_logits_stage3": rng.normal(size=(2, 5)).astype(np.float32),
    }
    terms = encnet_tf.build_loss(config)(tf.constant(labels), outputs)
    seg = _masked_ce(labels, outputs["logits"])
    aux = _masked_ce(labels, outputs["aux_logits"])
    se4 = _bce(labels, outputs["se_logits_stage4"])
    se3 = _bce(labels, outputs["se_logits_stage3"])
    want = {"seg_loss": seg, "aux_loss": aux, "se_loss_stage4": se4,
            "se_loss_stage3": se3, "loss": seg + 0.2 * (se4 + se3) + 0.4 * aux}
    assert set(terms) == set(want)
    for key, value in want.items():
        np.testing.assert_allclose(float(terms[key]), value, rtol=1e-5)


def test_fcn_loss_is_the_segmentation_term_only(rng):
    config = encnet_tf.PRESETS["fcn_pascal_context"]
    labels = rng.integers(0, 59, (1, 2, 3)).astype(np.int32)
    logits = rng.normal(size=(1, 2, 3, 59)).astype(np.float32)
    terms = encnet_tf.build_loss(config)(tf.constant(labels),
                                         {"logits": logits})
    assert set(terms) == {"loss", "seg_loss"}
    np.testing.assert_allclose(float(terms["loss"]), _masked_ce(labels, logits),
                               rtol=1e-5)


def test_class_count_mismatch_names_the_values(rng):
    loss_fn = encnet_tf.build_loss(encnet_tf.Config(num_classes=5))
    outputs = {"logits": np.zeros((2, 3, 4, 7), np.float32)}
    with pytest.raises(ValueError, match="7 classes.*num_classes is 5"):
        loss_fn(tf.constant(_hand_labels()), outputs)
