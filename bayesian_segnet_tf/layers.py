"""Model-only layer of SegNet: Caffe's local response normalisation."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="bayesian_segnet_tf")
class LocalResponseNormalization(keras.layers.Layer):
    """Caffe cross-channel LRN, `y = x / (k + alpha / size * sum x^2)^beta`.

    The sum runs over the `size` channels centred on each channel (zero
    padded at the ends). SegNet-Basic applies it to the raw 0..255 input.
    Computed in float32 whatever the dtype policy.

    Args:
        size: odd window of channels (Caffe `local_size`).
        alpha, beta, k: Caffe `alpha`, `beta`, `k`.
        **kwargs: `keras.layers.Layer` arguments.

    Input shape: (B, H, W, C). Output shape: the same.

    Example:
    >>> y = LocalResponseNormalization()(keras.ops.ones((1, 4, 4, 3)))

    Reference: https://arxiv.org/abs/1511.00561 (SegNet-Basic, `norm` layer).
    """

    def __init__(self, size=5, alpha=1e-4, beta=0.75, k=1.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(size, bool) or not isinstance(size, int) or (
                size < 1 or size % 2 == 0):
            raise ValueError(f"`size` must be an odd integer >= 1, got "
                             f"{size!r}.")
        self.size = size
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.k = float(k)

    def call(self, inputs):
        y = tf.nn.local_response_normalization(
            tf.cast(inputs, tf.float32), depth_radius=self.size // 2,
            bias=self.k, alpha=self.alpha / self.size, beta=self.beta)
        return tf.cast(y, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size, alpha=self.alpha, beta=self.beta,
                      k=self.k)
        return config
