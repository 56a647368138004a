"""caffe-segnet prototxt layers as comparable one-line texts.

`prototxt_sequence` describes the layers a deploy prototxt defines,
`config_sequence` those a `bayesian_segnet_tf` Config builds, in the same
words ("Convolution conv1_1: 64 outputs, 3x3, pad 1", "Dropout on the input
of pool2", ...), so the first difference names the layer that does not fit.
"""

from bayesian_segnet_tf.caffe_format import field
from seg_common.backbones.vgg import VGG16_UNITS

_BASIC_DEPTH = 4


def _vgg_widths(width_multiplier):
    """((filters, convolutions), ...) of the five VGG16 units, scaled."""
    return tuple((max(1, round(f * width_multiplier)), n)
                 for f, n in VGG16_UNITS)


def param(layer, name):
    return field(layer.params, name, {})


def _conv_text(layer, name=None):
    p = param(layer, "convolution_param")
    text = (f"Convolution {name or layer.name}: {field(p, 'num_output')} "
            "outputs, "
            f"{field(p, 'kernel_size')}x{field(p, 'kernel_size')}, pad "
            f"{field(p, 'pad', 0)}")
    if field(p, "stride", 1) != 1 or field(p, "group", 1) != 1 or (
            not field(p, "bias_term", True)) or "dilation" in p:
        text += ", stride/group/dilation/bias_term other than Caffe's default"
    return text


def _pool_text(layer):
    p = param(layer, "pooling_param")
    text = (f"Pooling {field(p, 'pool', 'MAX')} {field(p, 'kernel_size')}x"
            f"{field(p, 'kernel_size')} stride {field(p, 'stride', 1)} pad "
            f"{field(p, 'pad', 0)}")
    return text + ("" if len(layer.top) == 2 else " without a mask top")


def _lrn_text(layer):
    p = param(layer, "lrn_param")
    return (f"LRN {field(p, 'norm_region', 'ACROSS_CHANNELS')} size "
            f"{field(p, 'local_size', 5)} alpha {field(p, 'alpha', 1.0):g} "
            f"beta {field(p, 'beta', 0.75):g} k {field(p, 'k', 1.0):g}")


_DROPOUT_TEXT = {"pre_pool": "Dropout on the input of pool{}",
                 "post_pool": "Dropout on the output of pool{}",
                 "decoder": "Dropout on the output of decoder unit {}"}


def prototxt_sequence(layers, depth):
    """Describes a prototxt's computing layers, one text each.

    Args:
        layers: `Layer`s in order (data, softmax, argmax left out).
        depth: encoder units (SegNet 5, SegNet-Basic 4).

    Returns:
        (texts, dropouts): texts comparable with `config_sequence` (the last
        convolution named "{classifier}"), and the Dropout layers by their
        (position, unit) of `config.dropout_positions` (None: elsewhere).
    """
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


def config_sequence(arch, width, positions, num_outputs, separate_classifier):
    """The texts of the layers a Config builds, as `prototxt_sequence`
    writes them.

    Args:
        arch: "segnet" or "segnet_basic".
        width: the width multiplier.
        positions: `config.dropout_positions` of the dropout variant.
        num_outputs: the classifier's outputs.
        separate_classifier: `Config.separate_classifier`.

    Returns:
        list of str.
    """
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
