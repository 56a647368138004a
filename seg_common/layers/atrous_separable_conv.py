"""AtrousSeparableConv2D: depthwise (dilated) conv, BN, pointwise conv, BN."""

import keras

from seg_common.layers.batch_norm import batch_norm
from seg_common.layers.padding import (
    build_padding, fixed_padding, strided_output_shape)
from seg_common.layers.validation import (
    check_positive_int, check_rank, check_stride_and_rate)


@keras.saving.register_keras_serializable(package="seg_common")
class AtrousSeparableConv2D(keras.layers.Layer):
    """Atrous separable convolution of DeepLabv3+ (Chen et al., 2018).

    A depthwise `kernel_size` x `kernel_size` convolution with `dilation_rate`,
    batch norm, a 1x1 pointwise convolution to `filters` channels, batch norm.
    Two activation placements:

    - `depth_activation=False` (default, the released DeepLab Xception code):
      `act -> depthwise -> BN -> pointwise -> BN`, no activation inside.
    - `depth_activation=True` (the paper's "extra BN and ReLU after each 3x3
      depthwise convolution"; also DeepLab's ASPP/decoder and Xception
      `exit_flow/block2`): `depthwise -> BN -> act -> pointwise -> BN -> act`.

    Strided convolutions use explicit "fixed" padding of `(k_eff - 1) // 2`
    at the start and the rest at the end, so features do not shift by a pixel
    on even inputs (Keras `"same"` pads at the end only).

    Args:
        filters: output channels of the pointwise convolution.
        kernel_size: depthwise kernel size.
        strides: depthwise stride (1 or 2; only with `dilation_rate=1`).
        dilation_rate: atrous rate of the depthwise convolution.
        depth_activation: activation placement, see above.
        activation: the activation (`"relu"`).
        momentum: BN decay (0.9997 in DeepLab).
        epsilon: BN epsilon (1e-3 in the Xception backbone, 1e-5 in ASPP/decoder).
        depthwise_initializer, pointwise_initializer: kernel initialisers
            (DeepLab: truncated normal std 0.33 / 0.06 in ASPP and decoder).
        **kwargs: `keras.layers.Layer` arguments.

    Input shape: (B, H, W, C). Output shape: (B, ceil(H/s), ceil(W/s), filters).

    Example:
    >>> conv = AtrousSeparableConv2D(256, dilation_rate=6, depth_activation=True)
    >>> tuple(conv(keras.ops.zeros((1, 33, 33, 2048))).shape)
    (1, 33, 33, 256)

    Reference: https://arxiv.org/abs/1802.02611
    """

    def __init__(self, filters, kernel_size=3, strides=1, dilation_rate=1,
                 depth_activation=False, activation="relu", momentum=0.9997,
                 epsilon=1e-3, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.filters = check_positive_int("filters", filters)
        self.kernel_size = check_positive_int("kernel_size", kernel_size)
        check_stride_and_rate(strides, dilation_rate)
        self.strides = strides
        self.dilation_rate = dilation_rate
        self.depth_activation = bool(depth_activation)
        self.activation = keras.activations.get(activation)
        self.momentum = momentum
        self.epsilon = epsilon
        self.depthwise_initializer = keras.initializers.get(depthwise_initializer)
        self.pointwise_initializer = keras.initializers.get(pointwise_initializer)
        self.pad = (fixed_padding(kernel_size, dilation_rate, name="pad")
                    if strides > 1 else None)
        self.depthwise = keras.layers.DepthwiseConv2D(
            kernel_size, strides=strides, dilation_rate=dilation_rate,
            padding="valid" if strides > 1 else "same", use_bias=False,
            depthwise_initializer=self.depthwise_initializer, name="depthwise")
        self.depthwise_bn = batch_norm(momentum, epsilon, name="depthwise_bn")
        self.pointwise = keras.layers.Conv2D(
            filters, 1, use_bias=False,
            kernel_initializer=self.pointwise_initializer, name="pointwise")
        self.pointwise_bn = batch_norm(momentum, epsilon, name="pointwise_bn")

    def build(self, input_shape):
        check_rank("inputs", input_shape, (4,))
        shape = build_padding(self.pad, input_shape)
        self.depthwise.build(shape)
        shape = self.depthwise.compute_output_shape(shape)
        self.depthwise_bn.build(shape)
        self.pointwise.build(shape)
        self.pointwise_bn.build(self.pointwise.compute_output_shape(shape))

    def call(self, inputs, training=None):
        x = inputs
        if not self.depth_activation:
            x = self.activation(x)
        if self.pad is not None:
            x = self.pad(x)
        x = self.depthwise_bn(self.depthwise(x), training=training)
        if self.depth_activation:
            x = self.activation(x)
        x = self.pointwise_bn(self.pointwise(x), training=training)
        if self.depth_activation:
            x = self.activation(x)
        return x

    def compute_output_shape(self, input_shape):
        return strided_output_shape(input_shape, self.strides, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters, kernel_size=self.kernel_size,
            strides=self.strides, dilation_rate=self.dilation_rate,
            depth_activation=self.depth_activation,
            activation=keras.activations.serialize(self.activation),
            momentum=self.momentum, epsilon=self.epsilon,
            depthwise_initializer=keras.initializers.serialize(
                self.depthwise_initializer),
            pointwise_initializer=keras.initializers.serialize(
                self.pointwise_initializer))
        return config
