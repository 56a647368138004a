"""DeepLabv3+: atrous separable convolution, ASPP and a decoder (Chen et al., ECCV 2018).

Public names: `Config`, `PRESETS`, `build_model`, `build_loss`, `build_task`
(Keras `compile()` / `fit()`).

Reference: https://arxiv.org/abs/1802.02611
"""

from deeplab_tf.config import PRESETS, Config
from deeplab_tf.loss import build_loss
from deeplab_tf.model import build_model
from deeplab_tf.task import build_task

__all__ = ["Config", "PRESETS", "build_loss", "build_model", "build_task"]
