"""Segments images: label PNGs, colour overlays and uncertainty heat maps.

    python scripts/predict.py --model_dir=/tmp/run --input='photos/*.jpg' \
        --output_dir=/tmp/out
    python scripts/predict.py --saved_model=/tmp/run/export ...
    python scripts/predict.py --weights=NAME --input=road.png \
        --output_dir=/tmp/out        # shipped Bayesian SegNet weights

Per image <name>: <name>_labels.png (uint8 class ids), <name>_overlay.png,
and <name>_uncertainty.png when the model estimates uncertainty. Unreadable
images are reported one line each and skipped; the exit status is then 1.
"""

import glob
import os

import _cli
import _common  # sets TF log level before TensorFlow loads
import _registry
import cv2
import numpy as np
import tensorflow as tf
from _cli import UserError
from absl import flags, logging

from seg_common import export
from seg_common.data import datasets
from seg_common.training import visualize

FLAGS = flags.FLAGS
flags.DEFINE_string("input", None, "Glob of input images.")
flags.DEFINE_string("output_dir", None, "Where the PNGs go.")
flags.DEFINE_string("model_dir", None, "Directory written by train.py ...")
flags.DEFINE_string("saved_model", None, "... or an exported SavedModel ...")
flags.DEFINE_string("weights", None, "... or shipped Bayesian SegNet weights "
                    "by name (bayesian_segnet_tf.pretrained.PRETRAINED).")
flags.DEFINE_integer("mc_samples", None, "Bayesian SegNet (model dir only): "
                     "MC samples (default: the config's num_samples).")
flags.DEFINE_float("alpha", 0.5, "Opacity of the colour overlay.")
_common.define_precision_flag()
# --data_dir, --precision, ... in --helpshort too.
flags.adopt_module_key_flags(_common)
flags.mark_flags_as_required(["input", "output_dir"])


def load_predictor():
    """(predict fn(images uint8 (1,H,W,3)) -> dict, colormap)."""
    if sum(map(bool, (FLAGS.model_dir, FLAGS.saved_model, FLAGS.weights))) != 1:
        raise UserError("Give exactly one of --model_dir (a training run), "
                        "--saved_model (an export of export.py) and "
                        "--weights (shipped weights, by name).")
    if FLAGS.model_dir or FLAGS.weights:
        record, config, model = (_common.load_trained(FLAGS.model_dir)
                                 if FLAGS.model_dir else
                                 _common.load_shipped(FLAGS.weights))
        mc_samples = FLAGS.mc_samples
        if mc_samples is None:
            mc_samples = getattr(config, "num_samples", 0)
        fast_model, precision, _ = _common.inference_setup(
            record, config, model, FLAGS.precision)
        predict = next(iter(_registry.predictors(
            record["model"], model, mc_samples=mc_samples,
            fast_model=fast_model, precision=precision).values()))
        return (lambda images: predict(images.astype(np.float32)),
                _common.colormap(record)[0])
    if os.path.isfile(os.path.join(FLAGS.saved_model, "config.json")):
        raise UserError(f"--saved_model={FLAGS.saved_model} is a training "
                        "run, not an export: pass it as --model_dir "
                        f"(--model_dir={FLAGS.saved_model}).")
    if not os.path.isfile(os.path.join(FLAGS.saved_model, "saved_model.pb")):
        raise UserError(f"--saved_model={FLAGS.saved_model} holds no "
                        "saved_model.pb; export one with scripts/export.py "
                        f"--model_dir=<run> --export_dir={FLAGS.saved_model}"
                        ", or pass --model_dir=<run>.")
    loaded = tf.saved_model.load(FLAGS.saved_model)
    serve = loaded.signatures["serving_default"]
    record = export.read_extra(FLAGS.saved_model, "config.json")
    colormap = (_common.colormap(record)[0] if record else
                datasets.pascal_colormap(256))
    return lambda images: serve(images=tf.constant(images)), colormap


def predict_file(path, predict, colormap):
    """Writes the outputs of one image; raises ValueError if unreadable."""
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError("not a readable image")
    image = bgr[..., ::-1]
    outputs = {k: np.asarray(v)[0] for k, v in
               predict(np.ascontiguousarray(image)[None]).items()}
    stem = os.path.join(FLAGS.output_dir,
                        os.path.splitext(os.path.basename(path))[0])
    labels = outputs["labels"]
    cv2.imwrite(f"{stem}_labels.png", labels.astype(np.uint8))
    visualize.write_rgb(f"{stem}_overlay.png", visualize.overlay(
        image, visualize.colorize(labels, colormap), FLAGS.alpha))
    if "uncertainty" in outputs:
        visualize.write_rgb(f"{stem}_uncertainty.png",
                            visualize.heatmap(outputs["uncertainty"]))


def main(argv):
    del argv
    paths = sorted(glob.glob(FLAGS.input))
    if not paths:
        raise UserError(f"--input={FLAGS.input} matches no file; quote the "
                        "glob so the shell does not expand it.")
    predict, colormap = load_predictor()
    os.makedirs(FLAGS.output_dir, exist_ok=True)
    failed = 0
    for path in paths:
        try:
            predict_file(path, predict, colormap)
            logging.info("%s: done", path)
        except (ValueError, tf.errors.InvalidArgumentError) as error:
            failed += 1
            logging.error("%s: skipped: %s", path, error)
            print(f"error: {path}: {error}")
    print(f"Predicted {len(paths) - failed} of {len(paths)} images into "
          f"{FLAGS.output_dir}")
    if failed:
        raise UserError(f"{failed} of {len(paths)} images could not be "
                        "read (listed above); they were skipped.")


if __name__ == "__main__":
    _cli.run(main)
