"""The DeepLabv3+ loss: masked pixel-wise softmax cross-entropy."""

from collections.abc import Sequence

from deeplab_tf.config import Config
from seg_common.losses import LossFn, masked_cross_entropy


def build_loss(config: Config,
               class_weights: Sequence[float] | None = None) -> LossFn:
    """Returns `loss_fn(labels, outputs) -> {"loss": scalar}`.

    The logits are already at the label resolution (the model upsamples them,
    ref `upsample_logits=True`); the sum of `w[y] * CE` over non-ignored
    pixels is divided by the number of non-ignored pixels (ref semantics).

    Args:
        config: the model's `Config` (reads `ignore_label`).
        class_weights: optional per-class weights (ref `label_weights`).

    Returns:
        `loss_fn(labels int32 (B, H, W), outputs dict) -> {"loss": scalar}`.

    Example:
    >>> loss = build_loss(Config())(labels, model(images))["loss"]
    """
    def loss_fn(labels, outputs):
        return {"loss": masked_cross_entropy(
            labels, outputs["logits"], ignore_label=config.ignore_label,
            class_weights=class_weights)}
    return loss_fn
