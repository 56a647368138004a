"""Augmentation geometry against NumPy oracles; image/label alignment."""

import numpy as np
import pytest
import tensorflow as tf

from seg_common.data import preprocess
from tests.data.segdata_fakes import blocky_labels, colour_of

MEAN = (10.0, 20.0, 30.0)


@pytest.fixture
def pair(rng):
    label = blocky_labels(rng, (24, 40), 7, block=4)
    return colour_of(label), label


def _warp(pair, crop, scale, angle, offset, flip, jit):
    image, label = pair
    transform = preprocess.affine_transform(
        tf.constant(label.shape), crop, scale, angle,
        tf.constant(offset, tf.float32), tf.constant(flip))
    out = preprocess.warp(image, label, transform, crop, MEAN, 255, jit)
    return out[0].numpy(), out[1].numpy()


@pytest.mark.parametrize("jit", [True, False])
def test_crop_and_flip_are_exact(pair, jit):
    image, label = _warp(pair, (10, 16), 1.0, 0.0, (3.0, 5.0), True, jit)
    np.testing.assert_array_equal(label, pair[1][3:13, 5:21][:, ::-1])
    np.testing.assert_array_equal(image, pair[0][3:13, 5:21][:, ::-1])


@pytest.mark.parametrize("jit", [True, False])
def test_scale_two_repeats_labels(pair, jit):
    _, label = _warp(pair, (48, 80), 2.0, 0.0, (0.0, 0.0), False, jit)
    np.testing.assert_array_equal(label, pair[1].repeat(2, 0).repeat(2, 1))


@pytest.mark.parametrize("jit", [True, False])
def test_quarter_turn_is_rot90(rng, jit):
    label = rng.integers(0, 9, (12, 12)).astype(np.uint8)
    image, out = _warp((colour_of(label), label), (12, 12), 1.0, np.pi / 2,
                       (0.0, 0.0), False, jit)
    np.testing.assert_array_equal(out, np.rot90(label, -1))
    np.testing.assert_allclose(image, np.rot90(colour_of(label), -1),
                               atol=1e-3)


@pytest.mark.parametrize("jit", [True, False])
def test_small_scale_pads_bottom_right_with_mean_and_ignore(pair, jit):
    image, label = _warp(pair, (40, 60), 1.0, 0.0, (0.0, 0.0), False, jit)
    np.testing.assert_array_equal(label[:24, :40], pair[1])
    assert (label[24:] == 255).all() and (label[:, 40:] == 255).all()
    assert (image[25:] == MEAN).all() and (image[:, 41:] == MEAN).all()


def test_matches_image_projective_transform(pair):
    image, label = pair
    transform = preprocess.affine_transform(
        tf.constant(label.shape), (20, 30), 1.37, 0.15,
        tf.constant([2.0, 3.0]), tf.constant(True))
    ours = preprocess.warp(image, label, transform, (20, 30), MEAN)
    reference = tf.raw_ops.ImageProjectiveTransformV3(
        images=(image.astype(np.float32) - MEAN)[None],
        transforms=transform[None], output_shape=[20, 30], fill_value=0.0,
        interpolation="BILINEAR", fill_mode="CONSTANT")[0] + MEAN
    reference_label = tf.raw_ops.ImageProjectiveTransformV3(
        images=label[None, :, :, None].astype(np.int32),
        transforms=transform[None], output_shape=[20, 30], fill_value=255.0,
        interpolation="NEAREST", fill_mode="CONSTANT")[0, :, :, 0]
    np.testing.assert_allclose(ours[0], reference, atol=1e-2)
    np.testing.assert_array_equal(ours[1], reference_label)


def test_random_parse_keeps_label_aligned_with_image(pair):
    image, label = pair
    colours = colour_of(np.arange(7)).astype(np.float32)
    checked = 0
    for seed in range(12):
        tf.random.set_seed(seed)
        out_image, out_label = preprocess.parse_train(
            image, label, crop_size=(32, 32), scale_factor_step=0,
            max_rotation_degrees=10.0, mean_pixel=MEAN)
        out_image, out_label = out_image.numpy(), out_label.numpy()
        assert out_image.shape == (32, 32, 3) and out_label.dtype == np.int32
        padded = np.pad(out_label, 1, constant_values=-1)
        windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3))
        uniform = (windows == out_label[..., None, None]).all((-1, -2))
        inside = uniform & (out_label != 255)
        pad = uniform & (out_label == 255)
        expected = colours[np.where(inside, out_label, 0)]
        match = np.abs(out_image - expected).max(-1) < 1e-3
        assert match[inside].mean() > 0.97
        assert (out_image[pad] == MEAN).all()
        checked += inside.sum()
    assert checked > 12 * 32 * 32 * 0.15  # enough pixels were compared


def test_discrete_scales_follow_the_step():
    tf.random.set_seed(0)
    draws = {round(float(preprocess.random_scale(0.5, 2.0, 0.25)), 4)
             for _ in range(200)}
    assert draws == {0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0}
    uniform = [float(preprocess.random_scale(0.5, 2.0, 0)) for _ in range(50)]
    assert min(uniform) >= 0.5 and max(uniform) <= 2.0
    assert len(set(uniform)) == 50


def test_eval_pad_and_resize(pair):
    image, label = preprocess.parse_eval(*pair, pad_size=(30, 50),
                                         mean_pixel=MEAN)
    np.testing.assert_array_equal(label[:24, :40], pair[1])
    assert (label.numpy()[24:] == 255).all()
    assert (image.numpy()[:, 40:] == MEAN).all()
    np.testing.assert_array_equal(image[:24, :40], pair[0])
    _, small = preprocess.parse_eval(*pair, resize_size=(12, 20))
    np.testing.assert_array_equal(small, pair[1][::2, ::2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="pad size"):
        preprocess.parse_eval(*pair, pad_size=(20, 50))
