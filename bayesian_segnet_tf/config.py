"""Configuration of SegNet, SegNet-Basic and their Bayesian (MC dropout) variants.

Defaults are the reference values: `alexgkendall/SegNet-Tutorial`
`Models/bayesian_segnet_{train,solver}.prototxt`.

Reference: https://arxiv.org/abs/1511.02680
"""

import dataclasses

from seg_common.config import (RecipeConfig, check_choice, check_fraction,
                               check_integer)
from seg_common.data.class_weights import PRESETS as WEIGHT_PRESETS

ARCHS = ("segnet", "segnet_basic")
DROPOUT_VARIANTS = ("none", "encoder", "decoder", "encoder_decoder", "center",
                    "central", "classifier", "before_pooling")

# CamVid class weights of the reference prototxt, ids 0 = Sky .. 10 = Bicyclist.
PROTOTXT_CLASS_WEIGHTS = WEIGHT_PRESETS["camvid_segnet_tutorial"]


@dataclasses.dataclass(frozen=True)
class Config(RecipeConfig):
    """SegNet / Bayesian SegNet model and training recipe.

    Args (model):
        num_classes: output classes (CamVid: 11, void ignored).
        input_shape: (H, W, 3); any size works (ceil-mode pooling, 45 -> 23).
        arch: "segnet" (VGG16 encoder, 13 + 13 convs) or "segnet_basic".
        separate_classifier: SegNet only. False: `conv1_1_D` is the 3x3
            classifier (`Models/`); True: `conv1_1_D` is a 64-channel conv +
            BN + ReLU followed by a separate 3x3 conv `classifier`
            (`Example_Models/bayesian_segnet_camvid.prototxt`).
        dropout: placement of the MC dropout layers, one of
            `DROPOUT_VARIANTS` ("central" = the paper's choice).
        dropout_rate: element-wise drop probability.
        width_multiplier: scales every hidden channel count (1.0 = paper).
        encoder_weights: None, "imagenet" or a path of
            `keras.applications.VGG16` weights (arch "segnet" only).
        bn_epsilon, bn_beta_init: Caffe-SegNet batch-norm settings (the BN
            shift's `shift_filler`).
        num_samples: Monte Carlo samples at test time.
    Recipe fields: `seg_common.config.RecipeConfig`.
    """

    num_classes: int = 11  # CamVid
    input_shape: tuple = (None, None, 3)
    arch: str = "segnet"  # Bayesian SegNet (paper Table 2)
    separate_classifier: bool = False  # Models/: conv1_1_D is the classifier
    dropout: str = "central"  # paper: central encoder-decoder
    dropout_rate: float = 0.5  # paper: p = 0.5
    width_multiplier: float = 1.0  # paper: VGG16 widths / 64 channels
    encoder_weights: str | None = None  # paper: "imagenet" (needs a download)
    bn_epsilon: float = 1e-9  # Caffe-SegNet bn layer
    bn_beta_init: float = 0.0  # train prototxt: shift_filler 0 (Basic: 0.001)
    num_samples: int = 50  # paper: T = 50
    class_weights: tuple | None = PROTOTXT_CLASS_WEIGHTS  # prototxt table
    # Recipe: Models/bayesian_segnet_solver.prototxt.
    base_learning_rate: float = 0.001  # solver: base_lr 0.001
    lr_schedule: str = "constant"  # solver: lr_policy "fixed"
    weight_decay: float = 5e-4  # solver: weight_decay 5e-4 (coupled L2)
    # prototxt: decay_mult 0 on biases and on the BN shifts (Basic: biases)
    weight_decay_exclude: tuple = ("bias", "beta")
    lr_multipliers: tuple = (("bias", 2.0),)  # prototxt: lr_mult 2 on biases
    batch_size: int = 4  # train prototxt: batch_size 4
    crop_size: tuple = (360, 480)  # full CamVid frames, no crop
    train_steps: int = 60000  # solver: max_iter 60000
    flip: bool = False  # reference: mirror never enabled
    # RecipeConfig's defaults for the rest: momentum 0.9 (solver), void
    # (11 in the reference) -> 255 ignored, no scaling or rotation.

    def __post_init__(self):
        super().__post_init__()
        check_choice("arch", self.arch, ARCHS)
        check_choice("dropout", self.dropout, DROPOUT_VARIANTS)
        check_fraction("dropout_rate", self.dropout_rate)
        if not self.width_multiplier > 0:
            raise ValueError(f"`width_multiplier` must be > 0, got "
                             f"{self.width_multiplier!r}.")
        if self.separate_classifier and self.arch != "segnet":
            raise ValueError("`separate_classifier` needs arch='segnet'.")
        if self.encoder_weights is not None and (
                self.arch != "segnet" or self.width_multiplier != 1.0):
            raise ValueError(
                "`encoder_weights` needs arch='segnet' and "
                "width_multiplier=1.0.")
        check_integer("num_samples", self.num_samples, least=0)


def dropout_units(variant, depth):
    """Which encoder and decoder units are followed by MC dropout.

    Unit i of the encoder ends with pool i; unit i of the decoder ends with
    its last BN/ReLU before unpool i-1 (unit 1: before the classifier).

    Args:
        variant: one of `DROPOUT_VARIANTS` (paper Table 1).
        depth: number of encoder units (SegNet 5, SegNet-Basic 4).

    Returns:
        (encoder_units, decoder_units): two frozensets of unit numbers.
    """
    check_choice("dropout", variant, DROPOUT_VARIANTS)
    units = frozenset(range(1, depth + 1))
    central = frozenset(range(3, depth + 1))  # Basic: 3,4; SegNet: 3,4,5
    table = {
        "none": (frozenset(), frozenset()),
        "encoder": (units, frozenset()),
        "decoder": (frozenset(), units),
        "encoder_decoder": (units, units),
        "central": (central, central),
        "center": (frozenset({depth}), frozenset({depth})),
        "classifier": (frozenset(), frozenset({1})),
    }
    if variant not in table:
        raise ValueError(f"dropout={variant!r} also drops before pooling: "
                         "use `dropout_positions`.")
    return table[variant]


def dropout_positions(variant, depth):
    """Where the MC dropout layers of a variant sit.

    "before_pooling" is the placement of the released PASCAL VOC models
    (`Example_Models/*segnet_pascal.prototxt`): dropout on the input of
    every pooling (`pool{u}_drop`) and every unpooling (`upsample{u}_drop`),
    i.e. before each encoder pooling, after pool `depth` and after decoder
    units `depth`..2. The others follow `dropout_units`.

    Args:
        variant: one of `DROPOUT_VARIANTS`.
        depth: number of encoder units (SegNet 5, SegNet-Basic 4).

    Returns:
        frozenset of (position, unit): "pre_pool" (the input of pool `unit`),
        "post_pool" (the output of pool `unit`) or "decoder" (the output of
        decoder unit `unit`, before unpool `unit`-1 or the classifier).
    """
    if variant == "before_pooling":
        return frozenset(
            {("pre_pool", u) for u in range(1, depth + 1)}
            | {("post_pool", depth)}
            | {("decoder", u) for u in range(2, depth + 1)})
    encoder, decoder = dropout_units(variant, depth)
    return frozenset({("post_pool", u) for u in encoder}
                     | {("decoder", u) for u in decoder})


_DROPOUT_NAMES = {"pre_pool": "pool{}_drop", "post_pool": "encdrop{}",
                  "decoder": "decdrop{}"}


def dropout_layer_name(position, unit):
    """The Keras name of the dropout at (`position`, `unit`) of
    `dropout_positions`, e.g. ("post_pool", 3) -> "encdrop3"."""
    return _DROPOUT_NAMES[position].format(unit)


# SegNet-Basic's train prototxts: shift_filler 0.001, no decay_mult on BN.
_BASIC_BN = {"bn_beta_init": 0.001, "weight_decay_exclude": ("bias",)}

PRESETS = {
    # Bayesian SegNet on CamVid (Models/bayesian_segnet_*.prototxt).
    "segnet": Config(),
    # Bayesian SegNet-Basic (Models/bayesian_segnet_basic_solver.prototxt).
    # BN shifts start at 0.001 and decay (segnet_basic_train.prototxt).
    "segnet_basic": Config(arch="segnet_basic", base_learning_rate=0.1,
                           train_steps=10000, **_BASIC_BN),
    # 32-channel SegNet-Basic for tests and the quick start (seconds on CPU).
    "tiny": Config(arch="segnet_basic", width_multiplier=0.5,
                   base_learning_rate=0.1, batch_size=2, crop_size=(45, 60),
                   train_steps=20, num_samples=8, class_weights=None,
                   **_BASIC_BN),
}
