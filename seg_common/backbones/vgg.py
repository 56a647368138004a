"""VGG16 encoder units with batch norm (SegNet).

Layer names follow `keras.applications.VGG16` (`block1_conv1` ...
`block5_conv3`), so its ImageNet weights load by name
(`load_vgg16_weights`). Unlike VGG16 every convolution is followed by batch
norm (SegNet); the model pools each unit with ceil-mode argmax pooling.

Reference: https://arxiv.org/abs/1409.1556 (VGG),
https://arxiv.org/abs/1511.00561 (SegNet).
"""

import keras

from seg_common.backbones.weights import copy_layer_weights
from seg_common.layers import batch_norm

# (filters, convolutions) of the five VGG16 units.
VGG16_UNITS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))


def conv_bn(x, filters, kernel_size, name, activation="relu",
            bn_epsilon=1e-9, bn_beta_init=0.001):
    """Conv2D (with bias, MSRA init) -> batch norm -> optional ReLU.

    The convolution keeps its bias, as in the SegNet prototxts (it counts
    in the published parameter totals and VGG16 weights carry one).

    Args:
        x: (B, H, W, C_in) Keras tensor.
        filters: output channels.
        kernel_size: square kernel size, "same" padding, stride 1.
        name: name of the Conv2D; the BN and ReLU get `_bn`, `_relu`.
        activation: "relu" or None (SegNet-Basic decoder).
        bn_epsilon, bn_beta_init: batch-norm epsilon and beta start value.

    Returns:
        (B, H, W, filters) Keras tensor.
    """
    x = keras.layers.Conv2D(
        filters, kernel_size, padding="same", name=name,
        kernel_initializer=keras.initializers.VarianceScaling(
            2.0, "fan_in", "untruncated_normal"))(x)
    x = batch_norm(epsilon=bn_epsilon, name=f"{name}_bn",
                   beta_initializer=keras.initializers.Constant(
                       bn_beta_init))(x)
    if activation is not None:
        x = keras.layers.Activation(activation, name=f"{name}_relu")(x)
    return x


def vgg16_convs(x, unit, width_multiplier=1.0, **conv_options):
    """One VGG16 encoder unit's 2 or 3 x (3x3 conv, BN, ReLU).

    The caller pools the result with `MaxPoolWithArgmax2D` (named
    `block{unit}_pool`), so a model can act between the convolutions and the
    pooling (SegNet's dropout before pooling).

    Args:
        x: (B, H, W, C) Keras tensor.
        unit: 1..5.
        width_multiplier: scales the VGG16 channel count.
        **conv_options: `bn_epsilon`, `bn_beta_init` of `conv_bn`.

    Returns:
        (B, H, W, F) Keras tensor, F the unit's (scaled) width.

    Example:
    >>> x = keras.Input((45, 60, 3))
    >>> pre_pool = vgg16_convs(x, 1)   # 45x60x64
    """
    if unit not in range(1, 6):
        raise ValueError(f"`unit` must be one of 1..5, got {unit!r}.")
    filters, num_convs = VGG16_UNITS[unit - 1]
    filters = max(1, round(filters * width_multiplier))
    for i in range(1, num_convs + 1):
        x = conv_bn(x, filters, 3, f"block{unit}_conv{i}", **conv_options)
    return x


def load_vgg16_weights(model, weights="imagenet"):
    """Copies `keras.applications.VGG16` conv kernels and biases into `model`.

    Args:
        model: a model holding Conv2D layers named like VGG16's
            (`block1_conv1` ... `block5_conv3`).
        weights: "imagenet" (downloads) or a path `VGG16(weights=...)` reads
            (e.g. the `*_notop.h5` file or a saved `.weights.h5`).

    Returns:
        The number of convolution layers loaded (13).

    Raises:
        ValueError: a VGG16 convolution has no same-named layer in `model`.
    """
    vgg = keras.applications.VGG16(include_top=False, weights=weights,
                                   input_shape=(None, None, 3))
    return copy_layer_weights(vgg, model)
