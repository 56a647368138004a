"""EncNet for Keras `compile()` / `fit()` / `evaluate()`: `build_task`."""

import keras

from encnet_tf.config import Config
from encnet_tf.loss import build_loss
from encnet_tf.model import build_model
from seg_common.training.keras_task import SegmentationTask


@keras.saving.register_keras_serializable(package="encnet_tf")
class EncNetTask(SegmentationTask):
    """EncNet with its training loss (`SegmentationTask`): segmentation CE,
    SE-loss on each encoding branch, auxiliary CE when enabled.

    Outputs: "logits" (B, H, W, num_classes) and, when enabled,
    "se_logits_stage4", "se_logits_stage3" (B, num_classes), "aux_logits"
    (B, H, W, num_classes).
    """

    config_class = Config
    loss_builder = staticmethod(build_loss)
    model_builder = staticmethod(build_model)


build_task = EncNetTask.create
