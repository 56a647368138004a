"""ConvBNAct: convolution, batch norm, activation."""

import keras

from seg_common.layers.batch_norm import batch_norm
from seg_common.layers.padding import (
    build_padding, fixed_padding, strided_output_shape)
from seg_common.layers.validation import (
    check_positive_int, check_rank, check_stride_and_rate)


@keras.saving.register_keras_serializable(package="seg_common")
class ConvBNAct(keras.layers.Layer):
    """`Conv2D` -> batch norm (synchronized) -> activation, the one conv helper.

    Strided convolutions use explicit "fixed" padding (TF1 DeepLab's
    `conv2d_same`), stride-1 convolutions `"same"` padding, so the output has
    `ceil(H / strides)` rows for every `H`. The convolution has no bias when
    followed by batch norm.

    Args:
        filters: output channels.
        kernel_size: square kernel size.
        strides: convolution stride.
        dilation_rate: atrous rate (stride must then be 1).
        activation: activation name or `None` for a linear output.
        use_batch_norm: add batch norm after the convolution.
        momentum, epsilon: batch-norm settings.
        kernel_initializer: initialiser of the convolution kernel.
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Input shape: (B, H, W, C_in). Output shape: (B, ceil(H/s), ceil(W/s), filters).

    Example:
    >>> y = ConvBNAct(64, 3, strides=2)(keras.ops.zeros((1, 33, 33, 3)))
    >>> tuple(y.shape)
    (1, 17, 17, 64)
    """

    def __init__(self, filters, kernel_size=3, strides=1, dilation_rate=1,
                 activation="relu", use_batch_norm=True, momentum=0.99,
                 epsilon=1e-3, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.filters = check_positive_int("filters", filters)
        self.kernel_size = check_positive_int("kernel_size", kernel_size)
        check_stride_and_rate(strides, dilation_rate)
        self.strides = strides
        self.dilation_rate = dilation_rate
        self.activation = keras.activations.get(activation)
        self.use_batch_norm = use_batch_norm
        self.momentum = momentum
        self.epsilon = epsilon
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.pad = (fixed_padding(kernel_size, dilation_rate, name="pad")
                    if strides > 1 else None)
        self.conv = keras.layers.Conv2D(
            filters, kernel_size, strides=strides, dilation_rate=dilation_rate,
            padding="valid" if strides > 1 else "same",
            use_bias=not use_batch_norm,
            kernel_initializer=self.kernel_initializer, name="conv")
        self.bn = (batch_norm(momentum, epsilon, name="bn")
                   if use_batch_norm else None)

    def build(self, input_shape):
        check_rank("inputs", input_shape, (4,))
        shape = build_padding(self.pad, input_shape)
        self.conv.build(shape)
        if self.bn is not None:
            self.bn.build(self.conv.compute_output_shape(shape))

    def call(self, inputs, training=None):
        x = inputs if self.pad is None else self.pad(inputs)
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x, training=training)
        return self.activation(x)

    def compute_output_shape(self, input_shape):
        return strided_output_shape(input_shape, self.strides, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters, kernel_size=self.kernel_size,
            strides=self.strides, dilation_rate=self.dilation_rate,
            activation=keras.activations.serialize(self.activation),
            use_batch_norm=self.use_batch_norm, momentum=self.momentum,
            epsilon=self.epsilon,
            kernel_initializer=keras.initializers.serialize(
                self.kernel_initializer))
        return config
