"""DeepLabv3+ (and DeepLabv3): backbone, ASPP, decoder, upsampled logits.

Layer names follow the TF1 scopes (`aspp0`, `image_pooling`, `aspp1..3`,
`concat_projection`, `decoder_feature_projection0`, `decoder_conv0/1`,
`logits_semantic`) so `tools/convert_tf1_deeplab_checkpoint.py` can map the
released checkpoints.
"""


import keras

from deeplab_tf.config import Config
from deeplab_tf.layers import InputSizeCheck
from seg_common.layers import BilinearResize, InputNormalization
from seg_common.backbones import build_resnet, build_xception
from seg_common.config import resolve_config as shared_resolve_config
from seg_common.layers import AtrousSeparableConv2D, ConvBNAct

CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)   # keras.applications.resnet
HEAD_MOMENTUM, HEAD_EPSILON = 0.9997, 1e-5   # ref ASPP/decoder batch norm
_DEPTHWISE_INIT = {"class_name": "TruncatedNormal", "config": {"stddev": 0.33}}
_POINTWISE_INIT = {"class_name": "TruncatedNormal", "config": {"stddev": 0.06}}
_LOGITS_INIT = {"class_name": "TruncatedNormal", "config": {"stddev": 0.01}}


def resolve_config(config=None, **overrides):
    """`config` (default `Config()`) with `overrides` applied (TypeError
    naming an unknown field)."""
    return shared_resolve_config(Config, config, overrides)


def build_backbone(config):
    """The backbone of `config`, its input normalisation and final-feature key.

    Returns:
        `(backbone keras.Model, InputNormalization, key of the last feature)`.
    """
    kind, depth = config.backbone.split("_")
    if kind == "xception":
        if config.backbone_weights == "imagenet":
            raise ValueError(
                "Xception `backbone_weights` is a .weights.h5 path, e.g. from "
                "tools/convert_tf1_deeplab_checkpoint.py --backbone_only.")
        backbone = build_xception(
            depth if depth == "tiny" else int(depth), config.output_stride,
            config.multi_grid, config.separable_order, name=config.backbone)
        if config.backbone_weights is not None:
            backbone.load_weights(config.backbone_weights)
        return backbone, InputNormalization(1 / 127.5, -1.0), "exit_flow"
    style = "beta" if config.resnet_stem == "beta" else "keras"
    backbone = build_resnet(
        int(depth), style, config.output_stride, config.multi_grid,
        weights=config.backbone_weights, name=config.backbone)
    if style == "keras":   # keras.applications "caffe" preprocessing
        normalize = InputNormalization(1.0, [-m for m in CAFFE_MEAN_BGR],
                                       reverse_channels=True)
    else:   # ref feature_extractor: resnet_v1_*_beta -> x / 127.5 - 1
        normalize = InputNormalization(1 / 127.5, -1.0)
    return backbone, normalize, "c4"


def _conv3x3(config, filters, rate, name):
    if config.separable:
        return AtrousSeparableConv2D(
            filters, dilation_rate=rate, depth_activation=True,
            momentum=HEAD_MOMENTUM, epsilon=HEAD_EPSILON,
            depthwise_initializer=_DEPTHWISE_INIT,
            pointwise_initializer=_POINTWISE_INIT, name=name)
    return ConvBNAct(filters, 3, dilation_rate=rate, momentum=HEAD_MOMENTUM,
                     epsilon=HEAD_EPSILON, name=name)


def _conv1x1(filters, name):
    return ConvBNAct(filters, 1, momentum=HEAD_MOMENTUM, epsilon=HEAD_EPSILON,
                     name=name)


def atrous_spatial_pyramid_pooling(features, config):
    """ASPP: [image pooling], 1x1, three atrous 3x3, concat, 1x1 projection, dropout.

    Args:
        features: (B, h, w, C) backbone output.
        config: the `Config`.

    Returns:
        (B, h, w, aspp_channels).
    """
    depth, branches = config.aspp_channels, []
    if config.image_pooling:
        pooled = keras.layers.GlobalAveragePooling2D(
            keepdims=True, name="image_pooling_mean")(features)   # [B,1,1,C]
        pooled = _conv1x1(depth, "image_pooling")(pooled)
        branches.append(BilinearResize(config.align_corners,
                                       name="image_pooling_resize")(
                                           [pooled, features]))
    branches.append(_conv1x1(depth, "aspp0")(features))
    for i, rate in enumerate(config.rates, start=1):
        branches.append(_conv3x3(config, depth, rate, f"aspp{i}")(features))
    x = keras.layers.Concatenate(name="aspp_concat")(branches)
    x = _conv1x1(depth, "concat_projection")(x)
    return keras.layers.Dropout(config.dropout_rate,
                                name="concat_projection_dropout")(x)


def decoder(encoder_output, low_level, config):
    """The DeepLabv3+ decoder at stride 4.

    Args:
        encoder_output: (B, h, w, aspp_channels) ASPP output.
        low_level: (B, H/4, W/4, C) the backbone's low-level tap.
        config: the `Config`.

    Returns:
        (B, H/4, W/4, decoder_channels).
    """
    low = _conv1x1(config.low_level_channels,
                   "decoder_feature_projection0")(low_level)
    up = BilinearResize(config.align_corners, name="decoder_resize")(
        [encoder_output, low])
    x = keras.layers.Concatenate(name="decoder_concat")([up, low])
    for i in range(2):
        x = _conv3x3(config, config.decoder_channels, 1, f"decoder_conv{i}")(x)
    return x


def build_model(config: Config | None = None, **overrides) -> keras.Model:
    """Builds DeepLabv3+ (or DeepLabv3 with `decoder=False`).

    Args:
        config: a `Config` (default `Config()`, Xception-65 VOC).
        **overrides: `Config` field names and values.

    Returns:
        A `keras.Model`: float32 RGB 0..255 (B, H, W, 3) ->
        `{"logits": (B, H, W, num_classes)}` at input resolution. H and W
        must be at least `output_stride`.

    Raises:
        TypeError: unknown override. ValueError: bad field value.

    Example:
    >>> model = build_model(num_classes=21, backbone="xception_65",
    ...                     output_stride=16, decoder=True, separable=True)
    >>> model(keras.ops.zeros((1, 513, 513, 3)))["logits"].shape
    TensorShape([1, 513, 513, 21])

    Reference: https://arxiv.org/abs/1802.02611
    """
    config = resolve_config(config, **overrides)
    backbone, normalize, key = build_backbone(config)
    inputs = keras.Input(config.input_shape, name="images")
    x = InputSizeCheck(config.output_stride, name="input_size_check")(inputs)
    features = backbone(normalize(x))
    x = atrous_spatial_pyramid_pooling(features[key], config)
    if config.decoder:
        x = decoder(x, features["low_level"], config)
    logits = keras.layers.Conv2D(
        config.num_classes, 1, kernel_initializer=_LOGITS_INIT,
        name="logits_semantic")(x)
    logits = BilinearResize(config.align_corners, dtype="float32",
                            name="logits_resize")([logits, inputs])
    name = "deeplabv3plus" if config.decoder else "deeplabv3"
    return keras.Model(inputs, {"logits": logits},
                       name=f"{name}_{config.backbone}")
