"""Converts a released SegNet-Tutorial Caffe model into a model directory.

    python tools/convert_caffe_segnet.py \
        --prototxt=SegNet-Tutorial/Example_Models/bayesian_segnet_camvid.prototxt \
        --caffemodel=bayesian_segnet_camvid.caffemodel \
        --output_dir=models/bayesian_segnet_camvid

The prototxt must be a deploy net (BN layers in `bn_mode: INFERENCE`, the
weights `compute_bn_statistics.py` wrote): `Example_Models/*.prototxt` or
`Models/*_inference.prototxt` (those state no input size: add
`--input_size=360,480`). The converter finds the `bayesian_segnet_tf`
Config that builds the same network (arch, `separate_classifier`, width,
dropout variant and rate, Monte Carlo sampling if the Dropout layers have
`sample_weights_test`, classes) and refuses, in one line naming the layer,
anything else: an unsupported layer, a layer out of place, a BN layer in
LEARN mode, an Upsample size that does not restore its pooling's input at
the prototxt's input size, missing / unexpected / mis-shaped blobs. Nothing
is written then.

The output directory (written to a temporary sibling, then renamed) holds
`config.json` (the preset, the Config, the dataset whose class order the
outputs follow, the input convention), a checkpoint and `model.weights.h5`,
so `scripts/predict.py --model_dir=<output_dir>` and `evaluate.py` run it.
Input: the model takes RGB 0..255 and flips it to the BGR 0..255 the Caffe
nets were trained on (no mean, no scaling: the tutorial's data layer).
SUN RGB-D's 38 Caffe outputs start with void (never a training target):
the converted model keeps the 37 classes, so its labels are SUN ids - 1.
"""

import dataclasses
import os
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402

import bayesian_segnet_tf  # noqa: E402
from bayesian_segnet_tf import caffe_format, caffe_model, caffe_weights  # noqa: E402,E501
from seg_common.data import datasets  # noqa: E402
from seg_common.files import atomic_directory  # noqa: E402
from seg_common.training import model_dir as model_dir_lib  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("prototxt", None, "SegNet-Tutorial deploy .prototxt.")
flags.DEFINE_string("caffemodel", None, "The matching .caffemodel.")
flags.DEFINE_string("output_dir", None, "Model directory to write.")
flags.DEFINE_list("input_size", None,
                  "H,W the prototxt's Upsample sizes were written for, when "
                  "it states no input size (Models/: 360,480).")
flags.DEFINE_bool("overwrite", False, "Replace an existing --output_dir.")
flags.mark_flags_as_required(["prototxt", "caffemodel", "output_dir"])

INPUT_CONVENTION = ("RGB 0..255 in; the model flips it to Caffe's BGR "
                    "0..255 (no mean subtraction, no scaling)")
ConversionError = caffe_model.ConversionError


def _size(values):
    try:
        size = tuple(int(v) for v in values or ())
    except ValueError:
        size = ()
    if values and (len(size) != 2 or min(size) < 1):
        raise ConversionError(f"--input_size={','.join(values)}: give H,W")
    return size or None


def _read(flag_values):
    """(Released, caffemodel weights) or ConversionError naming the file."""
    for name in ("prototxt", "caffemodel"):
        if not os.path.isfile(getattr(flag_values, name)):
            raise ConversionError(f"--{name}={getattr(flag_values, name)}: "
                                  "no such file")
    size = _size(flag_values.input_size)
    try:
        with open(flag_values.prototxt, encoding="utf-8") as f:
            net = caffe_format.parse_prototxt(f.read())
        released = caffe_model.describe(net, size)
    except (caffe_format.CaffeFormatError, UnicodeDecodeError,
            ConversionError) as error:
        raise ConversionError(f"--prototxt={flag_values.prototxt}: "
                              f"{error}") from None
    try:
        weights = caffe_format.read_caffemodel(flag_values.caffemodel)
    except caffe_format.CaffeFormatError as error:
        raise ConversionError(f"--caffemodel={flag_values.caffemodel}: "
                              f"{error}") from None
    return released, weights


def _record(released, config, preset, flag_values):
    record = model_dir_lib.make_record(
        "bayesian_segnet", preset, config, released.dataset)
    info = (datasets.get_dataset_info(released.dataset)
            if released.dataset else None)
    record["caffe"] = {
        "prototxt": os.path.abspath(flag_values.prototxt),
        "caffemodel": os.path.abspath(flag_values.caffemodel),
        "input": INPUT_CONVENTION,
        "input_size": list(released.input_size),
        "first_output": released.first_output,
        "class_names": list(info.class_names) if info else None,
        "monte_carlo": config.num_samples > 0,
    }
    return record


def run(flag_values):
    """Validates, converts and writes; returns the resolved Config.

    Raises:
        ConversionError: bad input; nothing is written.
    """
    output = flag_values.output_dir
    if os.path.lexists(output) and not flag_values.overwrite:
        raise ConversionError(f"--output_dir={output} exists: add "
                              "--overwrite or choose another path")
    released, weights = _read(flag_values)
    preset = released.config["arch"]  # "segnet" or "segnet_basic"
    changes = dict(released.config)
    if released.dataset != "camvid":
        changes["class_weights"] = None  # the preset's are CamVid's
    config = dataclasses.replace(bayesian_segnet_tf.PRESETS[preset], **changes)
    model = bayesian_segnet_tf.build_model(config)
    problems = caffe_weights.load_caffe_weights(model, released, weights)
    if problems:
        raise ConversionError(f"--caffemodel={flag_values.caffemodel}: "
                              f"{problems[0]}"
                              + (f" (and {len(problems) - 1} more)"
                                 if len(problems) > 1 else ""))
    record = _record(released, config, preset, flag_values)
    replace = shutil.rmtree if flag_values.overwrite else None
    with atomic_directory(output, replace=replace) as tmp:
        model_dir_lib.write_record(tmp, record)
        tf.train.CheckpointManager(tf.train.Checkpoint(model=model), tmp,
                                   max_to_keep=1).save()
        model.save_weights(os.path.join(tmp, "model.weights.h5"))
    print(f"wrote {output}: preset {preset} with {released.config}, "
          f"classes of {released.dataset or 'no registered dataset'}; the "
          "unpooling sizes come from the pooled tensors, so any input size "
          f"works (the prototxt's hold at {released.input_size[0]}x"
          f"{released.input_size[1]})")
    return config


def main(argv):
    del argv
    try:
        run(FLAGS)
    except ConversionError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    app.run(main)
