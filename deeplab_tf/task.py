"""DeepLabv3+ for Keras `compile()` / `fit()` / `evaluate()`: `build_task`."""

import keras

from deeplab_tf.config import Config
from deeplab_tf.loss import build_loss
from deeplab_tf.model import build_model
from seg_common.training.keras_task import SegmentationTask


@keras.saving.register_keras_serializable(package="deeplab_tf")
class DeepLabTask(SegmentationTask):
    """DeepLabv3+ with its training loss (`SegmentationTask`).

    Outputs: `{"logits": (B, H, W, num_classes)}`.
    """

    config_class = Config
    loss_builder = staticmethod(build_loss)
    model_builder = staticmethod(build_model)


build_task = DeepLabTask.create
