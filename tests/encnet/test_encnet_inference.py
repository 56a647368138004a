"""Multi-scale + flip evaluation (seg_common.inference) on the tiny EncNet."""

import keras
import numpy as np
import pytest

import encnet_tf
from seg_common.inference import predict_multiscale
from tests.oracles import multiscale_flip


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return encnet_tf.build_model(encnet_tf.PRESETS["tiny"])


def _oracle(model, images, scales):
    """The NumPy multi-scale + flip oracle around the model's logits."""
    return multiscale_flip(
        lambda x: np.asarray(model(x.astype(np.float32), training=False)
                             ["logits"], np.float64), images, scales)


def test_multiscale_flip_matches_the_oracle(model):
    images = np.random.default_rng(0).uniform(0, 255, (2, 33, 47, 3))
    scales = (0.5, 1.0, 1.5)
    got = np.asarray(predict_multiscale(model, images.astype(np.float32),
                                        scales=scales, flip=True))
    assert got.shape == (2, 33, 47, encnet_tf.PRESETS["tiny"].num_classes)
    np.testing.assert_allclose(got.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(got, _oracle(model, images, scales), atol=1e-4)
