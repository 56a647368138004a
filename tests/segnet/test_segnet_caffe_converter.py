"""tools/convert_caffe_segnet.py against the NumPy Caffe oracle.

For every released SegNet-Tutorial deploy net (`caffe_nets.RELEASED`: all
of `Example_Models/` and `Models/*_inference`) a random caffemodel in the
released layer names is converted; the Keras model must compute what
caffe-segnet's layers compute (`tools/golden/caffe_segnet.py`): logits
within float32 rounding and the same argmax, deterministic and, for the
Bayesian nets, Monte Carlo with the same dropout masks on both sides.
Max-pooling near-ties (values within 1e-5) are held to the Keras choice.
"""

import pathlib
import types

import cv2
import keras
import numpy as np
import pytest

import bayesian_segnet_tf
from bayesian_segnet_tf.caffe_format import (
    caffemodel_bytes, parse_prototxt, read_caffemodel)
from bayesian_segnet_tf.config import dropout_layer_name
from seg_common.layers import MCDropout, MaxPoolWithArgmax2D
from seg_common.layers.mc_dropout import set_mc_sampling
from seg_common.training import model_dir as model_dir_lib
from tests.segnet import caffe_nets
from tests.data import segdata_fakes
from tests.tool_modules import load_tool
from tests.scripts._inprocess import call_script
from tools.golden import caffe_segnet as oracle

ROOT = pathlib.Path(__file__).parents[2]
# Odd sizes exercise ceil-mode pooling and every Upsample form.
SIZES = {"basic": (30, 44), "segnet": (36, 44), "pascal": (32, 32)}
WIDTH = {"basic": 4, "segnet": 8}  # hidden channels / WIDTH


def converter():
    """`tools/convert_caffe_segnet.py` as a module."""
    return load_tool("tools/convert_caffe_segnet.py")


def tool_flags(prototxt, caffemodel, output_dir, **changes):
    base = dict(prototxt=str(prototxt), caffemodel=str(caffemodel),
                output_dir=str(output_dir), input_size=None, overwrite=False)
    return types.SimpleNamespace(**{**base, **changes})


def _rgb_bgr(rng, size):
    """A random image as the Keras input (1, H, W, 3) RGB and the Caffe
    `data` blob (1, 3, H, W) BGR, both 0..255."""
    rgb = rng.uniform(0, 255, (1, *size, 3)).astype(np.float32)
    return rgb, rgb[..., ::-1].transpose(0, 3, 1, 2).astype(np.float64)


def _size(kind):
    arch = caffe_nets.RELEASED[kind][0]
    return SIZES["pascal" if "pascal" in kind or "low_res" in kind
                 else arch], WIDTH[arch]


def _convert(tmp_path, kind, rng):
    size, width = _size(kind)
    proto, model_file, dropouts = caffe_nets.write_released(
        tmp_path, kind, size, width, rng)
    output = tmp_path / "converted"
    config = converter().run(tool_flags(proto, model_file, output,
                                        input_size=[str(s) for s in size]))
    model = bayesian_segnet_tf.build_model(config)
    model.load_weights(output / "model.weights.h5")
    return proto, model_file, dropouts, model, output


def _caffe_pool_mask(indices, pre_pool_shape):
    """TF argmax (batch included, NHWC) -> Caffe's `h * W + w`, NCHW."""
    _, h, w, c = pre_pool_shape
    rest = indices // c
    caffe = (rest // w) % h * w + rest % w
    return np.transpose(caffe, (0, 3, 1, 2))


def _keras_pass(model, rgb):
    """One call: logits, each MCDropout's mask (NCHW; 1 where its input is
    0, which no mask changes) and each pooling's argmax as a Caffe mask."""
    drops = [l for l in model.layers if isinstance(l, MCDropout)]
    pools = [l for l in model.layers if isinstance(l, MaxPoolWithArgmax2D)]
    probe = keras.Model(model.inputs, [model.output["logits"]]
                        + [t for l in drops for t in (l.input, l.output)]
                        + [t for l in pools for t in (l.input, l.output[1])])
    out = [np.asarray(t) for t in probe(rgb)]
    masks = {layer.name: np.where(x != 0, y != 0, 1).transpose(0, 3, 1, 2)
             for layer, x, y in zip(drops, out[1::2], out[2::2])}
    rest = out[1 + 2 * len(drops):]
    pool_masks = {layer.name.replace("block", "pool").replace("_pool", ""):
                  _caffe_pool_mask(indices, x.shape)
                  for layer, x, indices in zip(pools, rest[::2], rest[1::2])}
    return out[0], masks, pool_masks


def _agreement(kind, text, blobs_weights, model, rgb, bgr, dropouts):
    """(relative max logit error, argmax agreement, held ties)."""
    logits, masks, pool_masks = _keras_pass(model, rgb)
    caffe_masks = {name: masks[dropout_layer_name(*position)]
                   for name, position in dropouts.items()
                   if dropout_layer_name(*position) in masks}
    assert len(caffe_masks) == len(dropouts)
    assert all(0 < m.mean() < 1 for m in caffe_masks.values())  # sampled
    blobs, held = oracle.forward(parse_prototxt(text), blobs_weights, bgr,
                                 dropout_masks=caffe_masks,
                                 pool_masks=pool_masks)
    classifier = caffe_nets.RELEASED[kind][5]
    want = blobs[classifier][:, 1:] if caffe_nets.RELEASED[kind][1] == 38 \
        else blobs[classifier]
    want = want.transpose(0, 2, 3, 1)
    error = np.abs(logits - want).max() / np.abs(want).max()
    agree = np.mean(logits.argmax(-1) == want.argmax(-1))
    return error, agree, held


# kind -> (dropout, Monte Carlo, dataset, classes) the converter must find.
EXPECTED = {
    "segnet_basic_camvid": ("none", False, "camvid", 11),
    "bayesian_segnet_basic_camvid": ("central", True, "camvid", 11),
    "bayesian_segnet_camvid": ("central", True, "camvid", 11),
    "bayesian_segnet_sun": ("central", True, "sun_rgbd", 37),
    "segnet_sun": ("central", False, "sun_rgbd", 37),
    "segnet_sun_low_resolution": ("central", False, "sun_rgbd", 37),
    "bayesian_segnet_pascal": ("before_pooling", True, "pascal_voc", 21),
    "segnet_pascal": ("before_pooling", False, "pascal_voc", 21),
    "segnet_model_driving_webdemo": ("none", False, None, 12),
    "segnet_inference": ("none", False, "camvid", 11),
    "bayesian_segnet_inference": ("central", True, "camvid", 11),
    "segnet_basic_inference": ("none", False, "camvid", 11),
    "bayesian_segnet_basic_inference": ("central", True, "camvid", 11),
}


def test_every_released_net_is_covered():
    assert set(EXPECTED) == set(caffe_nets.RELEASED)
    assert len(EXPECTED) == 13  # Example_Models/ (9) + Models/ inference (4)


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_released_net_matches_caffe_oracle(tmp_path, rng, kind):
    proto, model_file, dropouts, model, output = _convert(tmp_path, kind, rng)
    dropout, mc, dataset, classes = EXPECTED[kind]
    record = model_dir_lib.read_record(str(output))
    config = record["config"]
    assert (config["dropout"], config["num_samples"] > 0, record["dataset"],
            config["num_classes"]) == (dropout, mc, dataset, classes)
    assert config["separate_classifier"] == (kind == "bayesian_segnet_camvid")
    assert record["caffe"]["first_output"] == (1 if classes == 37 else 0)
    weights = read_caffemodel(model_file)
    rgb, bgr = _rgb_bgr(rng, _size(kind)[0])
    text = proto.read_text()
    # Deterministic: the zoo's SegNet form (no sample_weights_test).
    set_mc_sampling(model, False)
    error, agree, held = _agreement(
        kind, text.replace("    sample_weights_test: true\n", ""), weights,
        model, rgb, bgr, {})
    print(f"{kind}: deterministic rel. error {error:.1e}, argmax "
          f"{agree:.5f}, {held} near-ties held")
    assert error < 1e-4 and agree >= 0.999
    if mc:  # the Bayesian net as released, masks fixed on both sides
        set_mc_sampling(model, True)
        error, agree, held = _agreement(kind, text, weights, model, rgb, bgr,
                                        dropouts)
        print(f"{kind}: MC rel. error {error:.1e}, argmax {agree:.5f}, "
              f"{held} near-ties held")
        assert error < 1e-4 and agree >= 0.999


@pytest.mark.parametrize("kind", ["segnet_basic_camvid",
                                  "segnet_model_driving_webdemo"])
def test_predict_gives_the_caffe_nets_labels(tmp_path, rng, kind):
    """scripts/predict.py on the converted directory labels an image as the
    Caffe net does (argmax of the oracle's logits), with a registered
    dataset (CamVid) or none (the 12-class driving demo)."""
    proto, model_file, _, _, output = _convert(tmp_path, kind, rng)
    rgb, bgr = _rgb_bgr(rng, _size(kind)[0])
    image = np.round(rgb[0]).astype(np.uint8)
    segdata_fakes.write_image(str(tmp_path / "frame.png"), image)
    result = call_script("predict", f"--model_dir={output}",
                         f"--input={tmp_path / 'frame.png'}",
                         f"--output_dir={tmp_path / 'pred'}")
    assert result.code == 0, result
    labels = cv2.imread(str(tmp_path / "pred/frame_labels.png"),
                        cv2.IMREAD_UNCHANGED)
    data = image[None, ..., ::-1].transpose(0, 3, 1, 2).astype(np.float64)
    blobs, _ = oracle.forward(parse_prototxt(proto.read_text()),
                              read_caffemodel(model_file), data)
    want = blobs[caffe_nets.RELEASED[kind][5]][0].argmax(0)
    assert np.mean(labels == want) >= 0.999


def _edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _rewrite_blobs(path, change):
    """Rewrites a caffemodel through `change([(name, type, blobs)])` (the
    reader does not use the type)."""
    layers = [(n, "", b) for n, b in read_caffemodel(path).items()]
    path.write_bytes(caffemodel_bytes(change(layers)))


def _drop(name):
    return lambda layers: [lay for lay in layers if lay[0] != name]


def _reshape(name):
    return lambda layers: [(n, t, [b[0][:, :-1]] + b[1:]) if n == name
                           else (n, t, b) for n, t, b in layers]


def _extra(layers):
    return layers + [("conv9", "", [np.ones((1, 1, 1, 1)), np.ones(1)])]


@pytest.mark.parametrize("edit,names", [
    (("prototxt", 'type: "ReLU"', 'type: "PReLU"'), ["relu1", "PReLU"]),
    (("prototxt", "bn_mode: INFERENCE", "bn_mode: LEARN"),
     ["conv1_bn", "LEARN"]),
    (("prototxt", "kernel_size: 7", "kernel_size: 5"), ["conv1", "5x5"]),
    (("prototxt", "pad_out_h: true", ""), ["upsample", "--input_size"]),
    (("prototxt", 'name: "conv2"', 'name: "conv_2"'), ["conv_2"]),
    (("prototxt", "layer {", "layer {{"), ["line"]),
    (("prototxt", 'bottom: "conv_decode3"\n  top: "conv_decode3"\n'
      '  dropout_param', 'bottom: "pool1"\n  top: "conv_decode3"\n'
      '  dropout_param'), ["decdrop3", "pool1"]),
    (("caffemodel", _drop("conv_decode1_bn")), ["conv_decode1_bn", "no blobs"]),
    (("caffemodel", _reshape("conv2")), ["conv2", "(16, 15, 7, 7)"]),
    (("caffemodel", _extra), ["conv9"]),
    (("caffemodel", None), ["--caffemodel", "NetParameter"]),
])
def test_bad_input_is_one_line_naming_the_layer(tmp_path, rng, edit, names):
    proto, model_file, _ = caffe_nets.write_released(
        tmp_path, "bayesian_segnet_basic_camvid", (30, 44), 4, rng)
    if edit[0] == "prototxt":
        _edit(proto, *edit[1:])
    elif edit[1] is None:
        model_file.write_bytes(b"\x07not a protobuf")
    else:
        _rewrite_blobs(model_file, edit[1])
    output = tmp_path / "out"
    with pytest.raises(converter().ConversionError) as error:
        converter().run(tool_flags(proto, model_file, output))
    message = str(error.value)
    assert "\n" not in message
    for name in names:
        assert name in message, message
    assert not output.exists() and len(list(tmp_path.iterdir())) == 2


def test_models_prototxt_needs_its_input_size(tmp_path, rng, monkeypatch,
                                              capsys):
    proto, model_file, _ = caffe_nets.write_released(
        tmp_path, "segnet_basic_inference", (30, 44), 4, rng)
    tool = converter()
    monkeypatch.setattr(tool, "FLAGS", tool_flags(proto, model_file,
                                                  tmp_path / "out"))
    with pytest.raises(SystemExit) as exit_:
        tool.main([])
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_.value.code == 1 and len(lines) == 1
    assert lines[0].startswith("error: --prototxt=") and (
        "--input_size" in lines[0])
    # At another size than the one written for, the Upsample sizes differ.
    with pytest.raises(tool.ConversionError, match="upsample2: unpools to "
                       "15x22 at the input size 32x44"):
        tool.run(tool_flags(proto, model_file, tmp_path / "out",
                            input_size=["32", "44"]))
    tool.run(tool_flags(proto, model_file, tmp_path / "out",
                        input_size=["30", "44"]))
    with pytest.raises(tool.ConversionError, match="--overwrite"):
        tool.run(tool_flags(proto, model_file, tmp_path / "out",
                            input_size=["30", "44"]))


@pytest.mark.large
def test_full_width_bayesian_segnet_camvid_matches_caffe_oracle(tmp_path,
                                                                 rng):
    """The released widths (29,486,411 parameters), a shrunken input."""
    proto, model_file, dropouts = caffe_nets.write_released(
        tmp_path, "bayesian_segnet_camvid", (36, 44), 1, rng)
    config = converter().run(tool_flags(proto, model_file, tmp_path / "out"))
    model = bayesian_segnet_tf.build_model(config)
    model.load_weights(tmp_path / "out/model.weights.h5")
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == (
        29_486_411)
    set_mc_sampling(model, True)
    rgb, bgr = _rgb_bgr(rng, (36, 44))
    error, agree, held = _agreement(
        "bayesian_segnet_camvid", proto.read_text(),
        read_caffemodel(model_file), model, rgb, bgr, dropouts)
    print(f"full width MC: rel. error {error:.1e}, argmax {agree:.5f}, "
          f"{held} near-ties held")
    assert error < 1e-4 and agree >= 0.999
