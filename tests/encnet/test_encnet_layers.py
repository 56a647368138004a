"""EncNet head layers against NumPy oracles."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from encnet_tf.layers import (
    ContextEncoding, FeaturemapAttention, SmoothingDropEncoding,
    image_normalization)
from seg_common.layers import BilinearResize
from tests.encnet import oracles
from tests.oracles import resize_bilinear_align_corners


def _randomise(encoding, rng, num_codes, depth):
    """Spread codewords and sharpen factors so assignments are not uniform."""
    encoding.codewords.assign(rng.normal(size=(num_codes, depth)))
    encoding.scale.assign(rng.uniform(-1.0, -0.1, num_codes))


@pytest.mark.parametrize("aggregation", ["sum", "mean"])
def test_context_encoding_matches_oracle(rng, aggregation):
    x = rng.normal(size=(3, 4, 5, 6)).astype(np.float32)
    layer = ContextEncoding(4, aggregation)
    layer.build(x.shape)
    _randomise(layer.encoding, rng, 4, 6)
    got = np.asarray(layer(x, training=True))
    want = oracles.context_encoding(
        x.reshape(3, 20, 6).astype(np.float64),
        layer.encoding.codewords.numpy().astype(np.float64),
        layer.encoding.scale.numpy().astype(np.float64), aggregation)
    assert got.shape == (3, 6)
    np.testing.assert_allclose(got, want, atol=2e-4, rtol=1e-4)


def test_context_encoding_normalises_over_codewords():
    layer = ContextEncoding(32)
    layer.build((None, 60, 60, 512))
    bn = layer.codeword_bn
    # One gamma/beta per codeword (not per channel), 16,416 + 64 parameters.
    assert bn.axis == 1 and tuple(bn.gamma.shape) == (32,)
    assert sum(int(np.prod(w.shape)) for w in layer.trainable_weights) == 16_480
    assert bn.momentum == 0.9 and bn.epsilon == 1e-5


def test_context_encoding_rejects_unknown_aggregation():
    with pytest.raises(ValueError, match="aggregation"):
        ContextEncoding(32, "max")
    with pytest.raises(ValueError, match="num_codes"):
        ContextEncoding(0)


@pytest.mark.parametrize("attention", ["scale", "residual"])
def test_featuremap_attention_matches_formula(rng, attention):
    x = rng.normal(size=(2, 3, 4, 5)).astype(np.float32)
    gamma = rng.uniform(size=(2, 5)).astype(np.float32)
    got = np.asarray(FeaturemapAttention(attention)([x, gamma]))
    scaled = x * gamma[:, None, None, :]
    want = scaled if attention == "scale" else np.maximum(x + scaled, 0)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    with pytest.raises(ValueError, match="attention"):
        FeaturemapAttention("add")


def test_bilinear_resize_align_corners_matches_oracle(rng):
    x = rng.normal(size=(2, 5, 7, 3)).astype(np.float32)
    reference = np.zeros((2, 33, 50, 1), np.float32)
    got = np.asarray(BilinearResize(True)([x, reference]))
    want = resize_bilinear_align_corners(x.astype(np.float64), (33, 50))
    np.testing.assert_allclose(got, want, atol=1e-5)
    # Corners coincide: x8 of 60 -> 480 maps row 59 onto row 479.
    np.testing.assert_allclose(got[:, -1, -1], x[:, -1, -1], atol=1e-6)


def test_bilinear_resize_half_pixel_matches_tf_image_resize(rng):
    x = rng.normal(size=(1, 6, 6, 2)).astype(np.float32)
    got = BilinearResize(False)([x, np.zeros((1, 48, 48, 1), np.float32)])
    want = tf.image.resize(x, (48, 48), method="bilinear")
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=1e-5)


def test_image_normalization_is_imagenet_standardisation(rng):
    x = rng.uniform(0, 255, (1, 2, 2, 3)).astype(np.float32)
    mean = np.array([0.485, 0.456, 0.406])
    std = np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(np.asarray(image_normalization()(x)),
                               (x / 255.0 - mean) / std, rtol=1e-4, atol=1e-5)


def test_smoothing_drop_encoding_evaluation_uses_fixed_factor(rng):
    x = rng.normal(size=(2, 9, 4)).astype(np.float32)
    layer = SmoothingDropEncoding(5, eval_smoothing=-0.5)
    layer.build(x.shape)
    layer.codewords.assign(rng.normal(size=(5, 4)))
    assert [w.name for w in layer.trainable_weights] == ["codewords"]
    want = oracles.naive_encoding(x.astype(np.float64),
                                  layer.codewords.numpy().astype(np.float64),
                                  np.full(5, -0.5))
    np.testing.assert_allclose(np.asarray(layer(x, training=False)), want,
                               atol=2e-4, rtol=1e-4)


def test_smoothing_drop_encoding_draws_factors_in_training(rng):
    """Each training call uses fresh factors from U(-1, 0): replay the draws
    with an identically seeded generator and compare with the oracle."""
    x = rng.normal(size=(2, 6, 3)).astype(np.float32)
    layer = SmoothingDropEncoding(4, seed=7)
    layer.build(x.shape)
    layer.codewords.assign(rng.normal(size=(4, 3)))
    replay = keras.random.SeedGenerator(7)
    outs = []
    for _ in range(3):
        scale = np.asarray(keras.random.uniform((4,), -1.0, 0.0, seed=replay))
        assert np.all((scale >= -1.0) & (scale <= 0.0))
        out = np.asarray(layer(x, training=True))
        want = oracles.naive_encoding(
            x.astype(np.float64), layer.codewords.numpy().astype(np.float64),
            scale.astype(np.float64))
        np.testing.assert_allclose(out, want, atol=2e-4, rtol=1e-4)
        outs.append(out)
    assert not np.allclose(outs[0], outs[1])


def test_layers_round_trip_through_keras_files(tmp_path, rng):
    inputs = keras.Input((6, 6, 8))
    e = ContextEncoding(4, "mean", name="ce")(inputs)
    gamma = keras.layers.Dense(8, activation="sigmoid")(e)
    y = FeaturemapAttention("residual")([inputs, gamma])
    y = BilinearResize(True)([y, keras.layers.UpSampling2D(2)(inputs)])
    z = SmoothingDropEncoding(3)(inputs)
    model = keras.Model(inputs, {"y": y, "z": z})
    x = rng.normal(size=(2, 6, 6, 8)).astype(np.float32)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    for key in ("y", "z"):
        np.testing.assert_allclose(np.asarray(loaded(x)[key]),
                                   np.asarray(model(x)[key]), atol=1e-6)
