"""The SegNet loss: class-weighted cross-entropy over the non-ignored pixels."""

from collections.abc import Sequence

from bayesian_segnet_tf.config import Config
from seg_common.losses import LossFn, masked_cross_entropy


def build_loss(config: Config,
               class_weights: Sequence[float] | None = None) -> LossFn:
    """Returns the reference `softmax_loss` with `weight_by_label_freqs`.

    `loss = sum_{y != ignore} w[y] * CE / #(y != ignore)`: normalised by the
    count of non-ignored pixels, not by the sum of the weights (as Caffe).

    Args:
        config: a `Config` (`num_classes`, `ignore_label`, `class_weights`).
        class_weights: optional (num_classes,) weights, e.g. from
            `seg_common.losses.median_frequency_weights`; default
            `config.class_weights` (the prototxt table; None = unweighted).

    Returns:
        `loss_fn(labels (B,H,W) int, outputs {"logits": (B,H,W,C)})` ->
        `{"loss": scalar}`.

    Example:
    >>> loss_fn = build_loss(Config())
    >>> loss_fn(labels, model(images))["loss"]

    Reference: https://arxiv.org/abs/1511.02680
    """
    weights = config.class_weights if class_weights is None else class_weights
    if weights is not None and len(weights) != config.num_classes:
        raise ValueError(
            f"`class_weights` must have num_classes={config.num_classes} "
            f"entries, got {len(weights)}.")
    weights = None if weights is None else tuple(float(w) for w in weights)

    def loss_fn(labels, outputs):
        return {"loss": masked_cross_entropy(
            labels, outputs["logits"], ignore_label=config.ignore_label,
            class_weights=weights)}

    return loss_fn
