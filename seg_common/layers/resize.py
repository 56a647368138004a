"""Bilinear resizing with either corner convention, as a function and a layer.

TF1 DeepLab (`resize_bilinear(align_corners=True)`) and PyTorch-Encoding
(`F.interpolate(align_corners=True)`) map corner pixels onto corner pixels;
`align_corners=False` uses half-pixel centres (`tf.image.resize`).
"""

import keras
import tensorflow as tf


def resize_bilinear(images, size, align_corners=True):
    """Bilinear resize of (B, H, W, C) `images` to `size`.

    Args:
        images: (B, H, W, C) float tensor.
        size: (new_height, new_width), ints or an int32 tensor.
        align_corners: `True`: corners map to corners (a `(d-1)*s+1` map
            lands exactly on the finer grid); `False`: half-pixel centres.

    Returns:
        (B, new_height, new_width, C), the dtype of `images`.
    """
    resized = tf.raw_ops.ResizeBilinear(
        images=images, size=size, align_corners=align_corners,
        half_pixel_centers=not align_corners)
    return tf.cast(resized, images.dtype)


@keras.saving.register_keras_serializable(package="seg_common")
class BilinearResize(keras.layers.Layer):
    """Resizes `x` bilinearly to the height and width of `reference`.

    DeepLab upsamples its image-pooling feature, ASPP output and logits this
    way; EncNet its logits (x8 to the input).

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
