"""SegNet and SegNet-Basic with the Bayesian SegNet MC dropout placements.

The architectures of `alexgkendall/SegNet-Tutorial` `Models/*.prototxt`:
argmax max-unpooling to the pre-pool shape, BN after every
convolution but the classifier, element-wise `MCDropout` after the encoder
and decoder units the dropout variant selects.
"""

import keras

from bayesian_segnet_tf.config import (
    Config, dropout_layer_name, dropout_positions)
from bayesian_segnet_tf.layers import LocalResponseNormalization
from bayesian_segnet_tf.pretrained import load_shipped_weights, pretrained_entry
from seg_common.backbones.vgg import (
    VGG16_UNITS, conv_bn, load_vgg16_weights, vgg16_convs)
from seg_common.config import resolve_config
from seg_common.layers import (InputNormalization, MCDropout, MaxPoolWithArgmax2D,
                               MaxUnpool2D)

_BASIC_DEPTH = 4
_BASIC_KERNEL = 7  # SegNet-Basic: 7x7 convolutions


def build_model(config: Config | None = None, weights: str | None = None,
                **overrides) -> keras.Model:
    """Builds SegNet or SegNet-Basic (Bayesian when `dropout` != "none").

    Args:
        config: a `Config` (default `Config()`).
        weights: the name of shipped trained weights
            (`bayesian_segnet_tf.pretrained.PRETRAINED`, e.g.
            "camvid_central"): the model gets the architecture they were
            trained with (before `overrides`) and their values.
        **overrides: `Config` fields, e.g. `arch="segnet_basic"`.

    Returns:
        A functional `keras.Model`: float32 RGB 0..255 (B, H, W, 3) ->
        `{"logits": (B, H, W, num_classes)}`. Dropout is off at inference
        until `mc_predict` (or `set_mc_sampling`) turns it on.

    Example:
    >>> model = build_model(num_classes=11, arch="segnet_basic")
    >>> model(keras.ops.zeros((1, 45, 60, 3)))["logits"].shape
    TensorShape([1, 45, 60, 11])

    Reference: https://arxiv.org/abs/1511.02680
    """
    if weights is not None:
        overrides = {**pretrained_entry(weights).config, **overrides}
    config = resolve_config(Config, config, overrides)
    inputs = keras.Input(config.input_shape, name="image")
    x = InputNormalization(reverse_channels=True, name="rgb_to_bgr")(inputs)  # reference: BGR 0..255
    body = _segnet_basic if config.arch == "segnet_basic" else _segnet
    logits = body(x, config)
    model = keras.Model(inputs, {"logits": logits}, name=config.arch)
    if config.encoder_weights is not None:
        load_vgg16_weights(model, config.encoder_weights)
    if weights is not None:
        load_shipped_weights(model, weights)
    return model


def _dropout(x, config, positions, position, unit):
    """MC dropout at (`position`, `unit`) if the variant places one there."""
    if (position, unit) not in positions:
        return x
    return MCDropout(config.dropout_rate,
                     name=dropout_layer_name(position, unit))(x)


def _options(config):
    return {"bn_epsilon": config.bn_epsilon,
            "bn_beta_init": config.bn_beta_init}


def _init():
    return keras.initializers.VarianceScaling(2.0, "fan_in",
                                              "untruncated_normal")


def _segnet(x, config):
    depth = len(VGG16_UNITS)
    positions = dropout_positions(config.dropout, depth)
    skips = []
    for unit in range(1, depth + 1):
        pre_pool = vgg16_convs(x, unit, config.width_multiplier,
                               **_options(config))
        pre_pool = _dropout(pre_pool, config, positions, "pre_pool", unit)
        x, indices = MaxPoolWithArgmax2D(name=f"block{unit}_pool")(pre_pool)
        x = _dropout(x, config, positions, "post_pool", unit)
        skips.append((indices, pre_pool))
    for unit in range(depth, 0, -1):
        indices, pre_pool = skips[unit - 1]
        x = MaxUnpool2D(name=f"upsample{unit}")([x, indices, pre_pool])
        x = _segnet_decoder_unit(x, unit, config)
        x = _dropout(x, config, positions, "decoder", unit)
    # conv1_1_D (or `classifier`): 3x3 to the classes, bias, no BN or ReLU.
    name = "classifier" if config.separate_classifier else "conv1_1_D"
    return keras.layers.Conv2D(config.num_classes, 3, padding="same",
                               name=name, kernel_initializer=_init())(x)


def _segnet_decoder_unit(x, unit, config):
    """Mirrors encoder unit `unit`: conv{u}_{n..1}_D, the last one narrowing
    to the previous unit's width (unit 1 stops before its classifier unless
    `separate_classifier`)."""
    filters, num_convs = VGG16_UNITS[unit - 1]
    next_filters = VGG16_UNITS[unit - 2][0] if unit > 1 else filters
    widths = [filters] * (num_convs - 1) + [next_filters]
    if unit == 1 and not config.separate_classifier:
        widths = widths[:-1]  # conv1_1_D is the classifier
    for i, width in zip(range(num_convs, 0, -1), widths):
        x = conv_bn(x, max(1, round(width * config.width_multiplier)), 3,
                    f"conv{unit}_{i}_D", **_options(config))
    return x


def _segnet_basic(x, config):
    positions = dropout_positions(config.dropout, _BASIC_DEPTH)
    width = max(1, round(64 * config.width_multiplier))
    x = LocalResponseNormalization(5, 1e-4, 0.75, 1.0, name="norm")(x)
    skips = []
    for unit in range(1, _BASIC_DEPTH + 1):
        pre_pool = conv_bn(x, width, _BASIC_KERNEL, f"conv{unit}",
                           **_options(config))
        pre_pool = _dropout(pre_pool, config, positions, "pre_pool", unit)
        x, indices = MaxPoolWithArgmax2D(name=f"pool{unit}")(pre_pool)
        x = _dropout(x, config, positions, "post_pool", unit)
        skips.append((indices, pre_pool))
    for unit in range(_BASIC_DEPTH, 0, -1):
        indices, pre_pool = skips[unit - 1]
        x = MaxUnpool2D(name=f"upsample{unit}")([x, indices, pre_pool])
        x = conv_bn(x, width, _BASIC_KERNEL, f"conv_decode{unit}",
                    activation=None, **_options(config))  # no ReLU
        x = _dropout(x, config, positions, "decoder", unit)
    return keras.layers.Conv2D(config.num_classes, 1, name="conv_classifier",
                               kernel_initializer=_init())(x)
