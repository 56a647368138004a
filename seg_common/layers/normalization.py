"""Input normalisation of RGB 0..255 images, one layer for every model."""

import keras


def _floats(value):
    """A float, or a list of floats (one per channel)."""
    if isinstance(value, (list, tuple)):
        return [float(v) for v in value]
    return float(value)


@keras.saving.register_keras_serializable(package="seg_common")
class InputNormalization(keras.layers.Layer):
    """`y = x * scale + offset` per channel, after an optional RGB -> BGR flip.

    The models take RGB 0..255 and normalise inside:
    - DeepLab Xception / ResNet "beta": `scale=1/127.5, offset=-1`;
    - keras.applications ResNet ("caffe"): `reverse_channels=True`,
      `offset=-[103.939, 116.779, 123.68]` (BGR means);
    - EncNet (ImageNet mean/std): `scale=1/(255 std)`, `offset=-mean/std`;
    - SegNet (Caffe BGR 0..255): `reverse_channels=True` alone.

    Args:
        scale: float or a per-channel list (in the output channel order).
        offset: float or a per-channel list (in the output channel order).
        reverse_channels: reverse the channel axis first (RGB -> BGR).
        **kwargs: `keras.layers.Layer` arguments.

    Input shape: (B, H, W, C) RGB 0..255. Output shape: the same.

    Example:
    >>> InputNormalization(1 / 127.5, -1.0)(keras.ops.full((1, 2, 2, 3), 255.0))[0, 0, 0]
    [1.0, 1.0, 1.0]
    """

    def __init__(self, scale=1.0, offset=0.0, reverse_channels=False,
                 **kwargs):
        super().__init__(**kwargs)
        self.scale = _floats(scale)
        self.offset = _floats(offset)
        self.reverse_channels = bool(reverse_channels)
        self.built = True

    def call(self, inputs):
        if self.reverse_channels:
            inputs = keras.ops.flip(inputs, axis=-1)
        scale = keras.ops.convert_to_tensor(self.scale, inputs.dtype)
        offset = keras.ops.convert_to_tensor(self.offset, inputs.dtype)
        return inputs * scale + offset

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(scale=self.scale, offset=self.offset,
                      reverse_channels=self.reverse_channels)
        return config
