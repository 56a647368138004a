"""SegNet-Tutorial's released deploy nets, rewritten small for tests.

`prototxt(kind, size, width)` writes the prototxt text of one released net
(`Example_Models/*.prototxt`, `Models/*_inference.prototxt`) with the
released layer names, layer order, dropout placement and names, Upsample
forms (`scale` + `pad_out_h`, `upsample_h/w`) and input form, at input size
`size` and hidden widths divided by `width`. `random_blobs` draws a
caffemodel for it. Nothing here is copied from SegNet-Tutorial: the
structure is written from the released files' layer lists.
"""

import math

from bayesian_segnet_tf.caffe_format import caffemodel_bytes, parse_prototxt

# kind -> (arch, classes, dropout style, sample_weights_test, input form,
#          classifier name, output layer).
RELEASED = {
    "segnet_basic_camvid": ("basic", 11, None, False, "input_dim",
                            "dense_softmax_inner_prod", "ArgMax"),
    "bayesian_segnet_basic_camvid": ("basic", 11, "central", True,
                                     "input_dim", "dense_softmax_inner_prod",
                                     "Softmax"),
    "bayesian_segnet_camvid": ("segnet", 11, "central_pool_names", True,
                               "input_shape", "camvid", "Softmax"),
    "bayesian_segnet_sun": ("segnet", 38, "central", True, "input_dim",
                            "conv1_1_D", "Softmax"),
    "segnet_sun": ("segnet", 38, "central", False, "input_dim", "conv1_1_D",
                   "ArgMax"),
    "segnet_sun_low_resolution": ("segnet", 38, "central", False,
                                  "input_dim", "conv1_1_D", "ArgMax"),
    "bayesian_segnet_pascal": ("segnet", 21, "pascal", True, "input_dim",
                               "conv1_1_D", "Softmax"),
    "segnet_pascal": ("segnet", 21, "pascal", False, "input_dim",
                      "conv1_1_D", "Softmax"),
    "segnet_model_driving_webdemo": ("segnet", 12, None, False, "input_dim",
                                     "conv1_1_D", "ArgMax"),
    "segnet_inference": ("segnet", 11, None, False, "data_layer",
                         "conv1_1_D", "Softmax"),
    "bayesian_segnet_inference": ("segnet", 11, "central", True,
                                  "data_layer", "conv1_1_D", "Softmax"),
    "segnet_basic_inference": ("basic", 11, None, False, "data_layer",
                               "conv_classifier", "Softmax"),
    "bayesian_segnet_basic_inference": ("basic", 11, "central", True,
                                        "data_layer",
                                        "dense_softmax_inner_prod",
                                        "Softmax"),
}
VGG = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))


class _Writer:
    """Accumulates `layer { }` blocks; tracks the current top blob."""

    def __init__(self, sample):
        self.lines, self.top, self.sample = [], "data", sample
        self.dropouts = {}  # Caffe dropout name -> (position, unit)

    def layer(self, name, kind, bottoms, tops, body=""):
        refs = "".join(f'  bottom: "{b}"\n' for b in bottoms) + "".join(
            f'  top: "{t}"\n' for t in tops)
        self.lines.append(f'layer {{\n  name: "{name}"\n  type: "{kind}"\n'
                          f"{refs}{body}}}\n")
        self.top = tops[0]

    def conv(self, name, outputs, kernel, bn=True, relu=True):
        self.layer(name, "Convolution", [self.top], [name],
                   "  param { lr_mult: 1 decay_mult: 1 }\n"
                   "  param { lr_mult: 2 decay_mult: 0 }\n"
                   f"  convolution_param {{\n    num_output: {outputs}\n"
                   f"    kernel_size: {kernel}\n"
                   + (f"    pad: {kernel // 2}\n" if kernel > 1 else "") +
                   '    weight_filler { type: "msra" }\n  }\n')
        if bn:
            self.layer(f"{name}_bn", "BN", [name], [name],
                       "  bn_param { bn_mode: INFERENCE }\n")
        if relu:
            self.layer(name.replace("conv", "relu"), "ReLU", [name], [name])

    def dropout(self, name, position, unit):
        sample = "    sample_weights_test: true\n" if self.sample else ""
        self.layer(name, "Dropout", [self.top], [self.top],
                   f"  dropout_param {{\n    dropout_ratio: 0.5\n{sample}"
                   "  }\n")
        self.dropouts[name] = (position, unit)

    def pool(self, name):
        self.layer(name, "Pooling", [self.top], [name, f"{name}_mask"],
                   "  pooling_param {\n    pool: MAX\n    kernel_size: 2\n"
                   "    stride: 2\n  }\n")

    def upsample(self, unit, mask, pre_pool, basic):
        h, w = pre_pool
        if basic:  # scale 2, pad_out_* for odd sizes (segnet_basic_*)
            body = "    scale: 2\n" + "".join(
                f"    pad_out_{a}: true\n" for a, d in (("h", h), ("w", w))
                if d % 2)
        else:  # scale 2, + upsample_h/w at odd sizes (the VGG nets)
            body = "    scale: 2\n" + (
                f"    upsample_h: {h}\n    upsample_w: {w}\n"
                if h % 2 or w % 2 else "")
        top = f"upsample{unit}" if basic else f"pool{unit}_D"
        self.layer(f"upsample{unit}", "Upsample", [self.top, mask], [top],
                   f"  upsample_param {{\n{body}  }}\n")


def _header(form, size):
    h, w = size
    if form == "data_layer":
        return ('name: "segnet"\nlayer {\n  name: "data"\n'
                '  type: "DenseImageData"\n  top: "data"\n  top: "label"\n'
                '  dense_image_data_param {\n    source: "/SegNet/test.txt"'
                "\t# a comment\n    batch_size: 1\n  }\n}\n")
    if form == "input_shape":
        return (f'name: "VGG_ILSVRC_16_layer"\ninput: "data"\ninput_shape {{'
                f"\n  dim: 1\n  dim: 3\n  dim: {h}\n  dim: {w}\n}}\n")
    return (f'name: "segnet"\ninput: "data"\ninput_dim: 1\ninput_dim: 3\n'
            f"input_dim: {h}\ninput_dim: {w}\n")


def _pre_pool_sizes(size, depth):
    sizes, (h, w) = [], size
    for _ in range(depth):
        sizes.append((h, w))
        h, w = math.ceil(h / 2), math.ceil(w / 2)
    return sizes


def _basic(out, style, size, width):
    sizes = _pre_pool_sizes(size, 4)
    out.layer("norm", "LRN", ["data"], ["norm"],
              "  lrn_param {\n    local_size: 5\n    alpha: 0.0001\n"
              "    beta: 0.75\n  }\n")
    for u in range(1, 5):
        out.conv(f"conv{u}", 64 // width, 7)
        out.pool(f"pool{u}")
        if style and u >= 3:
            out.dropout(f"encdrop{u}", "post_pool", u)
    for u in range(4, 0, -1):
        out.upsample(u, f"pool{u}_mask", sizes[u - 1], basic=True)
        out.conv(f"conv_decode{u}", 64 // width, 7, relu=False)
        if style and u >= 3:
            out.dropout(f"decdrop{u}", "decoder", u)


def _segnet(out, style, size, width, separate):
    sizes = _pre_pool_sizes(size, 5)
    for u, (filters, convs) in enumerate(VGG, start=1):
        for i in range(1, convs + 1):
            out.conv(f"conv{u}_{i}", filters // width, 3)
        if style == "pascal":
            out.dropout(f"pool{u}_drop", "pre_pool", u)
        out.pool(f"pool{u}")
        if style in ("central", "central_pool_names") and u >= 3:
            name = f"pool{u}_drop" if style != "central" else f"encdrop{u}"
            out.dropout(name, "post_pool", u)
    if style == "pascal":
        out.dropout("upsample5_drop", "post_pool", 5)
    for u in range(5, 0, -1):
        filters, convs = VGG[u - 1]
        outs = [filters] * (convs - 1) + [VGG[max(u - 2, 0)][0]]
        out.upsample(u, f"pool{u}_mask", sizes[u - 1], basic=False)
        for i, filters_out in zip(range(convs, 0, -1), outs):
            if (u, i) != (1, 1) or separate:
                out.conv(f"conv{u}_{i}_D", filters_out // width, 3)
        central = style in ("central", "central_pool_names") and u >= 3
        if u >= 2 and (style == "pascal" or central):
            name = (f"decdrop{u}" if style == "central"
                    else f"upsample{u - 1}_drop")
            out.dropout(name, "decoder", u)


def prototxt(kind, size, width=1, sample=None):
    """The prototxt text of released net `kind` (a key of `RELEASED`).

    Args:
        kind: e.g. "bayesian_segnet_camvid".
        size: (H, W) input size (the Upsample sizes follow it).
        width: divides every hidden channel count.
        sample: override `sample_weights_test` (False: the deterministic
            form, as the model zoo's note says).

    Returns:
        (text, dropouts): dropouts maps each Caffe Dropout name to its
        (position, unit) in `bayesian_segnet_tf.config.dropout_positions`.
    """
    arch, classes, style, sampling, form, classifier, output = RELEASED[kind]
    out = _Writer(sampling if sample is None else sample)
    if arch == "basic":
        _basic(out, style, size, width)
        out.conv(classifier, classes, 1, bn=False, relu=False)
    else:
        _segnet(out, style, size, width, separate=classifier != "conv1_1_D")
        out.conv(classifier, classes, 3, bn=False, relu=False)
    top = out.top
    out.layer("prob" if output == "Softmax" else "argmax", output, [top],
              ["prob" if output == "Softmax" else "argmax"])
    return _header(form, size) + "".join(out.lines), out.dropouts


def random_blobs(text, rng):
    """[(name, type, blobs)] of a random caffemodel for prototxt `text`:
    MSRA-scaled convolutions, BN scale around 1 and shift around 0."""
    layers, channels = [], 3
    for p in parse_prototxt(text)["layer"]:
        name, kind = p["name"][0], p["type"][0]
        if kind == "Convolution":
            param = p["convolution_param"][0]
            o, k = param["num_output"][0], param["kernel_size"][0]
            weights = rng.normal(0, math.sqrt(2 / (channels * k * k)),
                                 (o, channels, k, k))
            layers.append((name, kind, [weights, rng.normal(0, 0.1, o)]))
            channels = o
        elif kind == "BN":
            layers.append((name, kind, [
                rng.uniform(0.5, 1.5, (1, channels, 1, 1)),
                rng.normal(0, 0.2, (1, channels, 1, 1))]))
    return layers


def write_released(directory, kind, size, width, rng, sample=None):
    """Writes `<kind>.prototxt` and `<kind>.caffemodel` into `directory`.

    Returns:
        (prototxt path, caffemodel path, dropouts of `prototxt`).
    """
    text, dropouts = prototxt(kind, size, width, sample)
    proto = directory / f"{kind}.prototxt"
    proto.write_text(text)
    model = directory / f"{kind}.caffemodel"
    model.write_bytes(caffemodel_bytes(random_blobs(text, rng)))
    return proto, model, dropouts
