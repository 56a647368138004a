"""EncNet: dilated ResNet + Context Encoding Module + SE-loss heads."""

import keras

from seg_common.layers import BilinearResize, ConvBNAct

from encnet_tf.backbone import build_backbone
from encnet_tf.config import Config
from seg_common.config import resolve_config
from encnet_tf.layers import (
    ContextEncoding, FeaturemapAttention, image_normalization)


def build_model(config: Config | None = None, **overrides) -> keras.Model:
    """Builds EncNet (or the FCN baseline) as a functional `keras.Model`.

    Stage-4 head (paper Fig. 2): conv5 3x3 -> 512 + BN + ReLU [-> lateral fusion
    of c2, c3] -> Context Encoding Module ([1x1 projection feeding only the
    Encoding layer] Encoding,
    BN over K, ReLU, sum/mean over K -> e; gamma = sigmoid(FC(e));
    Y = X * gamma or relu(X + X * gamma)) -> Dropout(0.1) -> 1x1 conv ->
    bilinear x8 upsampling. SE head: FC on e. Stage-3 branch (paper): 1x1
    conv on c3 -> its own Context Encoding -> FC. Aux head (reference code): FCN
    head on c3. Head layer names start with "head", so
    `lr_multipliers=(("head", 10.0),)` gives the reference's 10x head rate.

    Args:
        config: an `encnet_tf.Config` (default `Config()`, PASCAL-Context).
        **overrides: `Config` field names and values.

    Returns:
        A `keras.Model`: float32 RGB 0..255 (B, H, W, 3) -> dict with
        "logits" (B, H, W, num_classes), and when enabled
        "se_logits_stage4" / "se_logits_stage3" (B, num_classes) and
        "aux_logits" (B, H, W, num_classes); float32 outputs also under a
        mixed-precision policy.

    Raises:
        TypeError: unknown override. ValueError: bad field value.

    Example:
    >>> model = encnet_tf.build_model(encnet_tf.PRESETS["tiny"])
    >>> sorted(model(keras.ops.zeros((2, 64, 64, 3))))
    ['logits', 'se_logits_stage3', 'se_logits_stage4']

    Reference: https://arxiv.org/abs/1803.08904
    """
    config = resolve_config(Config, config, overrides)
    images = keras.Input(config.input_shape, name="images")
    features = build_backbone(config)(image_normalization()(images))
    x = _conv(config, 3, "head_conv5")(features["c4"])
    if config.lateral:
        x = _lateral_fusion(x, features, config)
    outputs = {}
    if config.encoding:
        x, encoded = _context_encoding_module(x, config)
        if config.se_loss:
            outputs["se_logits_stage4"] = keras.layers.Dense(
                config.num_classes, dtype="float32",
                name="head_se_stage4")(encoded)
    outputs["logits"] = _classifier(x, images, config, "head")
    if config.stage3_encoding:
        s = _conv(config, 1, "head_stage3_conv")(features["c3"])
        encoded3 = _encoding(config, "head_stage3_context_encoding")(s)
        outputs["se_logits_stage3"] = keras.layers.Dense(
            config.num_classes, dtype="float32",
            name="head_stage3_se")(encoded3)
    if config.aux_head:
        a = ConvBNAct(config.aux_channels, 3, momentum=config.bn_momentum,
                      epsilon=config.bn_epsilon,
                      name="head_aux_conv")(features["c3"])
        outputs["aux_logits"] = _classifier(a, images, config, "head_aux")
    name = "encnet" if config.encoding else "fcn"
    return keras.Model(images, outputs, name=f"{name}_{config.backbone}")


def _conv(config, kernel_size, name):
    return ConvBNAct(config.head_channels, kernel_size,
                     momentum=config.bn_momentum, epsilon=config.bn_epsilon,
                     name=name)


def _encoding(config, name):
    return ContextEncoding(config.num_codes, config.aggregation,
                           momentum=config.bn_momentum,
                           epsilon=config.bn_epsilon, name=name)


def _lateral_fusion(x, features, config):
    """Reference-code lateral path: 1x1 convs on c2, c3; concat; 3x3 fusion."""
    c2 = _conv(config, 1, "head_lateral_c2")(features["c2"])
    c3 = _conv(config, 1, "head_lateral_c3")(features["c3"])
    x = keras.layers.Concatenate(name="head_lateral_concat")([x, c2, c3])
    return _conv(config, 3, "head_lateral_fusion")(x)


def _context_encoding_module(x, config):
    """Returns `(Y, e)`: the attended featuremap and the encoded vector.

    The optional 1x1 conv + BN + ReLU projection (reference code) feeds only
    the Encoding Layer; the featuremap attention scales the module's own
    input `x` (paper Fig. 2; PyTorch-Encoding `EncModule`).
    """
    encoder_input = x
    if config.encoding_projection:
        encoder_input = _conv(config, 1, "head_encoding_projection")(x)
    encoded = _encoding(config, "head_context_encoding")(encoder_input)  # [B, D]
    gamma = keras.layers.Dense(config.head_channels, activation="sigmoid",
                               name="head_attention_fc")(encoded)
    y = FeaturemapAttention(config.attention, name="head_attention")([x, gamma])
    return y, encoded


def _classifier(x, images, config, prefix):
    """Element-wise dropout -> 1x1 conv with bias -> bilinear resize to the input."""
    x = keras.layers.Dropout(config.dropout_rate, name=f"{prefix}_dropout")(x)
    x = keras.layers.Conv2D(config.num_classes, 1,
                            name=f"{prefix}_classifier")(x)
    return BilinearResize(config.align_corners, dtype="float32",
                              name=f"{prefix}_upsample")([x, images])
