"""EncNet for Keras `compile()` / `fit()` / `evaluate()`: `build_task`."""

import keras

from encnet_tf.config import Config
from encnet_tf.loss import build_loss
from encnet_tf.model import build_model
from seg_common.config import resolve_config
from seg_common.training.keras_task import SegmentationTask


@keras.saving.register_keras_serializable(package="encnet_tf")
class EncNetTask(SegmentationTask):
    """EncNet with its training loss (see `build_task`)."""

    config_class = Config
    loss_builder = staticmethod(build_loss)


def build_task(config: Config = None, class_weights=None,
               **overrides) -> EncNetTask:
    """EncNet as a Keras task model: `compile()` then `fit(dataset)`.

    `fit` minimises the training loop's loss: `build_loss(config,
    class_weights)` (segmentation CE, SE-loss on each encoding branch,
    auxiliary CE when enabled) plus the config's weight decay
    (`seg_common.training.keras_task.SegmentationTask`); `compile()` without
    arguments uses the config's SGD recipe (schedule, momentum, learning-rate
    multipliers) and reports `mean_iou`.

    Args:
        config: a `Config` (default `Config()`).
        class_weights: optional (num_classes,) pixel cross-entropy weights.
        **overrides: `Config` field names and values.

    Returns:
        A `keras.Model`: float32 RGB 0..255 (B, H, W, 3) -> the network's
        dict: "logits" (B, H, W, num_classes) and, when enabled,
        "se_logits_stage4", "se_logits_stage3" (B, num_classes),
        "aux_logits" (B, H, W, num_classes).

    Example:
    >>> task = build_task(PRESETS["tiny"])
    >>> task.compile()
    >>> task.fit(dataset, epochs=1)   # images (B,H,W,3), labels (B,H,W)
    >>> task.evaluate(val_dataset, return_dict=True)["mean_iou"]
    """
    config = resolve_config(Config, config, overrides)
    return EncNetTask(build_model(config), config, class_weights)
