"""Feature extractors for EncNet: the shared dilated ResNet-s, or a tiny stand-in."""

import keras

from seg_common.backbones import build_resnet
from seg_common.layers import ConvBNAct

RESNET_DEPTHS = {"resnet_50": 50, "resnet_101": 101}


def build_backbone(config):
    """The feature extractor named by `config.backbone`, at output stride 8.

    "resnet_50" / "resnet_101" are the dilated deep-stem ResNet-50s / 101s
    of PyTorch-Encoding (`seg_common.backbones.build_resnet(style="s")`):
    c3 with dilation 2, c4 with dilation 4. "tiny" is `build_tiny_backbone`.

    Args:
        config: an `encnet_tf.Config`.

    Returns:
        A `keras.Model`: normalised images (B, H, W, 3) -> dict with at least
        "c2", "c3", "c4", all at stride 8 (c4 of ResNet: 2048 channels).
    """
    if config.backbone == "tiny":
        return build_tiny_backbone(config.input_shape, config.bn_momentum,
                                   config.bn_epsilon)
    return build_resnet(
        RESNET_DEPTHS[config.backbone], style="s", output_stride=8,
        momentum=config.bn_momentum, epsilon=config.bn_epsilon,
        weights=config.backbone_weights, input_shape=config.input_shape)


def build_tiny_backbone(input_shape=(None, None, 3), momentum=0.9,
                        epsilon=1e-5, width=8):
    """A five-layer stand-in with the strides and dilations of ResNet-s at OS8.

    Not a paper network: it exists so that the "tiny" preset builds and
    trains in seconds on a CPU while exercising every head path. Layout
    (ConvBNAct 3x3 each): stride 2 `width` -> stride 2 `2*width` (c1) ->
    stride 2 `2*width` (c2, stride 8) -> dilation 2 `4*width` (c3) ->
    dilation 4 `8*width` (c4).

    Args:
        input_shape: (H, W, 3); H and W may be `None`.
        momentum, epsilon: batch-norm settings.
        width: channels of the first layer.

    Returns:
        A `keras.Model`: (B, H, W, 3) -> {"c1", "c2", "c3", "c4"}, c1 at
        stride 4, the others at stride 8.

    Example:
    >>> net = build_tiny_backbone()
    >>> tuple(net(keras.ops.zeros((1, 64, 64, 3)))["c4"].shape)
    (1, 8, 8, 64)
    """
    conv = dict(momentum=momentum, epsilon=epsilon,
                kernel_initializer="he_normal")
    inputs = keras.Input(input_shape, name="images")
    x = ConvBNAct(width, 3, strides=2, name="tiny_conv1", **conv)(inputs)
    c1 = ConvBNAct(2 * width, 3, strides=2, name="tiny_c1", **conv)(x)
    c2 = ConvBNAct(2 * width, 3, strides=2, name="tiny_c2", **conv)(c1)
    c3 = ConvBNAct(4 * width, 3, dilation_rate=2, name="tiny_c3", **conv)(c2)
    c4 = ConvBNAct(8 * width, 3, dilation_rate=4, name="tiny_c4", **conv)(c3)
    return keras.Model(inputs, {"c1": c1, "c2": c2, "c3": c3, "c4": c4},
                       name="tiny_backbone")
