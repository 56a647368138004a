"""Population batch-norm statistics after a short run: the Trainer's final
pass against a NumPy oracle, with two replicas, nested BN, resume and the
checkpoint that evaluation and export read; every model against its own
training-mode batch norm."""

import functools
import importlib

import keras
import numpy as np
import pytest
import tensorflow as tf

import _tiny
from seg_common import training
from seg_common.layers import ConvBNAct, MCDropout
from seg_common.training import bn_statistics, checkpoints


def _trainer(model_dir, train_steps, strategy=None, **options):
    config = _tiny.TinyConfig()
    keras.utils.set_random_seed(0)
    return training.Trainer(
        strategy or tf.distribute.get_strategy(),
        lambda: _tiny.build_model(config), _tiny.loss_fn, config,
        training.LoopOptions(train_steps=train_steps, log_every=100,
                             checkpoint_every=2, **options),
        str(model_dir))


def _oracle(model, batches):
    """Mean over batches of the BN input's per-channel mean and unbiased
    variance, in float64 (the BN normalises with batch moments, so its
    input does not depend on the moving statistics)."""
    body = keras.Model(model.input, model.get_layer("body").output)
    means, variances = [], []
    for images in batches:
        x = np.asarray(tf.cast(body(images), tf.float32), np.float64)
        x = x.reshape(-1, 8)
        means.append(x.mean(0))
        variances.append(x.var(0, ddof=1))
    return np.mean(means, 0), np.mean(variances, 0)


def _assert_statistics(bn, oracle):
    np.testing.assert_allclose(bn.moving_mean.numpy(), oracle[0], rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), oracle[1],
                               rtol=1e-4)


@pytest.mark.parametrize("strategy", ["default", "mirrored"])
def test_run_ends_with_population_statistics(tmp_path, strategy):
    images, labels = _tiny.make_data(16)  # BN inputs: mean ~0.1, var ~0.02
    trainer = _trainer(tmp_path, 3, training.get_strategy(strategy),
                       bn_statistics_steps=4)
    trainer.fit(_tiny.dataset_fn(images, labels, 4))
    # 3 training batches, then 4 more of the repeated, unshuffled data.
    batches = [images[i:i + 4] for i in (12, 0, 4, 8)]
    oracle = _oracle(trainer.model, batches)
    _assert_statistics(trainer.model.get_layer("bn"), oracle)
    restored = _tiny.build_model()  # what evaluate.py and export.py load
    checkpoints.restore_model(restored, str(tmp_path))
    _assert_statistics(restored.get_layer("bn"), oracle)


def test_moving_averages_of_a_short_run_are_far_from_the_oracle(tmp_path):
    # bn_statistics_steps=0 keeps them: the oracle assertion above fails.
    images, labels = _tiny.make_data(16)
    trainer = _trainer(tmp_path, 3, bn_statistics_steps=0)
    trainer.fit(_tiny.dataset_fn(images, labels, 4))
    oracle = _oracle(trainer.model, [images[i:i + 4] for i in (12, 0, 4, 8)])
    with pytest.raises(AssertionError):
        _assert_statistics(trainer.model.get_layer("bn"), oracle)


def test_inference_equals_batch_statistics_forward_after_training(tmp_path):
    images, labels = _tiny.make_data(4)  # one batch, seen at every step
    trainer = _trainer(tmp_path, 3, bn_statistics_steps=1)
    trainer.fit(_tiny.dataset_fn(images, labels, 4))
    model = trainer.model
    bn = model.get_layer("bn")
    m = 4 * 16 * 16  # undo the unbiased m / (m - 1) of the pass
    bn.moving_variance.assign(bn.moving_variance * (m - 1) / m)
    want = np.asarray(model(images, training=True)["logits"])
    got = np.asarray(model(images, training=False)["logits"])
    np.testing.assert_allclose(got, want, atol=1e-4 * np.abs(want).max())


def test_resumed_run_ends_with_the_final_weights_statistics(tmp_path):
    images, labels = _tiny.make_data(16)
    data = _tiny.dataset_fn(images, labels, 4)
    _trainer(tmp_path, 2, bn_statistics_steps=4).fit(data)
    resumed = _trainer(tmp_path, 4, bn_statistics_steps=4)
    resumed.fit(data)  # steps 3-4 from a new iterator, then the pass
    oracle = _oracle(resumed.model, [images[i:i + 4] for i in (8, 12, 0, 4)])
    _assert_statistics(resumed.model.get_layer("bn"), oracle)


def test_frozen_batch_norm_keeps_its_statistics(rng):
    model = _tiny.build_model()  # a frozen BN normalises with them in training
    bn = model.get_layer("bn")
    bn.trainable = False
    bn.moving_mean.assign(rng.normal(size=8))
    before = bn.moving_mean.numpy()
    images, _ = _tiny.make_data(4)
    with pytest.raises(AssertionError):  # the pass would change them
        np.testing.assert_array_equal(_oracle(model, [images])[0], before)
    bn_statistics.recompute_bn_statistics(model, [images])
    np.testing.assert_array_equal(bn.moving_mean.numpy(), before)
    np.testing.assert_array_equal(bn.moving_variance.numpy(), np.ones(8))


def test_mixed_bfloat16_statistics_stay_float32(rng):
    images, _ = _tiny.make_data(8)
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    try:
        model = _tiny.build_model()
        batches = [images[:4], images[4:]]
        bn_statistics.recompute_bn_statistics(model, batches)
        oracle = _oracle(model, batches)  # of the bfloat16 convolution
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    _assert_statistics(model.get_layer("bn"), oracle)


def test_nested_batch_norm_with_mc_dropout_sampling_on(rng):
    inputs = keras.Input((None, None, 3))
    dropout = MCDropout(0.5, sampling=True)  # off for the pass, then on
    layer = ConvBNAct(4, 3, name="cba")
    logits = keras.layers.Conv2D(2, 1)(layer(dropout(inputs)))
    model = keras.Model(inputs, {"logits": logits})
    batches = [rng.uniform(0, 255, (2, 8, 8, 3)).astype(np.float32)
               for _ in range(3)]
    assert bn_statistics.recompute_bn_statistics(model, batches) == 3
    assert dropout.sampling
    outputs = [np.asarray(layer.conv(b), np.float64).reshape(-1, 4)
               for b in batches]
    np.testing.assert_allclose(layer.bn.moving_mean.numpy(),
                               np.mean([x.mean(0) for x in outputs], 0),
                               rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(layer.bn.moving_variance.numpy(),
                               np.mean([x.var(0, ddof=1) for x in outputs], 0),
                               rtol=1e-4)


@pytest.mark.parametrize("package", ["deeplab_tf", "bayesian_segnet_tf",
                                     "encnet_tf"])
def test_every_model_after_the_pass_infers_like_batch_statistics(package,
                                                                 rng):
    # Oracle: Keras's own training-mode batch norm (dropout stays off). After
    # a pass over that one batch, with each layer's m / (m - 1) undone,
    # inference mode must give the same outputs.
    package = importlib.import_module(package)
    keras.utils.set_random_seed(1)
    model = package.build_model(package.PRESETS["tiny"])
    images = rng.uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    layers = bn_statistics.batch_norm_layers(model)
    counts = {}
    for layer in layers:
        layer.call = functools.partial(_training_call, layer, counts)
    want = model(images, training=False)
    for layer in layers:
        del layer.call
    bn_statistics.recompute_bn_statistics(model, [images])
    for layer in layers:
        m = counts[id(layer)]
        layer.moving_variance.assign(layer.moving_variance * (m - 1) / m)
    got = model(images, training=False)
    for key, value in want.items():
        value = np.asarray(value)
        np.testing.assert_allclose(np.asarray(got[key]), value, err_msg=key,
                                   atol=1e-3 * np.abs(value).max())


def _training_call(layer, counts, x, training=None, mask=None):
    """The layer's own training-mode call; records m = values per channel."""
    counts[id(layer)] = np.prod(x.shape) / x.shape[layer.axis]
    return type(layer).call(layer, x, training=True)
