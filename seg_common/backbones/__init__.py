"""Feature-extractor backbones: dilated ResNet v1 and modified aligned Xception.

Each builder returns a functional `keras.Model` mapping normalised images to a
dict of features (see each module's docstring for the keys).
"""

from seg_common.backbones.resnet import build_resnet
from seg_common.backbones.xception import build_xception

__all__ = ["build_resnet", "build_xception"]
