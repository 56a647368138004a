"""Every shared layer round-trips through get_config and `.keras` with safe_mode=True."""

import keras
import numpy as np
import pytest

from seg_common.layers import (
    AtrousSeparableConv2D, ConvBNAct, Encoding, MaxPoolWithArgmax2D, MaxUnpool2D,
    MCDropout)


def _model():
    inputs = keras.Input((9, 10, 4))
    x = ConvBNAct(6, 3, strides=2, name="conv")(inputs)
    x = AtrousSeparableConv2D(6, dilation_rate=2, depth_activation=True,
                              epsilon=1e-5, name="sep")(x)
    values, indices = MaxPoolWithArgmax2D(name="pool")(x)
    x = MaxUnpool2D(name="unpool")([values, indices, x])
    x = MCDropout(0.3, seed=4, name="drop")(x)
    codes = Encoding(3, name="encoding")(x)
    return keras.Model(inputs, {"features": x, "codes": codes})


@pytest.mark.parametrize("layer", [
    ConvBNAct(8, 5, strides=2, activation=None, momentum=0.9, epsilon=1e-5),
    AtrousSeparableConv2D(8, strides=2, depth_activation=True, momentum=0.9),
    Encoding(7), MCDropout(0.2, sampling=True, seed=3), MaxPoolWithArgmax2D(),
    MaxUnpool2D(),
])
def test_get_config_round_trip(layer):
    clone = layer.__class__.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


def test_keras_file_round_trip(tmp_path, rng):
    model = _model()
    path = tmp_path / "layers.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    x = rng.normal(size=(2, 9, 10, 4)).astype(np.float32)
    want, got = model(x, training=False), loaded(x, training=False)
    for key in ("features", "codes"):
        np.testing.assert_allclose(np.asarray(got[key]), np.asarray(want[key]),
                                   atol=1e-6)
    names = {layer.__class__.__name__ for layer in loaded.layers}
    assert "Lambda" not in names and "MaxUnpool2D" in names
