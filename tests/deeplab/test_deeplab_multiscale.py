"""seg_common.inference.predict_multiscale against a NumPy oracle."""

import keras
import numpy as np
import pytest

from seg_common.inference import predict_multiscale, scale_dimension
from tests.oracles import multiscale_flip, softmax


def _pixelwise_model(num_classes=4):
    """logits = a fixed 1x1 conv of the image: scale-equivariant, known answer."""
    inputs = keras.Input((None, None, 3))
    conv = keras.layers.Conv2D(num_classes, 1, use_bias=False, name="conv")
    model = keras.Model(inputs, {"logits": conv(inputs)})
    kernel = np.arange(3 * num_classes, dtype=np.float32).reshape(
        1, 1, 3, num_classes) / 10.0 - 0.5
    conv.set_weights([kernel])
    return model, kernel[0, 0]


def test_scale_dimension_is_tf1_rule():
    assert scale_dimension(513, 0.5) == 257
    assert scale_dimension(513, 0.75) == 385
    assert scale_dimension(512, 1.75) == 895


def test_multiscale_flip_matches_numpy_oracle(rng):
    model, kernel = _pixelwise_model()
    images = rng.uniform(0, 1, (2, 9, 12, 3)).astype(np.float32)
    scales = (0.5, 1.0, 1.5)
    got = np.asarray(predict_multiscale(model, images, scales, flip=True))
    want = multiscale_flip(lambda x: x @ kernel, images, scales)
    np.testing.assert_allclose(got, want, atol=1e-5)
    np.testing.assert_allclose(got.sum(-1), 1.0, atol=1e-5)


def test_flip_of_a_mirror_symmetric_model_changes_nothing(rng):
    model, kernel = _pixelwise_model()
    images = rng.uniform(0, 1, (1, 7, 8, 3)).astype(np.float32)
    got = np.asarray(predict_multiscale(model, images, (1.0,), flip=True))
    np.testing.assert_allclose(got, softmax(images @ kernel), atol=1e-5)


def test_bad_scales():
    model, _ = _pixelwise_model()
    with pytest.raises(ValueError, match="scales"):
        predict_multiscale(model, np.zeros((1, 5, 5, 3), np.float32), ())
