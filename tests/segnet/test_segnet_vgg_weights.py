"""VGG16 weights load by name into the SegNet encoder."""

import keras
import numpy as np

from bayesian_segnet_tf import build_model
from seg_common.layers import MaxPoolWithArgmax2D


def test_keras_applications_vgg16_weights_load(tmp_path, rng):
    keras.utils.set_random_seed(1)
    vgg = keras.applications.VGG16(weights=None, include_top=False,
                                   input_shape=(None, None, 3))
    path = str(tmp_path / "vgg16.weights.h5")
    vgg.save_weights(path)
    model = build_model(arch="segnet", encoder_weights=path)
    for layer in vgg.layers:
        if isinstance(layer, keras.layers.Conv2D):
            kernel, bias = model.get_layer(layer.name).get_weights()
            np.testing.assert_array_equal(kernel, layer.get_weights()[0])
            np.testing.assert_array_equal(bias, layer.get_weights()[1])
    # With identity batch norm (mean 0, var 1, gamma 1, beta 0) our encoder
    # is VGG16 on BGR input: block5_pool features agree.
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.beta.assign(np.zeros(layer.beta.shape))
    rgb = rng.uniform(0, 255, (1, 64, 96, 3)).astype(np.float32)
    ours = keras.Model(model.input, model.get_layer("block5_pool").output[0])
    want = vgg(rgb[..., ::-1].copy())
    np.testing.assert_allclose(np.asarray(ours(rgb)), np.asarray(want),
                               rtol=1e-4, atol=1e-3 * float(np.max(want)))
    assert isinstance(model.get_layer("block5_pool"), MaxPoolWithArgmax2D)
