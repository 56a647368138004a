"""SegNet-Tutorial's released Caffe models -> this package's Config and weights.

`describe` reads a caffe-segnet deploy prototxt (`Example_Models/*.prototxt`,
`Models/*_inference.prototxt`) and finds the `Config` that builds the same
network: arch (SegNet or SegNet-Basic), `separate_classifier`, width,
dropout variant and rate, whether dropout samples at test time
(`sample_weights_test`), class count. It walks the prototxt layer by layer
against the sequence that Config builds and refuses the first layer that
differs, naming it. `caffe_weights.load_caffe_weights` then copies every
blob by layer name.

Unpooling sizes: caffe-segnet's `Upsample` takes `upsample_h/w` (or
`scale`) from the prototxt, valid only at the input size the prototxt was
written for; `describe` checks them at that size, and the Keras model takes
them from the pooled tensors, so it runs at any size.
"""

import dataclasses

from bayesian_segnet_tf.caffe_format import field
from bayesian_segnet_tf.caffe_sequence import (
    config_sequence, param, prototxt_sequence)
from bayesian_segnet_tf.config import DROPOUT_VARIANTS, dropout_positions
from seg_common.backbones.vgg import VGG16_UNITS

# Layer types that carry no computation of the segmentation network.
SKIPPED_TYPES = ("DenseImageData", "ImageData", "Data", "Input", "Softmax",
                 "ArgMax", "SoftmaxWithLoss", "Accuracy", "Silence")
# Released class counts -> (dataset, first output kept). SUN's 38 outputs
# start with void (ignore_label 0 in train_segnet_sun.prototxt: never a
# target), which the project's 37-class sun_rgbd labels leave out.
RELEASED_OUTPUTS = {11: ("camvid", 0), 38: ("sun_rgbd", 1),
                    21: ("pascal_voc", 0)}
_BASIC_DEPTH = 4
_CLASSIFIER_NAMES = ("conv1_1_D", "conv_classifier", "dense_softmax_inner_prod")


class ConversionError(ValueError):
    """The prototxt or caffemodel does not fit a network this package builds;
    the message names the layer."""


@dataclasses.dataclass(frozen=True)
class Layer:
    """One prototxt `layer { }`."""

    name: str
    type: str
    bottom: tuple
    top: tuple
    params: dict


@dataclasses.dataclass(frozen=True)
class Released:
    """What `describe` found.

    Attributes:
        config: `Config` fields of the matching network.
        layers: the computing layers in order (data, softmax, argmax left out).
        dataset: the dataset whose class order the outputs follow, or None.
        first_output: index of the first Caffe output kept (SUN: 1).
        input_size: (H, W) the prototxt states.
    """

    config: dict
    layers: tuple
    dataset: str | None
    first_output: int
    input_size: tuple


def net_layers(net):
    """The `layer { }` entries of a parsed prototxt as `Layer`s."""
    if "layers" in net:
        raise ConversionError(
            "the prototxt uses Caffe's V1 `layers { }` form; upgrade it with "
            "Caffe's upgrade_net_proto_text or use SegNet-Tutorial's file")
    return [Layer(field(p, "name", f"#{i}"), field(p, "type", ""),
                  tuple(p.get("bottom", ())), tuple(p.get("top", ())), p)
            for i, p in enumerate(net.get("layer", ()))]


def input_size(net, layers):
    """(H, W) from `input_dim`, `input_shape` or a data layer's new_height /
    new_width; None when the prototxt does not say."""
    dims = net.get("input_dim") or (
        field(net, "input_shape", {}).get("dim", []))
    if len(dims) == 4:
        return tuple(dims[2:])
    for layer in layers:
        param = field(layer.params, "dense_image_data_param", {})
        if field(param, "new_height") and field(param, "new_width"):
            return field(param, "new_height"), field(param, "new_width")
    return None


def _infer(layers):
    """(arch, width_multiplier, num_outputs) from the first and last
    convolutions."""
    convs = [layer for layer in layers if layer.type == "Convolution"]
    names = {layer.name for layer in convs}
    if "conv1_1" in names:
        arch, first = "segnet", "conv1_1"
    elif "conv1" in names:
        arch, first = "segnet_basic", "conv1"
    else:
        raise ConversionError(
            "no Convolution named conv1_1 (SegNet) or conv1 (SegNet-Basic): "
            "not a SegNet-Tutorial prototxt")
    first_conv = next(layer for layer in convs if layer.name == first)
    width = field(param(first_conv, "convolution_param"), "num_output", 0)
    outputs = field(param(convs[-1], "convolution_param"), "num_output", 0)
    return arch, width / 64, outputs


def _dropout_config(drops, depth):
    """(dropout, dropout_rate, sample_weights_test) of the dropout layers."""
    if None in drops:
        raise ConversionError(
            f"layer {drops[None].name}: Dropout inside a convolution unit; "
            "the project places dropout around pooling and unpooling only")
    variants = [v for v in DROPOUT_VARIANTS
                if dropout_positions(v, depth) == set(drops)]
    if not variants:
        names = ", ".join(layer.name for layer in drops.values())
        raise ConversionError(
            f"layers {names}: no dropout variant of the project has this "
            f"placement ({', '.join(DROPOUT_VARIANTS)})")
    params = [(layer, param(layer, "dropout_param"))
              for layer in drops.values()]
    rates = {field(p, "dropout_ratio", 0.5) for _, p in params}
    sampling = {bool(field(p, "sample_weights_test", False))
                for _, p in params}
    for layer, p in params:
        if len(rates) > 1 or len(sampling) > 1:
            raise ConversionError(
                f"layer {layer.name}: dropout_ratio / sample_weights_test "
                "differ between the Dropout layers; the project uses one "
                "rate and samples all of them or none")
    return variants[0], (rates or {0.5}).pop(), sampling == {True}


def _check_upsample_sizes(layers, size):
    """Each Upsample restores its pooling's input size at `size` (H, W)."""
    pre_pool, masks = [], {}
    shape = tuple(size)
    for layer in layers:
        if layer.type == "Pooling":
            pre_pool.append(shape)
            masks[layer.top[1]] = shape
            shape = tuple(-(-d // 2) for d in shape)  # ceil: 45 -> 23
        elif layer.type == "Upsample":
            want = masks.get(layer.bottom[1] if len(layer.bottom) > 1 else "")
            if want is None:
                raise ConversionError(
                    f"layer {layer.name}: its second bottom is not the mask "
                    "top of a Pooling layer")
            p = param(layer, "upsample_param")
            if field(p, "upsample_h"):
                got = field(p, "upsample_h"), field(p, "upsample_w")
            else:
                scale = field(p, "scale", 2)
                got = (shape[0] * scale - int(field(p, "pad_out_h", False)),
                       shape[1] * scale - int(field(p, "pad_out_w", False)))
            if tuple(got) != want:
                raise ConversionError(
                    f"layer {layer.name}: unpools to {got[0]}x{got[1]} at the "
                    f"input size {size[0]}x{size[1]}, but its pooling's input "
                    f"was {want[0]}x{want[1]}; give the input size the "
                    "prototxt was written for (--input_size)")
            shape = want


def _check_sequence(layers, depth, arch, width, outputs, separate):
    """Returns the dropout variant, rate and sampling after comparing the
    prototxt's layers with those the Config builds, layer by layer."""
    texts, drops = prototxt_sequence(layers, depth)
    dropout, rate, sampling = _dropout_config(drops, depth)
    expected = config_sequence(arch, width, dropout_positions(dropout, depth),
                               outputs, separate)
    for layer, text, want in zip(layers, texts, expected):
        if text != want:
            raise ConversionError(
                f"layer {layer.name}: {text}, where the project's {arch} "
                f"(dropout={dropout}) has {want}")
    if len(texts) > len(expected):
        raise ConversionError(
            f"layer {layers[len(expected)].name} and after: more layers than "
            f"the project's {arch}")
    if len(texts) < len(expected):
        raise ConversionError(
            f"after layer {layers[-1].name}: missing {expected[len(texts)]} "
            f"of the project's {arch}")
    return dropout, rate, sampling


def _check_wiring(layers):
    """A chain (each layer reads the previous top) of BN layers in
    INFERENCE mode."""
    for before, layer in zip(layers, layers[1:]):
        if layer.bottom[:1] != before.top[:1]:
            raise ConversionError(
                f"layer {layer.name}: takes {layer.bottom[:1]} but the layer "
                f"before it, {before.name}, gives {before.top[:1]}; the "
                "network must be the chain the project builds")
    for layer in layers:
        mode = field(param(layer, "bn_param"), "bn_mode", "LEARN")
        if layer.type == "BN" and mode != "INFERENCE":
            raise ConversionError(
                f"layer {layer.name}: bn_mode {mode} normalises with each "
                "batch's statistics; convert the deploy prototxt (bn_mode: "
                "INFERENCE) whose weights compute_bn_statistics.py wrote")


def describe(net, size=None):
    """The Config of the network a parsed deploy prototxt defines.

    Args:
        net: `caffe_format.parse_prototxt` output.
        size: (H, W) when the prototxt states no input size.

    Returns:
        `Released`.

    Raises:
        ConversionError: naming the first layer that differs from every
            network the package builds, a BN layer not in INFERENCE mode, or
            an Upsample size that does not restore its pooling's input.
    """
    layers = [layer for layer in net_layers(net)
              if layer.type not in SKIPPED_TYPES]
    arch, width, outputs = _infer(layers)
    depth = _BASIC_DEPTH if arch == "segnet_basic" else len(VGG16_UNITS)
    classifier = [lay for lay in layers if lay.type == "Convolution"][-1]
    separate = arch == "segnet" and classifier.name not in _CLASSIFIER_NAMES
    dropout, rate, sampling = _check_sequence(layers, depth, arch, width,
                                              outputs, separate)
    _check_wiring(layers)
    size = input_size(net, net_layers(net)) or size
    if size is None:
        raise ConversionError(
            "the prototxt states no input size (input_dim, input_shape or "
            "new_height/new_width); give the size its Upsample layers were "
            "written for with --input_size (CamVid: 360,480)")
    _check_upsample_sizes(layers, size)
    dataset, first = RELEASED_OUTPUTS.get(outputs, (None, 0))
    config = {"arch": arch, "num_classes": outputs - first,
              "width_multiplier": width, "dropout": dropout,
              "dropout_rate": float(rate),
              "num_samples": 50 if sampling else 0}
    if separate:
        config["separate_classifier"] = True
    return Released(config, tuple(layers), dataset, first, tuple(size))
