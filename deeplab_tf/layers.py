"""Registered layers of the DeepLabv3+ model: input scaling, size check, bilinear resize."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="deeplab_tf")
class InputNormalization(keras.layers.Layer):
    """`y = x * scale + offset` per channel: the backbone's input normalisation.

    Xception and ResNet "beta" (TF1 DeepLab's `resnet_v1_*_beta`):
    `scale=1/127.5, offset=-1` (x/127.5 - 1, zero mean, unit range; the
    ImageNet mean subtraction belongs to the non-beta TF1 ResNets). keras.applications
    ResNet ("caffe"): `reverse_channels=True` (RGB -> BGR) and
    `offset=-[103.939, 116.779, 123.68]`.

    Args:
        scale: float.
        offset: float or a per-channel list (in the output channel order).
        reverse_channels: reverse the channel axis first (RGB -> BGR).
        **kwargs: `keras.layers.Layer` arguments.

    Input shape: (B, H, W, C) RGB 0..255. Output shape: the same.

    Example:
    >>> InputNormalization(1 / 127.5, -1.0)(keras.ops.full((1, 2, 2, 3), 255.0))[0, 0, 0]
    [1.0, 1.0, 1.0]
    """

    def __init__(self, scale, offset, reverse_channels=False, **kwargs):
        super().__init__(**kwargs)
        self.scale = float(scale)
        self.reverse_channels = bool(reverse_channels)
        self.offset = ([float(o) for o in offset]
                       if isinstance(offset, (list, tuple)) else float(offset))
        self.built = True

    def call(self, inputs):
        offset = keras.ops.convert_to_tensor(self.offset, inputs.dtype)
        if self.reverse_channels:
            inputs = keras.ops.flip(inputs, axis=-1)
        return inputs * keras.ops.cast(self.scale, inputs.dtype) + offset

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(scale=self.scale, offset=self.offset,
                      reverse_channels=self.reverse_channels)
        return config


@keras.saving.register_keras_serializable(package="deeplab_tf")
class InputSizeCheck(keras.layers.Layer):
    """Identity that rejects images smaller than `min_size` on either side.

    A DeepLab network at output stride `s` needs at least `s` pixels per side
    for its last feature map to cover one full cell; smaller inputs would
    otherwise pass through silently or fail deep inside. Known sizes raise
    `ValueError` when the model is called or traced; sizes only known at run
    time fail with a `tf.errors.InvalidArgumentError` carrying the same text.

    Args:
        min_size: smallest allowed height and width (the output stride).
        **kwargs: `keras.layers.Layer` arguments.

    Input shape: (B, H, W, C). Output shape: the same.
    """

    def __init__(self, min_size, **kwargs):
        super().__init__(**kwargs)
        self.min_size = int(min_size)
        self.built = True

    def _message(self, shape):
        return (f"Input images must be at least {self.min_size}x"
                f"{self.min_size} pixels (the output stride), got {shape}.")

    def call(self, inputs):
        static = tuple(inputs.shape[1:3])
        if any(d is not None and d < self.min_size for d in static):
            raise ValueError(self._message(static))
        if all(d is not None for d in static):
            return inputs
        size = tf.shape(inputs)[1:3]
        with tf.control_dependencies([tf.debugging.assert_greater_equal(
                size, self.min_size, message=self._message("a smaller image"))]):
            return tf.identity(inputs)

    def compute_output_shape(self, input_shape):
        if any(d is not None and d < self.min_size for d in input_shape[1:3]):
            raise ValueError(self._message(tuple(input_shape[1:3])))
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(min_size=self.min_size)
        return config


def resize_bilinear(images, size, align_corners=True):
    """Bilinear resize with TF1 DeepLab's corner-aligned convention, or half-pixel centres.

    Args:
        images: (B, H, W, C) float tensor.
        size: (new_height, new_width), ints or an int32 tensor.
        align_corners: `True` (TF1 `resize_bilinear(align_corners=True)`,
            corners map to corners) or `False` (half-pixel centres).

    Returns:
        (B, new_height, new_width, C), the dtype of `images`.
    """
    if align_corners:
        resized = tf.raw_ops.ResizeBilinear(   # TF1 resize_bilinear
            images=images, size=size, align_corners=True,
            half_pixel_centers=False)
    else:
        resized = tf.image.resize(images, size, method="bilinear")
    return tf.cast(resized, images.dtype)


@keras.saving.register_keras_serializable(package="deeplab_tf")
class BilinearResize(keras.layers.Layer):
    """Resizes `x` bilinearly to the height and width of `reference`.

    Called on `[x, reference]`. DeepLab upsamples the image-pooling feature,
    the ASPP output (to the decoder's stride-4 map) and the logits (to the
    input) this way; with `align_corners=True` a `(d-1)*s+1` map lands
    exactly on the finer grid.

    Args:
        align_corners: see `resize_bilinear`.
        **kwargs: `keras.layers.Layer` arguments.

    Input: `[x (B, h, w, C), reference (B, H, W, ...)]`. Output: (B, H, W, C).

    Example:
    >>> BilinearResize()([keras.ops.zeros((1, 33, 33, 21)),
    ...                   keras.ops.zeros((1, 129, 129, 48))]).shape
    (1, 129, 129, 21)
    """

    def __init__(self, align_corners=True, **kwargs):
        super().__init__(**kwargs)
        self.align_corners = bool(align_corners)
        self.built = True

    def call(self, inputs):
        x, reference = inputs
        return resize_bilinear(x, tf.shape(reference)[1:3], self.align_corners)

    def compute_output_shape(self, input_shape):
        x_shape, reference_shape = input_shape
        return (x_shape[0], reference_shape[1], reference_shape[2], x_shape[3])

    def get_config(self):
        config = super().get_config()
        config.update(align_corners=self.align_corners)
        return config
