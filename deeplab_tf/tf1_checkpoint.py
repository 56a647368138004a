"""Loading official TF1 DeepLab checkpoints (`research/deeplab`, slim) into `build_model`.

Every Keras variable has one TF1 name, derived from the layer names (which
are the TF1 scopes with `/` -> `_`):

| Keras | TF1 |
|---|---|
| backbone `xception_65` / `_71` | scope `xception_65` / `_71` |
| backbone `resnet_50` / `_101`, `resnet_stem="beta"` | scope `resnet_v1_50` / `_101` |
| `entry_flow_block1_unit_1_separable_conv1` | `entry_flow/block1/unit_1/xception_module/separable_conv1` |
| `block1_unit_1_conv1` | `block1/unit_1/bottleneck_v1/conv1` |
| `decoder_feature_projection0`, `decoder_conv0` | `decoder/feature_projection0`, `decoder/decoder_conv0` (regular: `decoder/decoder_conv0/decoder_conv0_1`) |
| `logits_semantic` | `logits/semantic` |
| `ConvBNAct` conv kernel / BN | `<scope>/weights`, `<scope>/BatchNorm/{gamma,beta,moving_mean,moving_variance}` |
| `AtrousSeparableConv2D` | `<scope>_depthwise/depthwise_weights` (+ `/BatchNorm/*`), `<scope>_pointwise/weights` (+ `/BatchNorm/*`) |

Reference: https://github.com/tensorflow/models/tree/master/research/deeplab
"""

import os
import re

import keras
import tensorflow as tf

from seg_common.layers import AtrousSeparableConv2D, ConvBNAct

BACKBONE_SCOPES = {"xception_65": "xception_65", "xception_71": "xception_71",
                   "resnet_50": "resnet_v1_50", "resnet_101": "resnet_v1_101",
                   "xception_tiny": "xception_tiny"}   # tiny: same rules, tests
_RULES = (
    (r"^(entry_flow|middle_flow|exit_flow)_(block\d+)_(unit_\d+)_(.+)$",
     r"\1/\2/\3/xception_module/\4"),
    (r"^entry_flow_(conv1_\d)$", r"entry_flow/\1"),
    (r"^(block\d)_(unit_\d+)_(.+)$", r"\1/\2/bottleneck_v1/\3"),
    (r"^decoder_(feature_projection\d)$", r"decoder/\1"),
    (r"^logits_semantic$", "logits/semantic"),
)
# Checkpoint entries that hold training state, not weights.
TRAINING_STATE = re.compile(r"(global_step|/Momentum$|ExponentialMovingAverage"
                            r"|/Adam(_1)?$|^beta[12]_power)")
_BN = ("gamma", "beta", "moving_mean", "moving_variance")


def _scope(layer_name, separable):
    match = re.match(r"^decoder_conv(\d)$", layer_name)
    if match:
        i = int(match.group(1))
        return (f"decoder/decoder_conv{i}" if separable
                else f"decoder/decoder_conv0/decoder_conv0_{i + 1}")
    for pattern, replacement in _RULES:
        if re.match(pattern, layer_name):
            return re.sub(pattern, replacement, layer_name)
    return layer_name


def _layer_variables(layer, scope):
    if isinstance(layer, ConvBNAct):
        pairs = [(f"{scope}/weights", layer.conv.kernel)]
        if layer.bn is None:
            return pairs + [(f"{scope}/biases", layer.conv.bias)]
        return pairs + [(f"{scope}/BatchNorm/{n}", getattr(layer.bn, n))
                        for n in _BN]
    if isinstance(layer, AtrousSeparableConv2D):
        return ([(f"{scope}_depthwise/depthwise_weights",
                  layer.depthwise.kernel),
                 (f"{scope}_pointwise/weights", layer.pointwise.kernel)]
                + [(f"{scope}_depthwise/BatchNorm/{n}",
                    getattr(layer.depthwise_bn, n)) for n in _BN]
                + [(f"{scope}_pointwise/BatchNorm/{n}",
                    getattr(layer.pointwise_bn, n)) for n in _BN])
    if isinstance(layer, keras.layers.Conv2D):
        return [(f"{scope}/weights", layer.kernel),
                (f"{scope}/biases", layer.bias)]
    return []


def check_config(config):
    """Raises ValueError unless TF1 checkpoints exist for `config.backbone`."""
    if config.backbone not in BACKBONE_SCOPES or (
            config.backbone.startswith("resnet")
            and config.resnet_stem != "beta"):
        raise ValueError(
            "TF1 DeepLab checkpoints exist for backbones "
            f"{tuple(BACKBONE_SCOPES)} (ResNets with resnet_stem='beta'), "
            f"got {config.backbone!r}, resnet_stem={config.resnet_stem!r}.")


def tf1_layers(model, config):
    """The TF1 scope and Keras layer of every layer of `model`, nested
    backbone included.

    Returns:
        list of `(scope, layer)`, e.g. `("aspp1", <AtrousSeparableConv2D>)`,
        `("xception_65/entry_flow/conv1_1", <ConvBNAct>)`.

    Raises:
        ValueError: the backbone has no TF1 counterpart (`check_config`).
    """
    check_config(config)
    layers = []
    for layer in model.layers:
        if layer.name == config.backbone:   # the nested backbone model
            prefix = BACKBONE_SCOPES[config.backbone] + "/"
            layers += [(prefix + _scope(inner.name, config.separable), inner)
                       for inner in layer.layers]
        layers.append((_scope(layer.name, config.separable), layer))
    return layers


def tf1_variable_names(model, config):
    """Maps the TF1 name of every variable of `model` to the variable.

    Args:
        model: a model of `deeplab_tf.build_model(config)`.
        config: its `Config`.

    Returns:
        dict TF1 variable name -> `keras.Variable`.

    Raises:
        ValueError: the backbone has no TF1 counterpart (`check_config`).
    """
    return {name: var for scope, layer in tf1_layers(model, config)
            for name, var in _layer_variables(layer, scope)}


def resolve_checkpoint(path):
    """The checkpoint prefix that `path` (a prefix or a directory) names.

    A directory resolves through its `checkpoint` state file or, without one
    (as in the released tarballs), to its only `*.index` prefix.

    Raises:
        ValueError: one sentence saying what is wrong and what to pass.
    """
    if os.path.isdir(path):
        latest = tf.train.latest_checkpoint(path)
        if latest:
            return latest
        prefixes = sorted(p[:-len(".index")] for p in os.listdir(path)
                          if p.endswith(".index"))
        if not prefixes:
            raise ValueError("the directory holds no checkpoint (no "
                             "`checkpoint` state file, no *.index file)")
        if len(prefixes) > 1:
            raise ValueError(
                f"the directory holds no `checkpoint` state file and "
                f"{len(prefixes)} checkpoint prefixes {prefixes[:3]}; pass "
                f"one prefix, e.g. {os.path.join(path, 'model.ckpt-30000')}")
        return os.path.join(path, prefixes[0])
    if not os.path.exists(path + ".index"):
        raise ValueError(f"no checkpoint {path}.index; pass the prefix "
                         "(model.ckpt-N, without .index/.data-*) or its directory")
    return path


def checkpoint_backbones(names):
    """The `BACKBONE_SCOPES` values that scope some of `names`, sorted."""
    scopes = set(BACKBONE_SCOPES.values())
    return sorted({n.split("/", 1)[0] for n in names} & scopes)


def is_imagenet_classifier(names, config):
    """True if `names` are those of an ImageNet backbone checkpoint of
    `config.backbone` (its `<scope>/logits` head, no ASPP)."""
    scope = BACKBONE_SCOPES.get(config.backbone)
    return (f"{scope}/logits/weights" in names
            and not any(n.startswith("aspp0/") for n in names))


def _left_out(name, config, backbone_only):
    """True for a checkpoint weight of a part the model leaves out."""
    if backbone_only:
        scope = BACKBONE_SCOPES[config.backbone]
        return (not name.startswith(scope + "/")
                or name.startswith(f"{scope}/logits/"))
    return ((not config.decoder and name.startswith("decoder/"))
            or (not config.image_pooling and name.startswith("image_pooling/")))


def load_tf1_checkpoint(model, config, checkpoint, skip_logits=False,
                        backbone_only=False):
    """Assigns the variables of a TF1 DeepLab checkpoint to `model`.

    Args:
        model: a model of `deeplab_tf.build_model(config)`.
        config: its `Config`.
        checkpoint: a checkpoint prefix or directory (`resolve_checkpoint`).
        skip_logits: leave `logits/semantic` alone (fine-tuning with another
            class count; ref `initialize_last_layer=False`).
        backbone_only: load the backbone alone (an ImageNet classifier
            checkpoint, `<scope>/logits` head and all, or the backbone of a
            DeepLab checkpoint).

    Returns:
        dict of sorted name lists: `"loaded"`; `"unmapped"` (checkpoint
        weights no model variable takes); `"left_out"` (checkpoint weights of
        parts the model leaves out: the decoder when `config.decoder` is
        False, image pooling when `config.image_pooling` is False,
        everything but the backbone with `backbone_only`); `"training_state"`
        (global step, optimiser slots, moving averages: ignored);
        `"skipped"` (the logits with `skip_logits`); `"missing"` (model
        variables absent from the checkpoint); `"shape_mismatch"`.

    Raises:
        ValueError: `checkpoint` names no checkpoint.
    """
    reader = tf.train.load_checkpoint(resolve_checkpoint(checkpoint))
    shapes = reader.get_variable_to_shape_map()
    targets = tf1_variable_names(model, config)
    if backbone_only:
        scope = BACKBONE_SCOPES[config.backbone] + "/"
        targets = {n: v for n, v in targets.items() if n.startswith(scope)}
    report = {k: [] for k in ("loaded", "unmapped", "left_out",
                              "training_state", "skipped", "missing",
                              "shape_mismatch")}
    for name, var in targets.items():
        if skip_logits and name.startswith("logits/"):
            report["skipped"].append(name)
        elif name not in shapes:
            report["missing"].append(name)
        elif tuple(shapes[name]) != tuple(var.shape):
            report["shape_mismatch"].append(name)
        else:
            var.assign(reader.get_tensor(name))
            report["loaded"].append(name)
    for name in shapes:
        if name in targets:
            continue
        if TRAINING_STATE.search(name):
            report["training_state"].append(name)
        elif _left_out(name, config, backbone_only):
            report["left_out"].append(name)
        else:
            report["unmapped"].append(name)
    return {k: sorted(v) for k, v in report.items()}
