"""recompute_bn_statistics against the reference compute_bn_statistics.py procedure."""

import keras
import numpy as np
import pytest

from bayesian_segnet_tf import PRESETS, build_model, recompute_bn_statistics


def _model(dropout, seed=3):
    keras.utils.set_random_seed(seed)
    return build_model(PRESETS["tiny"], dropout=dropout)


def _batches(rng, count, batch=2, size=(24, 32)):
    return [rng.uniform(0, 255, (batch, *size, 3)).astype(np.float32)
            for _ in range(count)]


def _bn_layers(model):
    return [l for l in model.layers
            if isinstance(l, keras.layers.BatchNormalization)]


def test_first_layer_statistics_match_numpy(rng):
    model = _model("central")
    batches = _batches(rng, 3)
    assert recompute_bn_statistics(model, batches, steps=2) == 2
    conv1 = keras.Model(model.input, model.get_layer("conv1").output)
    means, variances = [], []
    for images in batches[:2]:  # steps=2: the third batch is not used
        x = np.asarray(conv1(images), np.float64)
        x = x.reshape(-1, x.shape[-1])  # [N*H*W, C]
        means.append(x.mean(0))
        m = x.shape[0]
        variances.append(x.var(0) * m / (m - 1))
    bn = model.get_layer("conv1_bn")
    np.testing.assert_allclose(bn.moving_mean.numpy(), np.mean(means, 0),
                               rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(bn.moving_variance.numpy(),
                               np.mean(variances, 0), rtol=1e-4)


def test_one_batch_inference_equals_batch_statistics_forward(rng):
    # After one batch, inference mode with the recomputed statistics (the
    # m/(m-1) correction undone) is the training-mode forward of that batch.
    model = _model("none")
    (images,) = _batches(rng, 1)
    recompute_bn_statistics(model, [(images, None)])
    probe = keras.Model(model.input, [bn.input for bn in _bn_layers(model)])
    for bn, x in zip(_bn_layers(model), probe(images, training=True)):
        count = np.prod(x.shape[:3])
        bn.moving_variance.assign(bn.moving_variance * (count - 1) / count)
    want = model(images, training=True)["logits"]
    got = model(images, training=False)["logits"]
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-3,
                               atol=1e-3 * float(np.abs(want).max()))


def test_dropout_is_off_while_recomputing(rng):
    central, none = _model("central"), _model("none")
    none.set_weights(central.get_weights())  # dropout has no weights
    batches = _batches(rng, 2)
    recompute_bn_statistics(central, batches)
    recompute_bn_statistics(none, batches)
    for a, b in zip(_bn_layers(central), _bn_layers(none)):
        np.testing.assert_allclose(a.moving_variance.numpy(),
                                   b.moving_variance.numpy(), rtol=1e-5)


def test_empty_dataset_is_an_error():
    with pytest.raises(ValueError, match="dataset"):
        recompute_bn_statistics(_model("none"), [])
