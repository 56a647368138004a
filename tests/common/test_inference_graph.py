"""Batch-norm folding of frozen inference graphs (seg_common.inference_graph).

Oracle: the unfolded Keras model in inference mode. The folded graph must
compute the same function (to float rounding), fold exactly the batch norms
that follow a convolution, and leave no batch-norm multiply behind.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seg_common import inference_graph


def _randomise_batch_norms(model, seed=0):
    """Non-trivial inference statistics and affine terms for every BN."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 2.0, gamma.shape),
                               rng.normal(0, 0.5, beta.shape),
                               rng.normal(0, 0.5, mean.shape),
                               rng.uniform(0.2, 3.0, var.shape)])


def _conv_bn_model():
    """Every pattern the folding handles, plus one BN it must not fold.

    conv(no bias)+BN+ReLU; conv(bias)+BN; dilated depthwise (through
    SpaceToBatchND/BatchToSpaceND)+BN; a residual sum fed by a folded BN;
    a BN after a non-convolution (ReLU), which stays. 4 BNs are foldable.
    """
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    y = keras.layers.Conv2D(8, 1, use_bias=True)(x)
    y = keras.layers.BatchNormalization()(y)
    y = keras.layers.Add()([x, y])
    z = keras.layers.DepthwiseConv2D(3, padding="same", dilation_rate=2,
                                     use_bias=False)(y)
    z = keras.layers.BatchNormalization()(z)
    z = keras.layers.Conv2D(5, 1, strides=2, use_bias=False)(z)
    z = keras.layers.BatchNormalization()(z)
    z = keras.layers.ReLU()(z)
    z = keras.layers.BatchNormalization()(z)  # after a ReLU: not foldable
    return keras.Model(inputs, {"logits": z})


def _build(policy):
    keras.utils.set_random_seed(0)
    keras.mixed_precision.set_dtype_policy(policy)
    try:
        return _conv_bn_model()
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


def _ops(fn):
    return [op.type for op in fn.graph.get_operations()]


def _feature_map_muls(fn):
    """Multiplies applied to (B,H,W,C) tensors: a BN scale left unfolded."""
    return sum(op.type == "Mul" and op.outputs[0].shape.rank == 4
               for op in fn.graph.get_operations())


def _fold_both_ways(reference, model, seed):
    """Float32 Keras logits of random images, and the model's frozen graph
    unfolded and folded: (images, want, unfolded, folded, count)."""
    images = np.random.default_rng(seed).uniform(0, 255, (2, 12, 16, 3))
    images = images.astype(np.float32)
    want = reference(images, training=False)["logits"].numpy()
    unfolded, none = inference_graph.frozen_inference_function(
        model, (None, None, None, 3), fold=False)
    folded, count = inference_graph.frozen_inference_function(
        model, (None, None, None, 3))
    assert none == 0
    return images, want, unfolded, folded, count


def test_folded_graph_matches_the_keras_model_in_float32():
    model = _build("float32")
    _randomise_batch_norms(model)
    images, want, unfolded, folded, count = _fold_both_ways(model, model, 1)
    assert count == 4
    scale = np.abs(want).max()  # float32 rounding grows with the logits
    np.testing.assert_allclose(unfolded(images)["logits"].numpy(), want,
                               rtol=1e-5, atol=1e-5 * scale)
    np.testing.assert_allclose(folded(images)["logits"].numpy(), want,
                               rtol=1e-4, atol=1e-4 * scale)
    # Each folded BN takes its scale multiply with it; the unfoldable one
    # keeps its own.
    assert _feature_map_muls(unfolded) == 5
    assert _feature_map_muls(folded) == 1


def test_folded_graph_under_bfloat16_drops_the_casts_and_agrees():
    model = _build("mixed_bfloat16")
    reference = _build("float32")
    _randomise_batch_norms(reference)
    model.set_weights(reference.get_weights())
    images, want, unfolded, folded, count = _fold_both_ways(reference, model,
                                                            2)
    assert count == 4
    got = tf.cast(folded(images)["logits"], tf.float32).numpy()
    scale = np.abs(want).max()
    assert np.abs(got - want).max() < 0.05 * scale  # bfloat16 rounding
    assert _ops(unfolded).count("Cast") - _ops(folded).count("Cast") >= 6


def test_unfoldable_graph_is_returned_unchanged():
    inputs = keras.Input((None, None, 3))
    x = keras.layers.BatchNormalization()(inputs)  # no conv before it
    model = keras.Model(inputs, {"logits": keras.layers.Conv2D(2, 1)(x)})
    _randomise_batch_norms(model)
    images = np.ones((1, 4, 4, 3), np.float32)
    folded, count = inference_graph.frozen_inference_function(
        model, (1, 4, 4, 3))
    assert count == 0
    np.testing.assert_allclose(folded(images)["logits"].numpy(),
                               model(images, training=False)["logits"],
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("package_name", ["deeplab_tf", "bayesian_segnet_tf"])
def test_every_batch_norm_of_the_tiny_presets_folds(package_name):
    package = __import__(package_name)
    preset = "tiny" if "tiny" in package.PRESETS else "segnet_basic"
    config = package.PRESETS[preset]
    model = package.build_model(config)
    batch_norms = sum(isinstance(layer, keras.layers.BatchNormalization)
                      for layer in _all_layers(model))
    size = (64, 64)
    images = np.random.default_rng(3).uniform(0, 255, (1, *size, 3))
    images = images.astype(np.float32)
    folded, count = inference_graph.frozen_inference_function(
        model, (1, *size, 3))
    assert count == batch_norms
    want = model(images, training=False)["logits"].numpy()
    got = folded(images)["logits"].numpy()
    np.testing.assert_allclose(got, want, rtol=1e-3,
                               atol=1e-3 * np.abs(want).max())


def _all_layers(layer):
    """The layer and every sublayer (Keras 3 `_flatten_layers`)."""
    return list(layer._flatten_layers(include_self=False, recursive=True))


@pytest.fixture(scope="module")
def tiny_models():
    import bayesian_segnet_tf
    import deeplab_tf
    import encnet_tf
    models = {}
    for package in (deeplab_tf, encnet_tf, bayesian_segnet_tf):
        keras.utils.set_random_seed(0)
        models[package.__name__] = package, package.build_model(
            package.PRESETS["tiny"])
    return models


@pytest.mark.parametrize("name", ["deeplab_tf", "encnet_tf",
                                  "bayesian_segnet_tf"])
def test_folded_model_equals_the_keras_model_at_any_size(tiny_models, name):
    _, model = tiny_models[name]
    folded = inference_graph.FoldedModel(model)
    assert folded.batch_norms_folded > 0
    for shape in ((1, 48, 64, 3), (2, 33, 45, 3)):
        images = np.random.default_rng(1).uniform(0, 255, shape)
        images = images.astype(np.float32)
        want = np.asarray(model(images, training=False)["logits"])
        got = np.asarray(folded(images)["logits"])
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-4,
                                   atol=1e-5 * np.abs(want).max() + 1e-9)
    with pytest.raises(ValueError, match="inference only"):
        folded(images, training=True)


@pytest.mark.parametrize("name", ["deeplab_tf", "bayesian_segnet_tf"])
def test_folded_bfloat16_model_rounds_like_the_keras_bfloat16_model(
        tiny_models, name):
    from seg_common import hardware
    package, model = tiny_models[name]
    with hardware.precision_scope("bfloat16"):
        bf16 = package.build_model(package.PRESETS["tiny"])
    bf16.set_weights(model.get_weights())
    folded = inference_graph.FoldedModel(bf16)
    images = np.random.default_rng(2).uniform(0, 255, (2, 40, 48, 3))
    images = images.astype(np.float32)
    want = np.asarray(model(images, training=False)["logits"], np.float32)
    keras_bf16 = np.asarray(bf16(images, training=False)["logits"], np.float32)
    got = np.asarray(folded(images)["logits"], np.float32)
    scale = np.abs(want).max()
    # Folding moves bf16 rounding no further from float32 than Keras' own
    # bf16 model is (bf16 keeps 8 significant bits: ~0.4% per op).
    assert np.abs(got - want).max() <= 2 * np.abs(keras_bf16 - want).max() \
        + 1e-2 * scale
