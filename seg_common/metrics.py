"""Streaming segmentation metrics (NumPy accumulators, fed batch by batch).

Conventions (stated once, used everywhere):

- One confusion matrix is accumulated over the whole split; rows are the
  ground truth, columns the prediction; pixels whose label is `ignore_label`
  (or outside [0, C)) are skipped. Scores are computed from the dataset-level
  counts, never averaged per batch or per image.
- `IoU_c = TP / (TP + FP + FN)`; a class with a zero denominator (absent from
  both the ground truth and the predictions) has IoU NaN and is left out of
  `mean_iou` (the `tf.metrics.mean_iou` / DeepLab semantics). A class absent
  from the ground truth but predicted somewhere has IoU 0 and counts.
  `mean_iou_all_classes` is EncNet's variant: the mean over all C classes
  with NaN counted as 0.
- `class_accuracy` is the mean per-class recall over classes present in the
  ground truth (SegNet's "C"; equal to its fixed divisor when all are present).
"""

import cv2
import numpy as np


def _flat_valid(labels, predictions, num_classes, ignore_label):
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    predictions = np.asarray(predictions).reshape(-1).astype(np.int64)
    if labels.shape != predictions.shape:
        raise ValueError(
            f"labels and predictions differ in size: {labels.shape} vs "
            f"{predictions.shape}")
    valid = (labels != ignore_label) & (labels >= 0) & (labels < num_classes)
    return labels[valid], predictions[valid], valid


class ConfusionMatrix:
    """Streaming confusion matrix with the papers' scores.

    Args:
        num_classes: number of classes C.
        ignore_label: ground-truth value that is not evaluated.

    Example:
        >>> cm = ConfusionMatrix(3)
        >>> cm.update(labels, predictions)   # any shapes, equal size
        >>> cm.result()["mean_iou"]
    """

    def __init__(self, num_classes, ignore_label=255):
        self.num_classes = num_classes
        self.ignore_label = ignore_label
        self.matrix = np.zeros((num_classes, num_classes), np.int64)

    def update(self, labels, predictions):
        """Adds a batch.

        Args:
            labels: int array-like of any shape (e.g. (B, H, W)).
            predictions: int array-like of the same size, values in [0, C).
        """
        labels, predictions, _ = _flat_valid(
            labels, predictions, self.num_classes, self.ignore_label)
        if predictions.size and (predictions.min() < 0 or
                                 predictions.max() >= self.num_classes):
            raise ValueError("predictions must lie in [0, num_classes).")
        index = labels * self.num_classes + predictions
        self.matrix += np.bincount(
            index, minlength=self.num_classes**2).reshape(self.matrix.shape)

    def result(self):
        """Returns the scores as plain Python values.

        Returns:
            dict with `global_accuracy`, `class_accuracy`, `mean_iou`,
            `mean_iou_all_classes`, `frequency_weighted_iou` (floats; NaN
            when nothing was evaluated), `per_class_iou` and
            `per_class_accuracy` (lists of C floats, NaN where undefined).
        """
        cm = self.matrix.astype(np.float64)
        tp = np.diag(cm)
        gt = cm.sum(axis=1)
        pred = cm.sum(axis=0)
        union = gt + pred - tp
        with np.errstate(invalid="ignore", divide="ignore"):
            iou = np.where(union > 0, tp / union, np.nan)
            recall = np.where(gt > 0, tp / gt, np.nan)
        total = cm.sum()
        present = gt > 0
        return {
            "global_accuracy": _ratio(tp.sum(), total),
            "class_accuracy": _nanmean(recall),
            "mean_iou": _nanmean(iou),
            "mean_iou_all_classes": float(np.nan_to_num(iou).mean()),
            "frequency_weighted_iou": _ratio(
                (gt[present] * iou[present]).sum(), total),
            "per_class_iou": iou.tolist(),
            "per_class_accuracy": recall.tolist(),
        }


def _ratio(num, den):
    return float(num / den) if den > 0 else float("nan")


def _nanmean(values):
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float("nan")


def trimap_labels(labels, width, ignore_label=255):
    """Keeps only the labels inside a band around label boundaries.

    The DeepLabv3+ paper's trimap evaluation (Fig. 5): mIoU restricted to
    pixels within `width` pixels (Chebyshev distance) of a boundary, where a
    boundary pixel has a different label (ignore included) in its 3x3
    neighbourhood.

    Args:
        labels: int array (B, H, W) or (H, W).
        width: band half-width in pixels (>= 0).
        ignore_label: value written outside the band.

    Returns:
        Array like `labels` with pixels outside the band set to
        `ignore_label`.
    """
    labels = np.asarray(labels)
    batch = labels.reshape((-1,) + labels.shape[-2:]).astype(np.float32)
    square3 = np.ones((3, 3), np.uint8)
    band_kernel = np.ones((2 * width + 1, 2 * width + 1), np.uint8)
    out = np.full(batch.shape, ignore_label, labels.dtype)
    for i, image in enumerate(batch):
        boundary = cv2.dilate(image, square3) != cv2.erode(image, square3)
        band = cv2.dilate(boundary.astype(np.uint8), band_kernel) > 0
        out[i][band] = image[band]
    return out.reshape(labels.shape)


class UncertaintyMetrics:
    """Streaming quality measures of probabilities and an uncertainty map.

    - `auroc_misclassification`: area under the ROC curve of the uncertainty
      used as a score to detect misclassified pixels (1 = perfect ranking,
      0.5 = chance). Computed from a histogram of `auroc_bins` bins over
      [0, max_uncertainty] (values above are clipped), so ties within a bin
      count one half.
    - `expected_calibration_error`: sum over `num_bins` equal-width
      confidence bins of `n_b / N * |accuracy_b - confidence_b|`, confidence
      being the top-class probability.
    - `reliability`: the per-bin counts, accuracies and confidences of the
      reliability diagram.

    Args:
        num_classes: number of classes C.
        ignore_label: ground-truth value that is not evaluated.
        num_bins: calibration bins.
        max_uncertainty: upper end of the uncertainty histogram.
        auroc_bins: histogram resolution for the AUROC.
    """

    def __init__(self, num_classes, ignore_label=255, num_bins=15,
                 max_uncertainty=1.0, auroc_bins=4096):
        self.num_classes = num_classes
        self.ignore_label = ignore_label
        self.num_bins = num_bins
        self.max_uncertainty = max_uncertainty
        self.auroc_bins = auroc_bins
        self.bin_count = np.zeros(num_bins, np.int64)
        self.bin_correct = np.zeros(num_bins, np.int64)
        self.bin_confidence = np.zeros(num_bins, np.float64)
        self.hist_wrong = np.zeros(auroc_bins, np.int64)
        self.hist_right = np.zeros(auroc_bins, np.int64)

    def update(self, labels, probabilities, uncertainty):
        """Adds a batch.

        Args:
            labels: int array (B, H, W).
            probabilities: float array (B, H, W, C).
            uncertainty: float array (B, H, W), higher = less certain.
        """
        probabilities = np.asarray(probabilities, np.float64)
        probabilities = probabilities.reshape(-1, probabilities.shape[-1])
        predictions = probabilities.argmax(-1)
        labels, predictions, valid = _flat_valid(
            labels, predictions, self.num_classes, self.ignore_label)
        correct = labels == predictions
        confidence = probabilities.max(-1)[valid]
        conf_bin = np.minimum((confidence * self.num_bins).astype(np.int64),
                              self.num_bins - 1)
        self.bin_count += np.bincount(conf_bin, minlength=self.num_bins)
        self.bin_correct += np.bincount(
            conf_bin, weights=correct, minlength=self.num_bins).astype(np.int64)
        self.bin_confidence += np.bincount(
            conf_bin, weights=confidence, minlength=self.num_bins)
        scores = np.asarray(uncertainty, np.float64).reshape(-1)[valid]
        score_bin = np.clip(
            (scores / self.max_uncertainty * self.auroc_bins).astype(np.int64),
            0, self.auroc_bins - 1)
        self.hist_wrong += np.bincount(
            score_bin[~correct], minlength=self.auroc_bins)
        self.hist_right += np.bincount(
            score_bin[correct], minlength=self.auroc_bins)

    def result(self):
        """Returns a dict of plain Python values (NaN where undefined)."""
        count = self.bin_count.astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            accuracy = np.where(count > 0, self.bin_correct / count, np.nan)
            confidence = np.where(count > 0, self.bin_confidence / count,
                                  np.nan)
        gap = np.nan_to_num(np.abs(accuracy - confidence))
        edges = np.linspace(0.0, 1.0, self.num_bins + 1)
        return {
            "auroc_misclassification": self._auroc(),
            "expected_calibration_error": _ratio((count * gap).sum(),
                                                 count.sum()),
            "reliability": {
                "bin_lower": edges[:-1].tolist(),
                "bin_upper": edges[1:].tolist(),
                "count": self.bin_count.tolist(),
                "accuracy": accuracy.tolist(),
                "confidence": confidence.tolist(),
            },
        }

    def _auroc(self):
        wrong = self.hist_wrong.astype(np.float64)
        right = self.hist_right.astype(np.float64)
        if wrong.sum() == 0 or right.sum() == 0:
            return float("nan")
        right_below = np.cumsum(right) - right
        pairs = (wrong * (right_below + 0.5 * right)).sum()
        return float(pairs / (wrong.sum() * right.sum()))
