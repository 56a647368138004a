"""Converts an official TF1 DeepLab checkpoint into a Keras `.weights.h5` file.

    python tools/convert_tf1_deeplab_checkpoint.py \
        --checkpoint=/ckpt/deeplabv3_pascal_train_aug/model.ckpt \
        --preset=xception_65_voc --output=/tmp/xception_65_voc.weights.h5

Prints every checkpoint variable left unmapped and every model variable the
checkpoint does not provide; exits non-zero when weights are left unmapped
or missing (unless --allow_missing, e.g. with --skip_logits for a new class
count). The output loads with `deeplab_tf.build_model(...).load_weights()`.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

import deeplab_tf  # noqa: E402
from deeplab_tf.model import resolve_config  # noqa: E402
from deeplab_tf.tf1_checkpoint import load_tf1_checkpoint  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("checkpoint", None, "TF1 checkpoint prefix or directory.")
flags.DEFINE_string("output", None, "Destination .weights.h5 file.")
flags.DEFINE_string("preset", "xception_65_voc", "deeplab_tf.PRESETS name.")
flags.DEFINE_multi_string("override", [], "Config field overrides: name=JSON.")
flags.DEFINE_bool("skip_logits", False, "Do not load logits/semantic.")
flags.DEFINE_bool("allow_missing", False,
                  "Write the output even if model variables are missing.")
flags.mark_flags_as_required(["checkpoint", "output"])


def _overrides(items):
    overrides = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        overrides[name] = tuple(parsed) if isinstance(parsed, list) else parsed
    return overrides


def convert(checkpoint, output, config, skip_logits=False,
            allow_missing=False):
    """Builds the model of `config`, loads `checkpoint`, writes `output`.

    Returns:
        The report of `load_tf1_checkpoint`; nothing is written when weights
        are unmapped, mismatched or (without `allow_missing`) missing.
    """
    model = deeplab_tf.build_model(config)
    report = load_tf1_checkpoint(model, config, checkpoint, skip_logits)
    for key in ("unmapped", "missing", "shape_mismatch"):
        for name in report[key]:
            print(f"{key}: {name}")
    print(f"loaded {len(report['loaded'])} variables; ignored "
          f"{len(report['training_state'])} training-state entries")
    failed = report["unmapped"] or report["shape_mismatch"] or (
        report["missing"] and not allow_missing)
    if not failed:
        model.save_weights(output)
        print(f"wrote {output}")
    return report


def main(argv):
    del argv
    config = deeplab_tf.PRESETS[FLAGS.preset]
    config = resolve_config(config, **_overrides(FLAGS.override))
    report = convert(FLAGS.checkpoint, FLAGS.output, config,
                     FLAGS.skip_logits, FLAGS.allow_missing)
    if not os.path.exists(FLAGS.output):
        sys.exit(f"not written: {len(report['unmapped'])} unmapped, "
                 f"{len(report['missing'])} missing, "
                 f"{len(report['shape_mismatch'])} mismatched variables")


if __name__ == "__main__":
    app.run(main)
