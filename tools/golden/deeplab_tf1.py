"""Golden outputs of the official TF1 DeepLab for `tests/deeplab/test_deeplab_golden.py`.

Builds the official models (tensorflow/models `research/deeplab` at its last
commit, 0e2d1f0f, with `research/slim`) from a checkout given on the command
line, assigns every variable `tools.golden.weights.draw_tf1(name, shape,
seed)` (BN statistics included), runs fixed uint8-range inputs in eval mode
and writes, per configuration, `deeplab_<name>.npz` holding:

    images        uint8 (2, 97, 129, 3), the inputs
    logits        float32, the official logits at input resolution (bilinear,
                  align_corners) sampled every 3rd pixel: [:, ::3, ::3, :]
    labels        uint8 (2, 97, 129), their full-resolution argmax
    aspp          float32, the ASPP output (`concat_projection/Relu`)
                  [DeepLab configurations]
    features      float32, the final backbone feature map before global
                  pooling [ImageNet classifier configurations]
    <key>_float32_error
                  float32 [relative L2, max abs] for each float32 array
                  above: the official float32 output against the same graph
                  in float64, the official model's own float32 rounding,
                  which sets the tests' tolerance
    manifest      str, JSON {"names": [...], "shapes": [[...], ...]}: every
                  official variable, as a checkpoint of that model holds it
    flags         str, JSON: the official flags / arguments used
    graph         uint8, a serialised GraphDef of the official float32 graph
                  cut to its convolutions (`convolution_graph`): the atrous
                  rates as a frozen graph beside a checkpoint shows them
    seed          int

Run by hand (none of the official code is copied into this repository);
TensorFlow 2.x needs `tf_slim` and `tf_keras` of the same version:

    TF_USE_LEGACY_KERAS=1 python tools/golden/deeplab_tf1.py \
        --official_source=$OFFICIAL/research --output_dir=tests/golden
"""

import json
import os
import pathlib
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

from tools.golden.official_tf1 import import_official  # noqa: E402
from tools.golden.weights import draw_tf1  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("official_source", None,
                    "The official `research` directory (deeplab/ and slim/).")
flags.DEFINE_string("output_dir", "tests/golden", "Where the .npz files go.")
flags.DEFINE_integer("seed", 0, "Seed of the weights and the inputs.")
flags.DEFINE_list("only", [], "Configuration names to generate (default all).")
flags.mark_flag_as_required("official_source")

IMAGE_SHAPE = (2, 97, 129, 3)
_V3PLUS = dict(decoder_output_stride=[4], aspp_with_separable_conv=True,
               decoder_use_separable_conv=True, multi_grid=None)
# name -> official flags (DeepLab) or classifier arguments (`classifier`).
CONFIGS = {
    "xception_65_os16": dict(_V3PLUS, model_variant="xception_65",
                             output_stride=16, atrous_rates=[6, 12, 18]),
    "xception_65_os8": dict(_V3PLUS, model_variant="xception_65",
                            output_stride=8, atrous_rates=[12, 24, 36]),
    "xception_65_plain": dict(_V3PLUS, model_variant="xception_65",
                              output_stride=16, atrous_rates=[6, 12, 18],
                              aspp_with_separable_conv=False,
                              decoder_use_separable_conv=False),
    "xception_65_v3": dict(_V3PLUS, model_variant="xception_65",
                           output_stride=16, atrous_rates=[6, 12, 18],
                           decoder_output_stride=None),
    "xception_71_os16": dict(_V3PLUS, model_variant="xception_71",
                             output_stride=16, atrous_rates=[6, 12, 18],
                             num_classes=19),
    "resnet_101_beta_os16": dict(_V3PLUS, model_variant="resnet_v1_101_beta",
                                 output_stride=16, atrous_rates=[6, 12, 18],
                                 multi_grid=[1, 2, 4]),
    "resnet_101_beta_os8": dict(_V3PLUS, model_variant="resnet_v1_101_beta",
                                output_stride=8, atrous_rates=[12, 24, 36],
                                multi_grid=[1, 2, 4]),
    "resnet_50_beta_os16": dict(_V3PLUS, model_variant="resnet_v1_50_beta",
                                output_stride=16, atrous_rates=[6, 12, 18],
                                multi_grid=[1, 2, 4]),
    "xception_65_imagenet": dict(classifier="xception_65", num_classes=1001),
    "resnet_101_beta_imagenet": dict(classifier="resnet_v1_101_beta",
                                     num_classes=1001),
}


def images(seed):
    """The fixed inputs: uint8 (2, 97, 129, 3) drawn from `seed`."""
    rng = np.random.default_rng([seed, 97129])
    return rng.integers(0, 256, IMAGE_SHAPE, dtype=np.uint8)


def _build_deeplab(official, spec, inputs, dtype):
    """Official eval graph: `{"logits": full resolution, "aspp": ...}`."""
    tf, common, model = official.tf, official.common, official.model
    for name in ("model_variant", "multi_grid", "decoder_output_stride",
                 "aspp_with_separable_conv", "decoder_use_separable_conv"):
        setattr(common.FLAGS, name, spec[name])
    options = common.ModelOptions(
        outputs_to_num_classes={"semantic": spec.get("num_classes", 21)},
        crop_size=list(IMAGE_SHAPE[1:3]), atrous_rates=spec["atrous_rates"],
        output_stride=spec["output_stride"], preprocessed_images_dtype=dtype)
    logits = model.multi_scale_logits(
        inputs, options, image_pyramid=None, is_training=False,
        fine_tune_batch_norm=False)["semantic"][model.MERGED_LOGITS_SCOPE]
    logits = model._resize_bilinear(logits, tf.shape(inputs)[1:3], dtype)
    aspp = tf.get_default_graph().get_tensor_by_name("concat_projection/Relu:0")
    return {"logits": logits, "aspp": aspp}


def _build_classifier(official, spec, inputs, dtype):
    """Official ImageNet classifier (its `logits` head built, as in its
    checkpoints): `{"features": the last block's output}`."""
    extractor = official.feature_extractor
    variant = spec["classifier"]
    x = official.tf.cast(inputs, dtype) / 127.5 - 1.0
    with official.slim.arg_scope(extractor.arg_scopes_map[variant]()):
        _, end_points = extractor.networks_map[variant](
            x, num_classes=spec["num_classes"], is_training=False,
            global_pool=True)
    last = "exit_flow/block2" if variant.startswith("xception") else "block4"
    (features,) = [v for k, v in end_points.items() if k.endswith("/" + last)]
    return {"features": features}


def convolution_graph(graph_def):
    """`graph_def` cut to its convolutions and the constants they read
    (SpaceToBatchND block shapes): how a converter sees the atrous rates in
    a `frozen_inference_graph.pb` or `graph.pbtxt`. Serialised GraphDef."""
    kept = [n for n in graph_def.node if n.op in (
        "Conv2D", "DepthwiseConv2dNative", "SpaceToBatchND")]
    shapes = {i.split(":")[0] for n in kept if n.op == "SpaceToBatchND"
              for i in n.input[1:]}
    pruned = type(graph_def)()
    pruned.node.extend(kept + [n for n in graph_def.node if n.name in shapes])
    return pruned.SerializeToString()


def run(official, spec, seed, dtype_name):
    """Builds one configuration, assigns the golden weights, runs it.

    Returns:
        `(outputs dict of numpy arrays, manifest {"names", "shapes"},
        `convolution_graph` bytes)`.
    """
    tf = official.tf
    with tf.Graph().as_default():
        dtype = tf.as_dtype(dtype_name)
        inputs = tf.constant(images(seed))
        build = _build_classifier if "classifier" in spec else _build_deeplab
        outputs = build(official, spec, inputs, dtype)
        variables = tf.global_variables()
        with tf.Session() as session:
            for var in variables:
                name, shape = var.op.name, var.shape.as_list()
                var.load(draw_tf1(name, shape, seed).astype(dtype_name),
                         session)
            values = session.run(outputs)
        graph = convolution_graph(tf.get_default_graph().as_graph_def())
    manifest = {"names": [v.op.name for v in variables],
                "shapes": [v.shape.as_list() for v in variables]}
    return values, manifest, graph


def float32_error(reference, value):
    """[relative L2, max abs] of float32 `value` against float64 `reference`."""
    diff = value.astype(np.float64) - reference
    return np.array([np.linalg.norm(diff) / np.linalg.norm(reference),
                     np.abs(diff).max()], np.float32)


def golden(official, name, spec, seed):
    """The arrays of `deeplab_<name>.npz` (see the module docstring)."""
    values, manifest, graph = run(official, spec, seed, "float32")
    values64, _, _ = run(official, spec, seed, "float64")
    arrays = {"images": images(seed), "seed": np.int64(seed),
              "manifest": np.array(json.dumps(manifest)),
              "flags": np.array(json.dumps(spec)),
              "graph": np.frombuffer(graph, np.uint8)}
    keys = ["features"] if "classifier" in spec else ["logits", "aspp"]
    for key in keys:
        arrays[f"{key}_float32_error"] = float32_error(values64[key],
                                                       values[key])
        arrays[key] = values[key].astype(np.float32)
        print(f"{name} {key}: float32 error (rel L2, max abs) "
              f"{arrays[f'{key}_float32_error']}, max |{key}| "
              f"{np.abs(values[key]).max():.3g}")
    if "logits" in keys:
        arrays["labels"] = values["logits"].argmax(-1).astype(np.uint8)
        arrays["logits"] = arrays["logits"][:, ::3, ::3]
    print(f"{name}: {len(manifest['names'])} variables")
    return arrays


def main(argv):
    del argv
    official = import_official(FLAGS.official_source)
    os.makedirs(FLAGS.output_dir, exist_ok=True)
    for name in FLAGS.only or CONFIGS:
        arrays = golden(official, name, CONFIGS[name], FLAGS.seed)
        np.savez_compressed(
            os.path.join(FLAGS.output_dir, f"deeplab_{name}.npz"), **arrays)


if __name__ == "__main__":
    app.run(main)
