"""SegNet-Tutorial's released Caffe models -> this package's Config and weights.

`describe` reads a caffe-segnet deploy prototxt (`Example_Models/*.prototxt`,
`Models/*_inference.prototxt`) and finds the `Config` that builds the same
network: arch (SegNet or SegNet-Basic), `separate_classifier`, width,
dropout variant and rate, whether dropout samples at test time
(`sample_weights_test`), class count. It walks the prototxt layer by layer
against the sequence that Config builds and refuses the first layer that
differs, naming it. `load_caffe_weights` then copies every blob by layer
name (convolutions OIHW -> HWIO; caffe-segnet's `BN` in INFERENCE mode
holds the folded `scale`, `shift` of `compute_bn_statistics.py`, which
become gamma and beta over zero mean and unit variance).

Unpooling sizes: caffe-segnet's `Upsample` takes `upsample_h/w` (or
`scale`) from the prototxt, valid only at the input size the prototxt was
written for; `describe` checks them at that size, and the Keras model takes
them from the pooled tensors, so it runs at any size.
"""

import dataclasses
import re

import numpy as np

from bayesian_segnet_tf.caffe_format import field
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


def _vgg_widths(width_multiplier):
    """((filters, convolutions), ...) of the five VGG16 units, scaled."""
    return tuple((max(1, round(f * width_multiplier)), n)
                 for f, n in VGG16_UNITS)


def _param(layer, name):
    return field(layer.params, name, {})


def _conv_text(layer, name=None):
    p = _param(layer, "convolution_param")
    text = (f"Convolution {name or layer.name}: {field(p, 'num_output')} "
            "outputs, "
            f"{field(p, 'kernel_size')}x{field(p, 'kernel_size')}, pad "
            f"{field(p, 'pad', 0)}")
    if field(p, "stride", 1) != 1 or field(p, "group", 1) != 1 or (
            not field(p, "bias_term", True)) or "dilation" in p:
        text += ", stride/group/dilation/bias_term other than Caffe's default"
    return text


def _pool_text(layer):
    p = _param(layer, "pooling_param")
    text = (f"Pooling {field(p, 'pool', 'MAX')} {field(p, 'kernel_size')}x"
            f"{field(p, 'kernel_size')} stride {field(p, 'stride', 1)} pad "
            f"{field(p, 'pad', 0)}")
    return text + ("" if len(layer.top) == 2 else " without a mask top")


def _lrn_text(layer):
    p = _param(layer, "lrn_param")
    return (f"LRN {field(p, 'norm_region', 'ACROSS_CHANNELS')} size "
            f"{field(p, 'local_size', 5)} alpha {field(p, 'alpha', 1.0):g} "
            f"beta {field(p, 'beta', 0.75):g} k {field(p, 'k', 1.0):g}")


_DROPOUT_TEXT = {"pre_pool": "Dropout on the input of pool{}",
                 "post_pool": "Dropout on the output of pool{}",
                 "decoder": "Dropout on the output of decoder unit {}"}


def _walk(layers, depth):
    """(texts, dropout positions {(position, unit): layer}) of the prototxt."""
    texts, drops, pools, upsamples = [], {}, 0, 0
    classifier = [lay for lay in layers if lay.type == "Convolution"][-1:]
    for i, layer in enumerate(layers):
        if classifier and layer is classifier[0]:
            texts.append(_conv_text(layer, "{classifier}"))
            continue
        if layer.type == "Pooling":
            pools += 1
        elif layer.type == "Upsample":
            upsamples += 1
        if layer.type != "Dropout":
            texts.append({"Convolution": _conv_text, "Pooling": _pool_text,
                          "LRN": _lrn_text}.get(layer.type, lambda l: (
                              f"{l.type} {l.name}" if l.type == "BN"
                              else l.type))(layer))
            continue
        before = [lay.type for lay in layers[:i] if lay.type != "Dropout"]
        after = [lay.type for lay in layers[i + 1:] if lay.type != "Dropout"]
        if after[:1] == ["Pooling"]:
            position = ("pre_pool", pools + 1)
        elif before[-1:] == ["Pooling"]:
            position = ("post_pool", pools)
        elif upsamples:
            position = ("decoder", depth - upsamples + 1)
        else:
            position = None
        drops[position] = layer
        texts.append(_DROPOUT_TEXT[position[0]].format(position[1])
                     if position else f"Dropout after {layers[i - 1].name}")
    return texts, drops


def _expected(arch, width, positions, num_outputs, separate_classifier):
    """The texts of the layers `Config` builds, in the order of `_walk`
    (`width`: the width multiplier)."""
    def conv(name, filters, kernel):
        return (f"Convolution {name}: {filters} outputs, {kernel}x{kernel}, "
                f"pad {kernel // 2}")
    pool = "Pooling MAX 2x2 stride 2 pad 0"

    def drop(position, unit):
        return ([_DROPOUT_TEXT[position].format(unit)]
                if (position, unit) in positions else [])
    texts = []
    if arch == "segnet_basic":
        texts.append("LRN ACROSS_CHANNELS size 5 alpha 0.0001 beta 0.75 k 1")
        for u in range(1, _BASIC_DEPTH + 1):
            texts += [conv(f"conv{u}", round(64 * width), 7), f"BN conv{u}_bn",
                      "ReLU",
                      *drop("pre_pool", u), pool, *drop("post_pool", u)]
        for u in range(_BASIC_DEPTH, 0, -1):
            texts += ["Upsample", conv(f"conv_decode{u}", round(64 * width), 7),
                      f"BN conv_decode{u}_bn", *drop("decoder", u)]
        return texts + [conv("{classifier}", num_outputs, 1)]
    for u, (filters, convs) in enumerate(_vgg_widths(width), start=1):
        for i in range(1, convs + 1):
            texts += [conv(f"conv{u}_{i}", filters, 3), f"BN conv{u}_{i}_bn",
                      "ReLU"]
        texts += [*drop("pre_pool", u), pool, *drop("post_pool", u)]
    widths = _vgg_widths(width)
    for u in range(len(widths), 0, -1):
        filters, convs = widths[u - 1]
        outs = [filters] * (convs - 1) + [widths[max(u - 2, 0)][0]]
        texts.append("Upsample")
        for i, out in zip(range(convs, 0, -1), outs):
            if (u, i) == (1, 1) and not separate_classifier:
                break
            texts += [conv(f"conv{u}_{i}_D", out, 3), f"BN conv{u}_{i}_D_bn",
                      "ReLU"]
        texts += drop("decoder", u)
    return texts + [conv("{classifier}", num_outputs, 3)]


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
    width = field(_param(first_conv, "convolution_param"), "num_output", 0)
    outputs = field(_param(convs[-1], "convolution_param"), "num_output", 0)
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
    params = [(layer, _param(layer, "dropout_param"))
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
            p = _param(layer, "upsample_param")
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
    texts, drops = _walk(layers, depth)
    dropout, rate, sampling = _dropout_config(drops, depth)
    classifier = [lay for lay in layers if lay.type == "Convolution"][-1]
    separate = arch == "segnet" and classifier.name not in _CLASSIFIER_NAMES
    expected = _expected(arch, width, dropout_positions(
        dropout, depth), outputs, separate)
    for layer, text, want in zip(layers, texts, expected):
        if text != want:
            raise ConversionError(
                f"layer {layer.name}: {text}, where the project's {arch} "
                f"(dropout={dropout}) has {want}")
    if len(texts) != len(expected):
        extra = (f"layer {layers[len(expected)].name} and after: more layers"
                 if len(texts) > len(expected) else
                 f"after layer {layers[-1].name}: missing {expected[len(texts)]}")
        raise ConversionError(f"{extra} than the project's {arch}")
    for before, layer in zip(layers, layers[1:]):
        if layer.bottom[:1] != before.top[:1]:
            raise ConversionError(
                f"layer {layer.name}: takes {layer.bottom[:1]} but the layer "
                f"before it, {before.name}, gives {before.top[:1]}; the "
                "network must be the chain the project builds")
    for layer in layers:
        mode = field(_param(layer, "bn_param"), "bn_mode", "LEARN")
        if layer.type == "BN" and mode != "INFERENCE":
            raise ConversionError(
                f"layer {layer.name}: bn_mode {mode} normalises with each "
                "batch's statistics; convert the deploy prototxt (bn_mode: "
                "INFERENCE) whose weights compute_bn_statistics.py wrote")
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


def keras_layer_name(caffe_name, released):
    """The Keras layer holding a Caffe layer's blobs (VGG16 names in the
    SegNet encoder, `classifier` for a separate classifier)."""
    classifier = [lay for lay in released.layers
                  if lay.type == "Convolution"][-1].name
    if caffe_name == classifier:
        if released.config.get("separate_classifier"):
            return "classifier"
        return ("conv_classifier" if released.config["arch"] == "segnet_basic"
                else "conv1_1_D")
    match = re.fullmatch(r"conv(\d)_(\d)(_bn)?", caffe_name)
    if match and released.config["arch"] == "segnet":
        unit, index, bn = match.groups()
        return f"block{unit}_conv{index}{bn or ''}"
    return caffe_name


def _layer_values(layer, blobs, released, keras_layer):
    """The Keras weight values of one Caffe layer, or a problem string."""
    shapes = [tuple(w.shape) for w in keras_layer.weights]
    if layer.type == "Convolution":
        if len(blobs) != 2:
            return f"{len(blobs)} blobs, expected weights and bias"
        kernel, bias = blobs[0], blobs[1].reshape(-1)
        if layer is [lay for lay in released.layers
                     if lay.type == "Convolution"][-1]:
            kernel = kernel[released.first_output:]
            bias = bias[released.first_output:]
        values = [kernel.transpose(2, 3, 1, 0), bias]  # OIHW -> HWIO
        ours = (shapes[0][3], shapes[0][2], *shapes[0][:2])
        theirs = tuple(kernel.shape)
    else:  # caffe-segnet BN: folded scale and shift, (1, C, 1, 1) each
        if len(blobs) != 2:
            return f"{len(blobs)} blobs, expected BN scale and shift"
        scale, shift = (b.reshape(-1) for b in blobs)
        values = [scale, shift, np.zeros_like(scale), np.ones_like(scale)]
        ours, theirs = shapes[0], scale.shape
    if [tuple(v.shape) for v in values] != shapes:
        return (f"shape {theirs} but the project's {keras_layer.name} takes "
                f"{ours}")
    return values


def load_caffe_weights(model, released, weights):
    """Copies a caffemodel's blobs into `model`, all or nothing.

    Args:
        model: `build_model(Config(**released.config))`.
        released: `describe` of the caffemodel's prototxt.
        weights: `caffe_format.read_caffemodel` output.

    Returns:
        list of problems, one line each naming the Caffe layer (missing or
        unexpected blobs, shape mismatches); the model is unchanged unless
        the list is empty.
    """
    problems, assignments = [], []
    expected = [lay for lay in released.layers
                if lay.type in ("Convolution", "BN")]
    for layer in expected:
        if layer.name not in weights:
            problems.append(f"layer {layer.name}: no blobs in the caffemodel")
            continue
        keras_layer = model.get_layer(keras_layer_name(layer.name, released))
        values = _layer_values(layer, weights[layer.name], released,
                               keras_layer)
        if isinstance(values, str):
            problems.append(f"layer {layer.name}: {values}")
        else:
            assignments.append((keras_layer, values))
    names = {lay.name for lay in expected}
    problems += [f"layer {name}: has blobs in the caffemodel but no "
                 "Convolution or BN layer of that name in the prototxt"
                 for name in weights if name not in names]
    if not problems:
        for keras_layer, values in assignments:
            keras_layer.set_weights(values)
    return problems
