"""Registered Keras 3 layers shared by the three model packages.

Every layer here round-trips through `.keras` files with `safe_mode=True`.
"""

from seg_common.layers.atrous_separable_conv import AtrousSeparableConv2D
from seg_common.layers.batch_norm import batch_norm
from seg_common.layers.conv_bn_act import ConvBNAct
from seg_common.layers.encoding import Encoding
from seg_common.layers.mc_dropout import MCDropout, set_mc_sampling
from seg_common.layers.normalization import InputNormalization
from seg_common.layers.pooling import MaxPoolWithArgmax2D, MaxUnpool2D
from seg_common.layers.resize import BilinearResize, resize_bilinear

__all__ = [
    "AtrousSeparableConv2D",
    "BilinearResize",
    "ConvBNAct",
    "Encoding",
    "InputNormalization",
    "MCDropout",
    "MaxPoolWithArgmax2D",
    "MaxUnpool2D",
    "batch_norm",
    "resize_bilinear",
    "set_mc_sampling",
]
