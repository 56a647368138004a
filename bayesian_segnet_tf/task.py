"""Bayesian SegNet for Keras `compile()` / `fit()` / `evaluate()`: `build_task`."""

import keras

from bayesian_segnet_tf.config import Config
from bayesian_segnet_tf.loss import build_loss
from bayesian_segnet_tf.model import build_model
from seg_common.training.keras_task import SegmentationTask


@keras.saving.register_keras_serializable(package="bayesian_segnet_tf")
class SegNetTask(SegmentationTask):
    """SegNet / Bayesian SegNet with its training loss (`SegmentationTask`),
    class weights `config.class_weights` by default.

    Outputs: `{"logits": (B, H, W, num_classes)}`.
    """

    config_class = Config
    loss_builder = staticmethod(build_loss)
    model_builder = staticmethod(build_model)


build_task = SegNetTask.create
