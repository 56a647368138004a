"""EncNet configuration: paper defaults, reference-code options, presets.

Values are the paper's (Zhang et al., CVPR 2018, arXiv:1803.08904) unless a
comment says "ref" (PyTorch-Encoding, HEAD) or "project" (a project choice of
the spec sheet `specs/encnet.md`, section 0).
"""

import dataclasses

from seg_common.config import (RecipeConfig, check_choice, check_fraction,
                               check_integer)

BACKBONES = ("resnet_50", "resnet_101", "tiny")
AGGREGATIONS = ("sum", "mean")
ATTENTIONS = ("scale", "residual")


@dataclasses.dataclass(frozen=True)
class Config(RecipeConfig):
    """Everything that defines an EncNet model and its training recipe.

    Model fields:
        num_classes: output classes (59 PASCAL-Context, 150 ADE20K, 21 VOC).
        input_shape: (H, W, 3); H and W may be `None`.
        backbone: "resnet_50" / "resnet_101" (dilated deep-stem ResNet-50s /
            101s at output stride 8) or "tiny" (a few ConvBNAct layers with
            the same c2/c3/c4 strides and dilations, for CPU tests and demos).
        backbone_weights: `None` (random init) or the path of a
            `.weights.h5` file of `seg_common.backbones.build_resnet(style="s")`
            (ImageNet weights exist only as PyTorch checkpoints).
        head_channels: width of conv5, the Encoding input and the stage-3
            branch (512).
        encoding: the Context Encoding Module on stage 4; `False` with
            `se_loss=False, stage3_encoding=False` is the FCN baseline.
        num_codes: K, codewords per Encoding layer (32).
        aggregation: "sum" over the K encoders (paper) or "mean" (ref HEAD).
        attention: "scale" `Y = X * gamma` (paper) or "residual"
            `Y = relu(X + X * gamma)` (ref HEAD).
        encoding_projection: 1x1 conv + BN + ReLU before the Encoding layer
            (ref since v0.4.3).
        lateral: fuse c2 and c3 into the head (ref, PASCAL datasets).
        se_loss: Semantic Encoding loss head on the stage-4 encoded vector.
        stage3_encoding: a second Context Encoding Module with its own SE
            head on stage 3 (paper); needs `se_loss`.
        aux_head: the reference FCN auxiliary head on c3.
        aux_channels: its width (256).
        dropout_rate: element-wise dropout before the classifier (0.1).
        bn_momentum, bn_epsilon: batch norm of the head and backbone (PyTorch
            momentum 0.1, eps 1e-5).
        align_corners: bilinear upsampling of the logits with
            `align_corners=True` (ref) or half-pixel centres.
        se_loss_weight, aux_weight: loss weights (0.2 each, ref scripts).

    Recipe fields: `seg_common.config.RecipeConfig`.
    """

    # Model.
    num_classes: int = 59                  # PASCAL-Context, background ignored
    input_shape: tuple = (None, None, 3)
    backbone: str = "resnet_50"            # paper: ResNet-50 / ResNet-101
    backbone_weights: str | None = None    # a converted resnet50s .weights.h5
    head_channels: int = 512               # paper/ref: conv5 2048 -> 512
    encoding: bool = True                  # paper: Context Encoding Module
    num_codes: int = 32                    # paper: K = 32
    aggregation: str = "sum"               # paper: sum over K; ref HEAD: mean
    attention: str = "scale"               # paper: X * gamma; ref: residual
    encoding_projection: bool = False      # ref (v0.4.3+): True
    lateral: bool = False                  # ref: True for PASCAL datasets
    se_loss: bool = True                   # paper: SE-loss
    stage3_encoding: bool = True           # paper: 2nd module + SE on stage 3
    aux_head: bool = False                 # ref: FCN aux head on c3
    aux_channels: int = 256                # ref: 1024 // 4
    dropout_rate: float = 0.1              # ref HEAD: element-wise 0.1
    bn_momentum: float = 0.9               # PyTorch momentum 0.1
    bn_epsilon: float = 1e-5               # PyTorch default
    align_corners: bool = True             # ref: F.interpolate align_corners
    se_loss_weight: float = 0.2            # ref: 0.2 (stage 3 too: project)
    aux_weight: float = 0.2                # ref scripts: 0.2 (loss class 0.4)
    # Recipe (PASCAL-Context, the paper's implementation details).
    base_learning_rate: float = 0.001      # paper PContext: 0.001
    crop_size: tuple = (480, 480)          # paper: 480
    train_steps: int = 15_600              # paper: 50 epochs x 4998 // 16
    min_scale_factor: float = 0.5          # paper: 0.5 - 2.0, uniform
    max_scale_factor: float = 2.0
    max_rotation_degrees: float = 10.0     # paper: +-10 deg
    # RecipeConfig's defaults are the paper's/ref's for the rest: poly
    # schedule (power 0.9), SGD momentum 0.9, coupled L2 1e-4 on every
    # variable, batch 16, 255 ignored, left-right flip.

    def __post_init__(self):
        super().__post_init__()
        check_choice("backbone", self.backbone, BACKBONES)
        check_choice("aggregation", self.aggregation, AGGREGATIONS)
        check_choice("attention", self.attention, ATTENTIONS)
        for name in ("num_codes", "head_channels", "aux_channels"):
            check_integer(name, getattr(self, name))
        check_fraction("dropout_rate", self.dropout_rate)
        if self.se_loss and not self.encoding:
            raise ValueError(
                "`se_loss=True` needs `encoding=True` (the SE head reads the "
                "encoded vector); got encoding=False.")
        if self.stage3_encoding and not self.se_loss:
            raise ValueError(
                "`stage3_encoding=True` needs `se_loss=True` (the stage-3 "
                "module only feeds its SE head); got se_loss=False.")


def _replace(config, **overrides):
    return dataclasses.replace(config, **overrides)


_PAPER = Config()
# Reference code (HEAD) head: projection, mean, residual attention, FCN aux
# head instead of the stage-3 module, 10x head learning rate.
_REFERENCE_HEAD = dict(
    encoding_projection=True, aggregation="mean", attention="residual",
    stage3_encoding=False, aux_head=True, lr_multipliers=(("head", 10.0),))
# FCN baseline of the paper's ablation: dilated ResNet + FCN head.
_FCN = dict(encoding=False, se_loss=False, stage3_encoding=False)

PRESETS = {
    "pascal_context": _PAPER,
    "pascal_context_reference": _replace(
        _PAPER, lateral=True, train_steps=24_960,   # ref: 80 epochs
        **_REFERENCE_HEAD),
    "ade20k": _replace(
        _PAPER, num_classes=150, base_learning_rate=0.01,  # paper: 0.01
        train_steps=151_560),                      # paper: 120 x 20210 // 16
    "ade20k_reference": _replace(
        _PAPER, num_classes=150, base_learning_rate=0.004,  # ref train.py
        train_steps=227_340, **_REFERENCE_HEAD),   # ref: 180 epochs
    # VOC: the reference trains on VOC aug (10,582) for 80 epochs at 0.001,
    # then fine-tunes on VOC train (1,464) for 50 epochs at 0.0001.
    "voc": _replace(_PAPER, num_classes=21, train_steps=52_880),
    "voc_finetune": _replace(
        _PAPER, num_classes=21, base_learning_rate=0.0001, train_steps=4_550),
    "fcn_pascal_context": _replace(_PAPER, **_FCN),
    "fcn_ade20k": _replace(
        _PAPER, num_classes=150, base_learning_rate=0.01, train_steps=151_560,
        **_FCN),
    # Trains in seconds on CPU: stand-in backbone, narrow head, small crops.
    "tiny": _replace(
        _PAPER, num_classes=5, backbone="tiny", head_channels=32, num_codes=8,
        aux_channels=16, batch_size=2, crop_size=(64, 64), train_steps=20,
        base_learning_rate=0.01),
}
