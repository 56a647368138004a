"""DeepLabv3+ configuration: paper defaults, released-code options, presets.

Values are the paper's (Chen et al., ECCV 2018, arXiv:1802.02611) or, where
it is silent, TF1 `research/deeplab` ("ref"); the choices are those of the
spec sheet `specs/deeplabv3plus.md` section 0.
"""

import dataclasses

from seg_common.config import (RecipeConfig, check_choice, check_fraction,
                               check_integer)

BACKBONES = ("xception_65", "xception_71", "resnet_50", "resnet_101",
             "xception_tiny")
RESNET_STEMS = ("beta", "standard")
OUTPUT_STRIDES = (8, 16, 32)
SEPARABLE_ORDERS = ("released", "paper")


@dataclasses.dataclass(frozen=True)
class Config(RecipeConfig):
    """Everything that defines a DeepLabv3+ model and its training recipe.

    Model fields:
        num_classes: output classes (21 VOC, 19 Cityscapes, 150 ADE20K).
        input_shape: (H, W, 3); H and W may be `None`.
        backbone: one of `BACKBONES` (`"xception_tiny"`: not in the paper,
            an Xception-65-shaped network with 8-64 channels for tests).
        resnet_stem: ResNets only: `"beta"` (three 3x3 convs, TF1
            `resnet_v1_*_beta`) or `"standard"` (7x7, the keras.applications
            layout, so `backbone_weights="imagenet"` loads its weights).
        backbone_weights: `None`, `"imagenet"` (ResNets with the standard
            stem, through keras.applications) or the path of a `.weights.h5`
            file of the backbone alone, e.g. an official ImageNet checkpoint
            converted by `tools/convert_tf1_deeplab_checkpoint.py
            --backbone_only` (see `seg_common.backbones.build_resnet`).
            Whole-model weights (the tool without `--backbone_only`) load
            with `model.load_weights`.
        output_stride: 8, 16 or 32; weights are the same for all three.
        atrous_rates: the 3 ASPP rates; `None` follows the output stride
            (6/12/18 at OS16, 12/24/36 at OS8, 3/6/9 at OS32).
        multi_grid: rate multipliers of the last backbone block.
        separable_order: Xception only, `"released"` or `"paper"`.
        decoder: DeepLabv3+ decoder; `False` gives DeepLabv3.
        separable: separable convs in ASPP and decoder (else regular 3x3).
        image_pooling: the image-level (global average pool) ASPP branch.
        aspp_channels, low_level_channels, decoder_channels: 256, 48, 256.
        dropout_rate: after the ASPP projection (ref keep_prob 0.9).
        align_corners: bilinear resizing convention (ref `True`).

    Recipe fields: `seg_common.config.RecipeConfig`.
    """

    # Model.
    num_classes: int = 21                  # PASCAL VOC 2012
    input_shape: tuple = (None, None, 3)
    backbone: str = "xception_65"          # paper's best: modified aligned X-65
    resnet_stem: str = "beta"              # ref: resnet_v1_*_beta
    backbone_weights: str = None           # paper: ImageNet(-COCO) init
    output_stride: int = 16                # paper: train OS16, eval OS8 or 16
    atrous_rates: tuple = None             # paper: 6/12/18 at OS16
    multi_grid: tuple = (1, 1, 1)          # ref Xception default
    separable_order: str = "released"      # project: released checkpoints
    decoder: bool = True                   # paper: decoder at stride 4
    separable: bool = True                 # paper: atrous separable ASPP/decoder
    image_pooling: bool = True             # paper: image-level features
    aspp_channels: int = 256               # paper: 256
    low_level_channels: int = 48           # paper Tab. 1: 48
    decoder_channels: int = 256            # paper Tab. 2: two 3x3 x 256
    dropout_rate: float = 0.1              # ref: keep_prob 0.9
    align_corners: bool = True             # ref: align_corners=True
    # Recipe (PASCAL VOC, the paper's training protocol).
    base_learning_rate: float = 0.007      # paper: 0.007
    weight_decay: float = 4e-5             # ref: 4e-5 Xception, 1e-4 ResNet
    weight_decay_exclude: tuple = (        # ref: L2 on conv weights only
        "depthwise_kernel", "/bias", "/gamma", "/beta")
    lr_multipliers: tuple = (("/bias", 2.0),)  # ref: biases at 2x lr
    crop_size: tuple = (513, 513)          # paper: 513
    min_scale_factor: float = 0.5          # ref: 0.5 - 2.0, step 0.25
    max_scale_factor: float = 2.0
    scale_factor_step: float = 0.25
    # RecipeConfig's defaults are the paper's/ref's for the rest: poly
    # schedule (power 0.9), momentum 0.9, batch 16, 30K steps, 255 ignored,
    # no rotation, left-right flip.

    def __post_init__(self):
        super().__post_init__()
        check_choice("backbone", self.backbone, BACKBONES)
        check_choice("resnet_stem", self.resnet_stem, RESNET_STEMS)
        check_choice("output_stride", self.output_stride, OUTPUT_STRIDES)
        check_choice("separable_order", self.separable_order,
                     SEPARABLE_ORDERS)
        for name in ("aspp_channels", "low_level_channels",
                     "decoder_channels"):
            check_integer(name, getattr(self, name))
        if self.atrous_rates is not None and (
                len(tuple(self.atrous_rates)) != 3
                or not all(isinstance(r, int) and r >= 1
                           for r in self.atrous_rates)):
            raise ValueError("`atrous_rates` must be None or 3 integers >= 1 "
                             f"(e.g. (6, 12, 18)), got {self.atrous_rates!r}.")
        check_fraction("dropout_rate", self.dropout_rate)

    @property
    def rates(self):
        """The ASPP rates in use: `atrous_rates`, or 6/12/18 scaled to the output stride."""
        if self.atrous_rates is not None:
            return tuple(self.atrous_rates)
        return tuple(r * 16 // self.output_stride for r in (6, 12, 18))


_RESNET_RECIPE = dict(weight_decay=1e-4,           # ref: 1e-4 for ResNet
                      multi_grid=(1, 2, 4))        # ref: beta checkpoints

PRESETS = {
    "xception_65_voc": Config(),
    "resnet_101_voc": Config(backbone="resnet_101", **_RESNET_RECIPE),
    "xception_65_cityscapes": Config(
        num_classes=19, crop_size=(769, 769),      # ref g3doc: 769 crops
        train_steps=90_000),                       # ref g3doc: 90K steps
    "xception_71_cityscapes": Config(
        num_classes=19, backbone="xception_71", crop_size=(769, 769),
        train_steps=90_000),
    # The project's ADE20K records hold 150 classes with 255 ignored (the
    # reference trains 151 logits with "other" = 0 ignored).
    "xception_65_ade20k": Config(
        num_classes=150, train_steps=150_000),     # ref g3doc: 150K
    # Trains in seconds on a CPU (not a paper model).
    "tiny": Config(num_classes=3, backbone="xception_tiny", output_stride=16,
                   aspp_channels=64, low_level_channels=16,
                   decoder_channels=256, batch_size=2, crop_size=(33, 33),
                   train_steps=20, base_learning_rate=0.01),
}
