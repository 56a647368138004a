"""Bayesian SegNet's Fig. 3: accuracy against the number of MC dropout samples.

    python scripts/mc_curve.py --model_dir=$RUNS/segnet_basic_central \
        --data_dir=$DATA --split=val --mc_samples=50 \
        --output=docs/figures/camvid_mc_samples.png

Draws `--mc_samples` samples per image once; every sample count of the curve
(1, 2, 5, 10, 20, 50) is scored on disjoint groups of those draws, so the
small counts get several independent draws and their spread (min-max bars
around the mean). Weight averaging (one pass, dropout off) is the flat
dashed line. Writes the PNG and, beside it, the figures as JSON.
"""

import json
import os

import _cli
import _common  # sets TF log level before TensorFlow loads
import _registry
import cv2
import numpy as np
from absl import flags, logging

from bayesian_segnet_tf import MonteCarloSampler
from bayesian_segnet_tf.sample_curve import SampleCurve
from seg_common.metrics import ConfusionMatrix
from seg_common.progress import track
from seg_common.training import evaluation

FLAGS = flags.FLAGS
flags.DEFINE_string("model_dir", None, "Bayesian SegNet run of train.py.")
_common.define_source_flags()
flags.DEFINE_string("split", "val", "Split scored.")
flags.DEFINE_integer("mc_samples", 50, "Samples drawn per image (the "
                     "largest count of the curve).")
flags.DEFINE_integer("bn_statistics_steps", 0, "Re-estimate batch-norm "
                     "statistics over this many training batches first "
                     "(see evaluate.py).")
flags.DEFINE_list("eval_size", None, "Resize to height,width (one value: a "
                  "square) first.")
flags.DEFINE_integer("max_images", None, "Score only the first images.")
flags.DEFINE_integer("seed", 0, "Seed of the dropout masks.")
flags.DEFINE_string("output", None, "PNG to write (JSON beside it).")
# --data_dir, --precision, ... in --helpshort too.
flags.adopt_module_key_flags(_common)
flags.mark_flags_as_required(["model_dir", "output"])

_SCORES = (("class_accuracy", "class accuracy"), ("mean_iou", "mean IoU"))


def score_curve(model, dataset, config, num_samples, total, seed=0):
    """Scores of every sample count and of weight averaging on `dataset`.

    Returns:
        {"samples": SampleCurve.result(), "weight_averaging": scores dict}.
    """
    sampler = MonteCarloSampler(model, num_samples)
    sampler.reseed(seed)
    single_pass = evaluation.softmax_predictor(model)
    curve = SampleCurve(config.num_classes, num_samples, config.ignore_label)
    averaged = ConfusionMatrix(config.num_classes, config.ignore_label)
    for images, labels in track(dataset, "MC samples curve", total):
        labels = labels.numpy()
        curve.update(labels[0], sampler.sample_probabilities(images[:1]))
        averaged.update(labels, np.asarray(single_pass(images)["labels"]))
    return {"samples": curve.result(), "weight_averaging": averaged.result()}


def _plot_panel(result, key, title, size=(360, 420)):
    """One panel: mean with min-max bars per sample count (log axis), the
    weight-averaging line dashed. Returns a uint8 RGB image."""
    h, w = size
    left, right, top, bottom = 60, 20, 40, 50
    canvas = np.full((h, w, 3), 255, np.uint8)
    counts = sorted(int(t) for t in result["samples"])
    points = [result["samples"][t][key] for t in counts]
    flat = result["weight_averaging"][key]
    lo = min([p["min"] for p in points] + [flat]) - 0.01
    hi = max([p["max"] for p in points] + [flat]) + 0.01
    logs = np.log(counts)
    span = max(logs[-1] - logs[0], 1e-9)

    def xy(t_log, value):
        x = left + (t_log - logs[0]) / span * (w - left - right)
        y = top + (hi - value) / (hi - lo) * (h - top - bottom)
        return int(round(x)), int(round(y))

    cv2.rectangle(canvas, (left, top), (w - right, h - bottom), (0, 0, 0), 1)
    for t, t_log in zip(counts, logs):
        cv2.putText(canvas, str(t), (xy(t_log, lo)[0] - 6, h - bottom + 18),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    for value in np.linspace(lo, hi, 5):
        cv2.putText(canvas, f"{value:.3f}", (4, xy(logs[0], value)[1] + 4),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 0), 1)
    for x in range(left, w - right, 12):   # weight averaging, dashed
        y = xy(logs[0], flat)[1]
        cv2.line(canvas, (x, y), (min(x + 6, w - right), y), (200, 0, 0), 1)
    line = [xy(t_log, p["mean"]) for t_log, p in zip(logs, points)]
    cv2.polylines(canvas, [np.array(line, np.int32)], False, (0, 0, 160), 2)
    for t_log, p in zip(logs, points):
        x0, y_min = xy(t_log, p["min"])
        cv2.line(canvas, (x0, y_min), xy(t_log, p["max"]), (0, 0, 160), 1)
    cv2.putText(canvas, title, (left, top - 14), cv2.FONT_HERSHEY_SIMPLEX,
                0.5, (0, 0, 0), 1)
    cv2.putText(canvas, "MC samples (log scale); dashed: weight averaging",
                (left - 40, h - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.35,
                (0, 0, 0), 1)
    return canvas


def plot_curve(result):
    """Both panels side by side (uint8 RGB)."""
    return np.concatenate([_plot_panel(result, key, title)
                           for key, title in _SCORES], axis=1)


def main(argv):
    del argv
    record, config, model = _common.load_trained(FLAGS.model_dir)
    if not _registry.is_bayesian(record["model"]):
        raise _cli.UserError(f"--model_dir={FLAGS.model_dir} holds a "
                             f"{record['model']} run; the MC samples curve "
                             "needs a bayesian_segnet run.")
    if FLAGS.mc_samples < 1:
        raise _cli.UserError("--mc_samples must be at least 1.")
    runtime = record["runtime"]
    source = _common.data_source(FLAGS.data_dir or runtime.get("data_dir"),
                                 FLAGS.tfds_name or (None if FLAGS.data_dir
                                                     else runtime.get(
                                                         "tfds_name")))
    files = _common.split_files(source, FLAGS.split, "--split")
    if FLAGS.bn_statistics_steps:
        _common.recompute_bn_statistics(record, config, model, source,
                                        FLAGS.bn_statistics_steps)
    dataset = _common.eval_dataset(
        source, FLAGS.split, config, 1,
        resize_size=_cli.size("eval_size", FLAGS.eval_size))
    total = _common.num_batches(files, 1, FLAGS.max_images)
    if FLAGS.max_images:
        dataset = dataset.take(FLAGS.max_images)
    result = score_curve(model, dataset, config, FLAGS.mc_samples, total,
                         FLAGS.seed)
    cv2.imwrite(FLAGS.output, plot_curve(result)[..., ::-1])
    with open(os.path.splitext(FLAGS.output)[0] + ".json", "w") as f:
        json.dump(result, f, indent=1)
    logging.info("Wrote %s", FLAGS.output)
    print(f"MC samples curve written: {FLAGS.output}")


if __name__ == "__main__":
    _cli.run(main)
