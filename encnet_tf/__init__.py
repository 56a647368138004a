"""encnet_tf: EncNet (Context Encoding Network) for semantic segmentation.

Public names: `Config`, `PRESETS`, `build_model`, `build_loss`, `build_task`
(the model contract of docs/API.md), and the CIFAR-10 classifier of the paper's
section 3.5: `CifarConfig`, `CIFAR_PRESETS`, `build_cifar_model`,
`build_cifar_loss`.

Reference: https://arxiv.org/abs/1803.08904
"""

from encnet_tf.cifar import (
    CIFAR_PRESETS, CifarConfig, build_cifar_loss, build_cifar_model)
from encnet_tf.config import PRESETS, Config
from encnet_tf.loss import build_loss
from encnet_tf.model import build_model
from encnet_tf.task import build_task

__all__ = [
    "CIFAR_PRESETS", "CifarConfig", "Config", "PRESETS", "build_cifar_loss",
    "build_cifar_model", "build_loss", "build_model", "build_task"]
