"""Streaming evaluation over a dataset with one or more predictors."""

import math

import numpy as np
import tensorflow as tf

from seg_common import metrics


def softmax_predictor(model):
    """The single-pass predictor: softmax of the model's "logits".

    Args:
        model: keras model returning a dict with "logits" (B, H, W, C).

    Returns:
        fn(images float32 (B, H, W, 3)) -> {"probabilities" (B, H, W, C)
        float32, "labels" (B, H, W) int32}, a `tf.function`.
    """
    @tf.function(reduce_retracing=True)
    def predict(images):
        logits = tf.cast(model(images, training=False)["logits"], tf.float32)
        probabilities = tf.nn.softmax(logits)
        return {"probabilities": probabilities,
                "labels": tf.argmax(probabilities, -1, output_type=tf.int32)}
    return predict


def segmentation_scores(result):
    """The scalar scores of one predictor's `evaluate` result.

    Returns:
        dict name -> float: `ConfusionMatrix.result()` without the per-class
        lists (global_accuracy, class_accuracy, mean_iou, ...).
    """
    return {k: v for k, v in result["metrics"].items()
            if not isinstance(v, list)}


def classification_scores(result):
    """Top-1 scores of a classifier from one predictor's `evaluate` result.

    With labels (B,) and predicted labels (B,), the confusion matrix counts
    images, so its global accuracy is the top-1 accuracy.

    Returns:
        dict with `accuracy` (top-1, in [0, 1]), `error_percent`
        (100 (1 - accuracy)), `class_accuracy` (mean per-class recall) and
        `num_examples`.
    """
    accuracy = result["metrics"]["global_accuracy"]
    return {"accuracy": accuracy, "error_percent": 100.0 * (1.0 - accuracy),
            "class_accuracy": result["metrics"]["class_accuracy"],
            "num_examples": int(np.sum(result["confusion_matrix"]))}


def evaluate(predictors, dataset, num_classes, ignore_label=255,
             max_batches=None, trimap_widths=(), on_batch=None):
    """Runs every predictor over one pass of `dataset`.

    Each predictor accumulates one confusion matrix over the whole pass (and
    one per trimap width); a predictor that returns "uncertainty" and
    "probabilities" also gets `metrics.UncertaintyMetrics` (histogram range
    [0, 1], which bounds the mean variance of probabilities).

    Args:
        predictors: dict name -> fn(images) -> dict with "labels" (B, H, W)
            and optionally "probabilities" (B, H, W, C), "uncertainty"
            (B, H, W).
        dataset: iterable of (images (B, H, W, 3), labels (B, H, W)).
        num_classes: C.
        ignore_label: label excluded from every score.
        max_batches: stop after this many batches (None = whole pass).
        trimap_widths: band widths for `metrics.trimap_labels` mIoU.
        on_batch: optional callback(batch_index, images, labels, outputs)
            with the first predictor's outputs (for image summaries).

    Returns:
        dict name -> {"metrics": ConfusionMatrix.result(), "confusion_matrix":
        (C, C) list, "trimap": {width: mean_iou}, optionally "uncertainty":
        UncertaintyMetrics.result()}.
    """
    state = {name: _State(num_classes, ignore_label, trimap_widths)
             for name in predictors}
    for index, (images, labels) in enumerate(dataset):
        if max_batches is not None and index >= max_batches:
            break
        labels = np.asarray(labels)
        for i, (name, predict) in enumerate(predictors.items()):
            outputs = {k: np.asarray(v) for k, v in predict(images).items()}
            state[name].update(labels, outputs)
            if i == 0 and on_batch is not None:
                on_batch(index, images, labels, outputs)
    return {name: s.result() for name, s in state.items()}


class _State:
    """Accumulators of one predictor."""

    def __init__(self, num_classes, ignore_label, trimap_widths):
        self.ignore_label = ignore_label
        self.matrix = metrics.ConfusionMatrix(num_classes, ignore_label)
        self.trimaps = {w: metrics.ConfusionMatrix(num_classes, ignore_label)
                        for w in trimap_widths}
        self.uncertainty = metrics.UncertaintyMetrics(num_classes,
                                                      ignore_label)
        self.has_uncertainty = False

    def update(self, labels, outputs):
        self.matrix.update(labels, outputs["labels"])
        for width, matrix in self.trimaps.items():
            matrix.update(metrics.trimap_labels(labels, width,
                                                self.ignore_label),
                          outputs["labels"])
        if "uncertainty" in outputs and "probabilities" in outputs:
            self.has_uncertainty = True
            self.uncertainty.update(labels, outputs["probabilities"],
                                    outputs["uncertainty"])

    def result(self):
        out = {
            "metrics": self.matrix.result(),
            "confusion_matrix": self.matrix.matrix.tolist(),
            "trimap": {w: m.result()["mean_iou"]
                       for w, m in self.trimaps.items()},
        }
        if self.has_uncertainty:
            out["uncertainty"] = self.uncertainty.result()
        return out


def format_table(results, class_names):
    """Formats evaluation results as a plain-text table.

    Args:
        results: the dict returned by `evaluate`.
        class_names: C class names.

    Returns:
        str: one column per predictor; rows for the summary scores, the
        per-class IoU and the trimap mIoU.
    """
    names = list(results)
    rows = [("", names)]
    for key in ("global_accuracy", "class_accuracy", "mean_iou",
                "frequency_weighted_iou"):
        rows.append((key, [results[n]["metrics"][key] for n in names]))
    for c, cls in enumerate(class_names):
        rows.append((f"IoU {cls}",
                     [results[n]["metrics"]["per_class_iou"][c] for n in names]))
    for width in results[names[0]]["trimap"]:
        rows.append((f"trimap mIoU {width}px",
                     [results[n]["trimap"][width] for n in names]))
    for key in ("auroc_misclassification", "expected_calibration_error"):
        if any("uncertainty" in results[n] for n in names):
            rows.append((key, [results[n].get("uncertainty", {}).get(key)
                               for n in names]))
    width = max(len(r[0]) for r in rows) + 2
    column = max(16, *(len(n) + 2 for n in names))
    return "\n".join(r[0].ljust(width) + "".join(_cell(v, column)
                                                  for v in r[1])
                     for r in rows)


def _cell(value, width):
    if isinstance(value, str):
        return value.rjust(width)
    if value is None or math.isnan(value):
        return "n/a".rjust(width)
    return f"{value:{width}.4f}"
