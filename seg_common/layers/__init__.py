"""Registered Keras 3 layers shared by the three model packages.

Every layer here round-trips through `.keras` files with `safe_mode=True`.
"""

from seg_common.layers.atrous_separable_conv import AtrousSeparableConv2D
from seg_common.layers.batch_norm import batch_norm
from seg_common.layers.conv_bn_act import ConvBNAct
from seg_common.layers.encoding import Encoding
from seg_common.layers.mc_dropout import MCDropout, set_mc_sampling
from seg_common.layers.pooling import MaxPoolWithArgmax2D, MaxUnpool2D

__all__ = [
    "AtrousSeparableConv2D",
    "ConvBNAct",
    "Encoding",
    "MCDropout",
    "MaxPoolWithArgmax2D",
    "MaxUnpool2D",
    "batch_norm",
    "set_mc_sampling",
]
