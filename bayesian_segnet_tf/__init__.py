"""bayesian_segnet_tf: SegNet, SegNet-Basic and Bayesian SegNet (MC dropout).

Reference: https://arxiv.org/abs/1511.02680 (Bayesian SegNet),
https://arxiv.org/abs/1511.00561 (SegNet).
"""

from bayesian_segnet_tf.config import PRESETS, Config
from bayesian_segnet_tf.inference import MonteCarloSampler, mc_predict
from bayesian_segnet_tf.loss import build_loss
from bayesian_segnet_tf.model import build_model
from bayesian_segnet_tf.task import build_task
# The paper's compute_bn_statistics step, shared with the training loop.
from seg_common.training.bn_statistics import recompute_bn_statistics

__all__ = [
    "Config",
    "MonteCarloSampler",
    "PRESETS",
    "build_loss",
    "build_model",
    "build_task",
    "mc_predict",
    "recompute_bn_statistics",
]
