"""Registered layer of the DeepLabv3+ model: the input size check."""

import keras
import tensorflow as tf


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
