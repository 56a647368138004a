"""A tiny Bayesian SegNet-Basic trained on synthetic scenes: MC vs weight averaging,
uncertainty quality (seg_common.metrics) and bfloat16 sampling."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from bayesian_segnet_tf import (PRESETS, build_loss, build_model, mc_predict,
                                recompute_bn_statistics)
from seg_common.metrics import UncertaintyMetrics

NUM_CLASSES = 4
SIZE = (32, 48)
# Class colours close enough that noise makes some pixels ambiguous.
COLOURS = np.array([[90, 90, 90], [150, 90, 90], [90, 150, 90],
                    [120, 120, 150]], np.float32)


def synthetic_scenes(rng, count):
    """Rectangles of classes 1..3 on class-0 background, noisy colours."""
    labels = np.zeros((count, *SIZE), np.int32)
    for n in range(count):
        for _ in range(3):
            y, x = rng.integers(0, SIZE[0] - 8), rng.integers(0, SIZE[1] - 8)
            h, w = rng.integers(6, 16, 2)
            labels[n, y:y + h, x:x + w] = rng.integers(1, NUM_CLASSES)
    images = COLOURS[labels] + rng.normal(0, 35, (count, *SIZE, 3))
    return np.clip(images, 0, 255).astype(np.float32), labels


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    config = PRESETS["tiny"]
    model = build_model(config, num_classes=NUM_CLASSES)
    loss_fn = build_loss(config.__class__(num_classes=NUM_CLASSES,
                                          class_weights=None))
    optimizer = keras.optimizers.Adam(3e-3)
    images, labels = synthetic_scenes(rng, 32)

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))["loss"]
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    for i in range(120):
        batch = rng.choice(len(images), 4, replace=False)
        step(images[batch], labels[batch])
    recompute_bn_statistics(
        model, [images[i:i + 4] for i in range(0, len(images), 4)])
    test_images, test_labels = synthetic_scenes(np.random.default_rng(1), 6)
    mc = mc_predict(model, test_images, num_samples=24, seed=0)
    return model, test_images, test_labels, mc


def test_mc_is_at_least_as_accurate_as_weight_averaging(trained):
    model, images, labels, mc = trained
    averaged = mc_predict(model, images, num_samples=0)
    mc_accuracy = (mc["labels"] == labels).mean()
    wa_accuracy = (averaged["labels"] == labels).mean()
    assert wa_accuracy > 0.7  # the model learned the task
    assert mc_accuracy >= wa_accuracy - 0.002, (mc_accuracy, wa_accuracy)


def test_uncertainty_is_higher_on_misclassified_pixels(trained):
    _, _, labels, mc = trained
    wrong = mc["labels"] != labels
    assert mc["uncertainty"][wrong].mean() > 1.5 * mc["uncertainty"][~wrong].mean()
    metrics = UncertaintyMetrics(NUM_CLASSES,
                                 max_uncertainty=float(mc["uncertainty"].max()))
    metrics.update(labels, mc["probabilities"], mc["uncertainty"])
    result = metrics.result()
    assert result["auroc_misclassification"] > 0.7, result  # chance: 0.5
    assert result["expected_calibration_error"] < 0.2, result


def test_bfloat16_sampling_agrees_with_float32(trained):
    model, images, _, mc = trained
    low = mc_predict(model, images, num_samples=24, seed=0,
                     compute_dtype="bfloat16")
    assert (low["labels"] == mc["labels"]).mean() >= 0.99
    corr = np.corrcoef(low["uncertainty"].ravel(),
                       mc["uncertainty"].ravel())[0, 1]
    assert corr >= 0.98, corr
