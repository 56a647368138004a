"""Stems and bottleneck units of the three ResNet v1 layouts of `resnet.py`.

Each unit function returns `(output, conv3)`: the unit output after the
residual sum and ReLU, and the batch-normed output of its last 1x1 conv before
the sum (TF1 slim's `.../bottleneck_v1/conv3` end point, DeepLab's decoder tap).
"""

import keras

from seg_common.layers import ConvBNAct, batch_norm

_KERAS_EPSILON = 1.001e-5  # keras.applications.resnet


def deep_stem(x, *, pool_padding, momentum, epsilon):
    """3x3/2 conv 64 -> 3x3 conv 64 -> 3x3 conv 128 (BN, ReLU each) -> 3x3/2 max-pool.

    Args:
        x: (B, H, W, 3) normalised images.
        pool_padding: `"same"` (TF `SAME`, DeepLab) or `"symmetric"` (pad 1 on
            both sides, PyTorch `padding=1`; equal to -inf padding after ReLU).
        momentum, epsilon: batch-norm settings.

    Returns:
        (B, ceil(H/4), ceil(W/4), 128).
    """
    conv = dict(momentum=momentum, epsilon=epsilon,
                kernel_initializer="he_normal")
    x = ConvBNAct(64, 3, strides=2, name="conv1_1", **conv)(x)
    x = ConvBNAct(64, 3, name="conv1_2", **conv)(x)
    x = ConvBNAct(128, 3, name="conv1_3", **conv)(x)
    if pool_padding == "symmetric":
        x = keras.layers.ZeroPadding2D(1, name="pool1_pad")(x)
    return keras.layers.MaxPooling2D(
        3, strides=2, padding="same" if pool_padding == "same" else "valid",
        name="pool1")(x)


def keras_stem(x, *, momentum):
    """keras.applications ResNet stem: pad 3, 7x7/2 conv 64 (bias), BN, ReLU, pad 1, 3x3/2 max-pool.

    Returns:
        (B, ceil(H/4), ceil(W/4), 64).
    """
    x = keras.layers.ZeroPadding2D(3, name="conv1_pad")(x)
    x = keras.layers.Conv2D(64, 7, strides=2, name="conv1_conv")(x)
    x = batch_norm(momentum, _KERAS_EPSILON, name="conv1_bn")(x)
    x = keras.layers.Activation("relu", name="conv1_relu")(x)
    x = keras.layers.ZeroPadding2D(1, name="pool1_pad")(x)
    return keras.layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)


def slim_unit(x, *, base_depth, stride, dilation, first, momentum, epsilon,
              name):
    """Bottleneck 1x1 -> 3x3 (stride, dilation) -> 1x1 (x4), BN after each conv.

    Serves TF1 slim `resnet_v1_beta` (DeepLab) and PyTorch `resnet50s`
    (EncNet): both put the stride on the 3x3 conv. The projection shortcut
    (1x1 conv + BN) exists in the first unit of a block only, so the variables
    never depend on the output stride; other units use the identity, or a 1x1
    subsampling when strided (slim `subsample`).

    Args:
        x: (B, H, W, C) input.
        base_depth: bottleneck width; the unit outputs `4 * base_depth`.
        stride: the effective stride of this unit (after de-striding).
        dilation: atrous rate of the 3x3 conv.
        first: whether this is the first unit of its block.
        momentum, epsilon: batch-norm settings.
        name: prefix of the layer names, e.g. `"block1_unit_1"`.

    Returns:
        `(output, conv3)`, both (B, ceil(H/stride), ceil(W/stride), 4*base_depth).
    """
    depth = 4 * base_depth
    conv = dict(momentum=momentum, epsilon=epsilon,
                kernel_initializer="he_normal")
    if first:
        shortcut = ConvBNAct(depth, 1, strides=stride, activation=None,
                             name=f"{name}_shortcut", **conv)(x)
    elif stride > 1:
        shortcut = keras.layers.MaxPooling2D(
            1, strides=stride, name=f"{name}_shortcut")(x)
    else:
        shortcut = x
    y = ConvBNAct(base_depth, 1, name=f"{name}_conv1", **conv)(x)
    y = ConvBNAct(base_depth, 3, strides=stride, dilation_rate=dilation,
                  name=f"{name}_conv2", **conv)(y)
    conv3 = ConvBNAct(depth, 1, activation=None, name=f"{name}_conv3",
                      **conv)(y)
    y = keras.layers.Add(name=f"{name}_add")([shortcut, conv3])
    return keras.layers.Activation("relu", name=f"{name}_out")(y), conv3


def keras_unit(x, *, base_depth, stride, dilation, first, momentum, name):
    """keras.applications `residual_block_v1`, with a dilated 3x3 conv.

    Conv biases everywhere, BN epsilon 1.001e-5, the stride on the first 1x1
    conv and on the shortcut; layer names as in keras.applications
    (`conv2_block1_1_conv`, ...) so its weights map one-to-one.

    Args:
        x: (B, H, W, C) input.
        base_depth, stride, dilation, first, momentum: as in `slim_unit`.
        name: keras.applications prefix, e.g. `"conv2_block1"`.

    Returns:
        `(output, conv3)` as in `slim_unit`.
    """
    depth = 4 * base_depth

    def conv_bn(y, filters, kernel, suffix, strides=1, rate=1):
        y = keras.layers.Conv2D(filters, kernel, strides=strides,
                                dilation_rate=rate, padding="same" if kernel > 1
                                else "valid", name=f"{name}_{suffix}_conv")(y)
        return batch_norm(momentum, _KERAS_EPSILON,
                          name=f"{name}_{suffix}_bn")(y)

    shortcut = conv_bn(x, depth, 1, "0", strides=stride) if first else x
    y = conv_bn(x, base_depth, 1, "1", strides=stride)
    y = keras.layers.Activation("relu", name=f"{name}_1_relu")(y)
    y = conv_bn(y, base_depth, 3, "2", rate=dilation)
    y = keras.layers.Activation("relu", name=f"{name}_2_relu")(y)
    conv3 = conv_bn(y, depth, 1, "3")
    y = keras.layers.Add(name=f"{name}_add")([shortcut, conv3])
    return keras.layers.Activation("relu", name=f"{name}_out")(y), conv3
