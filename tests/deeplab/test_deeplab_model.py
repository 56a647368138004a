"""DeepLabv3+ model: one set of weights at every output stride, heads, layers, errors."""

import dataclasses

import keras
import numpy as np
import pytest

import deeplab_tf
from deeplab_tf.model import build_backbone
from seg_common.layers import BilinearResize, InputNormalization
from tests.oracles import resize_bilinear_align_corners

# Small heads on the cheapest backbone; no image pooling, so that the atrous
# identity below holds exactly (a global mean over the fine grid is not the
# mean over its subsampled grid).
SMALL = dict(num_classes=3, backbone="resnet_50", aspp_channels=8,
             low_level_channels=4, decoder_channels=8, image_pooling=False)


def _pre_resize_logits(model):
    return keras.Model(model.input, model.get_layer("logits_semantic").output)


@pytest.fixture(scope="module")
def models():
    m16 = deeplab_tf.build_model(output_stride=16, decoder=False, **SMALL)
    m8 = deeplab_tf.build_model(output_stride=8, decoder=False, **SMALL)
    m8.set_weights(m16.get_weights())
    return m8, m16


def test_same_variables_at_every_output_stride(models):
    m8, m16 = models
    assert ([(v.path, v.shape) for v in m8.weights]
            == [(v.path, v.shape) for v in m16.weights])


def test_os8_logits_are_os16_logits_on_the_finer_grid(models, rng):
    """Atrous identity: with rates 12/24/36 at OS8 and 6/12/18 at OS16 and
    the same weights, the stride-8 logits on a 2^n+1 grid, sampled every
    second pixel, equal the stride-16 logits."""
    m8, m16 = models
    x = rng.uniform(0, 255, (1, 33, 33, 3)).astype(np.float32)
    fine = np.asarray(_pre_resize_logits(m8)(x))      # [1, 5, 5, 3]
    coarse = np.asarray(_pre_resize_logits(m16)(x))   # [1, 3, 3, 3]
    assert fine.shape[1:3] == (5, 5) and coarse.shape[1:3] == (3, 3)
    scale = np.abs(coarse).max()
    np.testing.assert_allclose(fine[:, ::2, ::2] / scale, coarse / scale,
                               atol=1e-4)
    assert not np.allclose(m8(x)["logits"], m16(x)["logits"], atol=1e-3)


def test_aspp_rates_follow_output_stride():
    rates = {os: deeplab_tf.Config(output_stride=os).rates for os in (8, 16, 32)}
    assert rates == {8: (12, 24, 36), 16: (6, 12, 18), 32: (3, 6, 9)}
    assert deeplab_tf.Config(atrous_rates=(1, 2, 3)).rates == (1, 2, 3)


def test_logits_upsampled_with_align_corners(models, rng):
    _, m16 = models
    x = rng.uniform(0, 255, (1, 33, 40, 3)).astype(np.float32)
    small = np.asarray(_pre_resize_logits(m16)(x))
    want = resize_bilinear_align_corners(small, (33, 40))
    np.testing.assert_allclose(np.asarray(m16(x)["logits"]), want, atol=1e-4)


def test_decoder_uses_the_stride4_tap(rng):
    model = deeplab_tf.build_model(output_stride=32, **SMALL)
    x = rng.uniform(0, 255, (1, 65, 64, 3)).astype(np.float32)
    assert tuple(_pre_resize_logits(model)(x).shape) == (1, 17, 16, 3)
    assert tuple(model(x)["logits"].shape) == (1, 65, 64, 3)
    assert model.get_layer("decoder_feature_projection0").filters == 4


def test_input_normalisation_layer():
    xception = InputNormalization(1 / 127.5, -1.0)
    np.testing.assert_allclose(
        xception(np.array([[[[0.0, 127.5, 255.0]]]], np.float32)), [[[[-1, 0, 1]]]])
    caffe = InputNormalization(1.0, [-1.0, -2.0, -3.0], reverse_channels=True)
    np.testing.assert_allclose(
        caffe(np.array([[[[10.0, 20.0, 30.0]]]], np.float32)), [[[[29, 18, 7]]]])
    clone = InputNormalization.from_config(caffe.get_config())
    assert clone.get_config() == caffe.get_config()
    bgr = InputNormalization(reverse_channels=True)   # SegNet's input
    np.testing.assert_array_equal(
        bgr(np.array([[[[10.0, 20.0, 30.0]]]], np.float32)), [[[[30, 20, 10]]]])
    per_channel = InputNormalization([1.0, 0.5, 0.25], [0.0, 1.0, 2.0])
    np.testing.assert_allclose(
        per_channel(np.array([[[[8.0, 8.0, 8.0]]]], np.float32)), [[[[8, 5, 4]]]])


@pytest.mark.parametrize("align_corners", [True, False])
def test_bilinear_resize_layer(align_corners, rng):
    x = rng.normal(size=(2, 5, 7, 3)).astype(np.float32)
    y = np.asarray(BilinearResize(align_corners)([x, np.zeros((2, 17, 9, 1))]))
    assert y.shape == (2, 17, 9, 3)
    if align_corners:
        np.testing.assert_allclose(
            y, resize_bilinear_align_corners(x, (17, 9)), atol=1e-5)
    else:
        np.testing.assert_allclose(
            y, keras.ops.image.resize(x, (17, 9), interpolation="bilinear"),
            atol=1e-5)


def test_input_smaller_than_output_stride(models):
    _, m16 = models
    with pytest.raises(ValueError, match="at least 16x16"):
        m16(np.zeros((1, 15, 40, 3), np.float32))
    with pytest.raises(ValueError, match="at least 16x16"):
        deeplab_tf.build_model(input_shape=(8, 8, 3), **SMALL)


@pytest.mark.parametrize("field, value, match", [
    ("backbone", "vgg16", "xception_65"),
    ("output_stride", 4, "8, 16, 32"),
    ("num_classes", 0, ">= 1"),
    ("atrous_rates", (6, 12), "3 integers"),
    ("resnet_stem", "7x7", "beta"),
    ("separable_order", "x", "released"),
])
def test_bad_config_values(field, value, match):
    with pytest.raises(ValueError, match=match):
        deeplab_tf.Config(**{field: value})


def test_loss_is_masked_mean_cross_entropy():
    loss_fn = deeplab_tf.build_loss(deeplab_tf.Config(num_classes=2))
    logits = np.zeros((1, 1, 3, 2), np.float32)
    logits[0, 0, 0] = [np.log(3.0), 0.0]   # p(class 0) = 0.75
    labels = np.array([[[0, 1, 255]]], np.int32)
    # (-log 0.75 - log 0.5) / 2 non-ignored pixels
    want = (-np.log(0.75) - np.log(0.5)) / 2
    got = float(loss_fn(labels, {"logits": logits})["loss"])
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_presets_hold_the_paper_settings():
    presets = deeplab_tf.PRESETS
    assert {"xception_65_voc", "resnet_101_voc", "xception_65_cityscapes",
            "tiny"} <= set(presets)
    voc = presets["xception_65_voc"]
    assert (voc.backbone, voc.output_stride, voc.rates, voc.decoder,
            voc.separable, voc.base_learning_rate, voc.crop_size) == (
        "xception_65", 16, (6, 12, 18), True, True, 0.007, (513, 513))
    assert presets["resnet_101_voc"].weight_decay == 1e-4
    assert presets["xception_65_cityscapes"].num_classes == 19


@pytest.mark.parametrize("stem, want", [
    # TF1 DeepLab feature_extractor: resnet_v1_*_beta -> x / 127.5 - 1.
    ("beta", [[[[-1.0, 0.0, 1.0]]]]),
    # keras.applications "caffe": RGB -> BGR, minus the BGR ImageNet mean.
    ("standard", [[[[255 - 103.939, 127.5 - 116.779, 0 - 123.68]]]]),
])
def test_resnet_input_normalisation_follows_the_stem(stem, want):
    config = deeplab_tf.PRESETS["resnet_101_voc"]
    config = dataclasses.replace(config, backbone="resnet_50",
                                 resnet_stem=stem)
    _, normalize, _ = build_backbone(config)
    np.testing.assert_allclose(
        normalize(np.array([[[[0.0, 127.5, 255.0]]]], np.float32)), want,
        rtol=1e-6)
