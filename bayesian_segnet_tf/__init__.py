"""bayesian_segnet_tf: SegNet, SegNet-Basic and Bayesian SegNet (MC dropout).

Reference: https://arxiv.org/abs/1511.02680 (Bayesian SegNet),
https://arxiv.org/abs/1511.00561 (SegNet).
"""

from bayesian_segnet_tf.benchmark import benchmark_mc
from bayesian_segnet_tf.bn_statistics import recompute_bn_statistics
from bayesian_segnet_tf.config import PRESETS, Config
from bayesian_segnet_tf.inference import MonteCarloSampler, mc_predict
from bayesian_segnet_tf.loss import build_loss
from bayesian_segnet_tf.model import build_model

__all__ = [
    "Config",
    "MonteCarloSampler",
    "PRESETS",
    "benchmark_mc",
    "build_loss",
    "build_model",
    "mc_predict",
    "recompute_bn_statistics",
]
