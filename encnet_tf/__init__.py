"""encnet_tf: EncNet (Context Encoding Network) for semantic segmentation.

Public names: `Config`, `PRESETS`, `build_model`, `build_loss`, and the
CIFAR-10 classifier of the paper's section 3.5: `build_cifar_model`.

Reference: https://arxiv.org/abs/1803.08904
"""

from encnet_tf.config import PRESETS, Config
from encnet_tf.loss import build_loss
from encnet_tf.model import build_model

__all__ = ["Config", "PRESETS", "build_loss", "build_model"]
