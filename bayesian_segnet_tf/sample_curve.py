"""Accuracy against the number of MC dropout samples (Bayesian SegNet Fig. 3).

One run of T_max samples per image gives every point of the curve: for a
sample count T the T_max samples are cut into `T_max // T` disjoint groups
of T consecutive draws, each group is one independent T-sample prediction
(its mean softmax), and each group index has its own confusion matrix over
the whole split. So T = 1 gets T_max draws, T = T_max one, and the spread
over draws shows how much a small T varies. Weight averaging (one pass with
dropout off) is the flat reference line.

Example:
>>> curve = SampleCurve(num_classes=11, num_samples=50)
>>> curve.update(labels, sampler.sample_probabilities(image))  # per image
>>> curve.result()[10]["mean_iou"]["mean"]

Reference: https://arxiv.org/abs/1511.02680 (Fig. 3)
"""

import numpy as np

from seg_common.metrics import ConfusionMatrix

SAMPLE_COUNTS = (1, 2, 5, 10, 20, 50)   # the paper's Fig. 3 abscissae
SCORES = ("global_accuracy", "class_accuracy", "mean_iou")


def sample_groups(num_samples, counts=SAMPLE_COUNTS):
    """The disjoint draw groups of each sample count.

    Args:
        num_samples: T_max, samples drawn per image.
        counts: sample counts T (those above T_max are dropped; T_max
            itself is always included: its one draw is the full MC
            prediction).

    Returns:
        dict T -> list of (start, stop) index ranges, `T_max // T` of them.
    """
    counts = sorted({t for t in counts if 1 <= t <= num_samples}
                    | {num_samples})
    return {t: [(g * t, (g + 1) * t) for g in range(num_samples // t)]
            for t in counts}


class SampleCurve:
    """Streaming confusion matrices per (sample count, draw).

    Args:
        num_classes: C.
        num_samples: T_max, samples per image passed to `update`.
        ignore_label: label excluded from the scores.
        counts: the sample counts T of the curve.
    """

    def __init__(self, num_classes, num_samples, ignore_label=255,
                 counts=SAMPLE_COUNTS):
        self.num_samples = num_samples
        self.groups = sample_groups(num_samples, counts)
        self.matrices = {
            t: [ConfusionMatrix(num_classes, ignore_label) for _ in ranges]
            for t, ranges in self.groups.items()}

    def update(self, labels, sample_probabilities):
        """Adds one image.

        Args:
            labels: int array (H, W) (or (1, H, W)).
            sample_probabilities: float (T_max, H, W, C), the softmax of
                each sample in draw order.
        """
        probs = np.asarray(sample_probabilities)
        if probs.shape[0] != self.num_samples:
            raise ValueError(f"expected {self.num_samples} samples, got "
                             f"{probs.shape[0]}.")
        for t, ranges in self.groups.items():
            for matrix, (start, stop) in zip(self.matrices[t], ranges):
                predictions = probs[start:stop].mean(0).argmax(-1)  # [H, W]
                matrix.update(np.reshape(labels, predictions.shape),
                              predictions)

    def result(self):
        """dict T -> score name -> {"mean", "min", "max", "std", "draws"}
        over the draws of T (`SCORES`)."""
        out = {}
        for t, matrices in self.matrices.items():
            scores = [m.result() for m in matrices]
            out[t] = {name: _summary([s[name] for s in scores])
                      for name in SCORES}
        return out


def _summary(values):
    values = np.asarray(values, np.float64)
    return {"mean": float(values.mean()), "min": float(values.min()),
            "max": float(values.max()), "std": float(values.std()),
            "draws": len(values)}
