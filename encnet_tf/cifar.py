"""EncNet for CIFAR-10 classification (paper section 3.5, Table 6).

Reading of the paper's section 3.5 (the reference code of this experiment
lived in PyTorch-Encoding v0.5.0 `experiments/recognition/`; it is not part
of the spec sheet's tables):

- Network: a 14-layer pre-activation ResNet (He et al., 2016, "identity
  mappings") of basic blocks: a 3x3 stem conv with d channels, three stages
  of two basic blocks with d, 2d, 4d channels (stride 2 at the first block
  of stages 2 and 3), then BN, ReLU, global average pooling and a 10-way FC:
  1 + 3 x 2 x 2 + 1 = 14 weighted layers.
- Context Encoding Module on every basic block, SE-Net style on the
  residual branch: 1x1 conv reducing the C channels by 4 + BN + ReLU ->
  Encoding with K codewords -> **concatenation + L2 normalisation**: the K
  encoders (K, C/4) are concatenated into one K*C/4 vector and divided by
  its L2 norm (instead of the BN + ReLU + sum of the segmentation head) ->
  FC K*C/4 -> C + sigmoid = gamma, which scales the residual branch before
  the identity is added.
- **Smoothing-factor regularisation**: the smoothing factors of every
  Encoding layer are not learned; they are drawn uniformly (code
  convention: U(-1, 0)) at each training step and fixed to the middle of the
  range (-0.5) at evaluation (`layers.SmoothingDropEncoding`).
- Variants "{K}k{d}d": 16k64d (paper: 3.5 M parameters, 3.96 % error) and
  32k128d (16.8 M, 3.45 %).

Reference: https://arxiv.org/abs/1803.08904
"""

import dataclasses
from collections.abc import Sequence

import keras
import tensorflow as tf

from seg_common.layers import batch_norm
from seg_common.layers.padding import fixed_padding
from seg_common.losses import LossFn

from seg_common.config import (RecipeConfig, check_choice, check_integer,
                               resolve_config)
from encnet_tf.layers import (FeaturemapAttention, SmoothingDropEncoding,
                              standardization)

# variant -> (num_codes K, width d of the first stage)
CIFAR_VARIANTS = {"16k64d": (16, 64), "32k128d": (32, 128),
                  "4k16d": (4, 16)}      # 4k16d: not a paper model (tests)
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2023, 0.1994, 0.2010)


@dataclasses.dataclass(frozen=True)
class CifarConfig(RecipeConfig):
    """The CIFAR-10 EncNet and its recipe (`seg_common.config.RecipeConfig`).

    The recipe values are the usual CIFAR ResNet ones; the paper's exact
    schedule is unconfirmed (marked "unconfirmed").
    """

    variant: str = "16k64d"                # paper Table 6: 16k64d, 32k128d
    num_classes: int = 10
    input_shape: tuple = (32, 32, 3)
    blocks_per_stage: int = 2              # 14 layers
    reduction: int = 4                     # paper: 1x1 conv reduces by 4
    eval_smoothing: float = -0.5           # code: EncodingDrop eval value
    bn_momentum: float = 0.9               # PyTorch momentum 0.1
    bn_epsilon: float = 1e-5
    base_learning_rate: float = 0.1        # unconfirmed
    lr_schedule: str = "cosine"            # unconfirmed
    batch_size: int = 128                  # unconfirmed
    crop_size: tuple = (32, 32)            # pad 4 + random 32x32 crop
    crop_padding: int = 4                  # zeros on each side before the crop
    train_steps: int = 234_600             # unconfirmed: 600 epochs x 391
    # RecipeConfig's defaults for the rest: momentum 0.9, L2 1e-4
    # (unconfirmed), no scaling or rotation, the standard left-right flip.

    def __post_init__(self):
        super().__post_init__()
        check_choice("variant", self.variant, tuple(CIFAR_VARIANTS))
        for name, least in (("blocks_per_stage", 1), ("reduction", 1),
                            ("crop_padding", 0)):
            check_integer(name, getattr(self, name), least)


CIFAR_PRESETS = {
    "16k64d": CifarConfig(),
    "32k128d": CifarConfig(variant="32k128d"),
    "tiny": CifarConfig(variant="4k16d", batch_size=2, train_steps=20),
}


def build_cifar_model(config: CifarConfig | None = None,
                      **overrides) -> keras.Model:
    """Builds the CIFAR-10 EncNet classifier.

    Args:
        config: a `CifarConfig` (default: 16k64d).
        **overrides: `CifarConfig` field names, e.g. `variant="32k128d"`.

    Returns:
        A `keras.Model`: float32 RGB 0..255 (B, 32, 32, 3) -> {"logits":
        (B, num_classes)}; CIFAR mean/std normalisation inside.

    Raises:
        TypeError: `config` not a `CifarConfig` or unknown override.
        ValueError: bad value (e.g. variant).

    Example:
    >>> model = build_cifar_model(variant="16k64d")
    >>> tuple(model(keras.ops.zeros((2, 32, 32, 3)))["logits"].shape)
    (2, 10)

    Reference: https://arxiv.org/abs/1803.08904 (section 3.5, Table 6)
    """
    config = resolve_config(CifarConfig, config, overrides)
    num_codes, width = CIFAR_VARIANTS[config.variant]
    images = keras.Input(config.input_shape, name="images")
    x = standardization(CIFAR_MEAN, CIFAR_STD)(images)
    x = keras.layers.Conv2D(width, 3, padding="same", use_bias=False,
                            name="stem_conv")(x)
    for stage in range(3):
        for block in range(config.blocks_per_stage):
            stride = 2 if stage > 0 and block == 0 else 1
            x = _basic_block(x, width * 2 ** stage, stride, num_codes, config,
                             name=f"stage{stage + 1}_block{block + 1}")
    x = _bn_relu(x, config, "final")
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    logits = keras.layers.Dense(config.num_classes, dtype="float32",
                                name="classifier")(x)
    return keras.Model(images, {"logits": logits},
                       name=f"encnet_cifar_{config.variant}")


def _bn_relu(x, config, name):
    x = batch_norm(config.bn_momentum, config.bn_epsilon, name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def _conv(x, filters, kernel_size, stride, name):
    """Conv without bias; strided convs pad 1 on both sides like PyTorch."""
    pad = fixed_padding(kernel_size, name=f"{name}_pad") if stride > 1 else None
    if pad is not None:
        x = pad(x)
    return keras.layers.Conv2D(
        filters, kernel_size, strides=stride, use_bias=False,
        padding="valid" if stride > 1 else "same",
        kernel_initializer="he_normal", name=name)(x)


def _basic_block(x, filters, stride, num_codes, config, name):
    """Pre-activation basic block with a Context Encoding Module on the residual."""
    pre = _bn_relu(x, config, f"{name}_preact")
    shortcut = x
    if stride > 1 or x.shape[-1] != filters:
        shortcut = _conv(pre, filters, 1, stride, f"{name}_shortcut")
    r = _conv(pre, filters, 3, stride, f"{name}_conv1")
    r = _bn_relu(r, config, f"{name}_mid")
    r = _conv(r, filters, 3, 1, f"{name}_conv2")
    r = _context_encoding(r, num_codes, config, f"{name}_enc")
    return keras.layers.Add(name=f"{name}_add")([shortcut, r])


def _context_encoding(x, num_codes, config, name):
    """1x1 reduce + BN + ReLU -> Encoding -> concat + L2 norm -> FC + sigmoid -> scale."""
    channels = x.shape[-1]
    reduced = channels // config.reduction
    e = _conv(x, reduced, 1, 1, f"{name}_reduce")
    e = _bn_relu(e, config, f"{name}_reduce")
    e = SmoothingDropEncoding(num_codes, config.eval_smoothing,
                              name=f"{name}_encoding")(e)          # [B, K, C/4]
    e = keras.layers.Flatten(name=f"{name}_concat")(e)             # [B, K*C/4]
    e = keras.layers.UnitNormalization(name=f"{name}_l2norm")(e)
    gamma = keras.layers.Dense(channels, activation="sigmoid",
                               name=f"{name}_fc")(e)               # [B, C]
    return FeaturemapAttention("scale", name=f"{name}_attention")([x, gamma])


def build_cifar_loss(config: CifarConfig,
                     class_weights: Sequence[float] | None = None) -> LossFn:
    """Softmax cross-entropy of the CIFAR classifier.

    Args:
        config: a `CifarConfig`.
        class_weights: optional (num_classes,) weights `w[y]`; the loss is
            `sum_b w[y_b] CE_b / B` (the semantics of
            `seg_common.losses.masked_cross_entropy`, one "pixel" per image).

    Returns:
        `loss_fn(labels, outputs) -> {"loss", "ce_loss"}` for int labels (B,)
        and `outputs["logits"]` (B, num_classes).
    """
    def loss_fn(labels, outputs):
        logits = tf.cast(outputs["logits"], tf.float32)
        if logits.shape[-1] != config.num_classes:
            raise ValueError(
                f"outputs['logits'] has {logits.shape[-1]} classes but "
                f"config.num_classes is {config.num_classes}.")
        labels = tf.cast(labels, tf.int32)
        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=logits)                           # [B]
        if class_weights is not None:
            ce *= tf.gather(tf.constant(class_weights, tf.float32), labels)
        ce = tf.reduce_mean(ce)
        return {"loss": ce, "ce_loss": ce}

    return loss_fn


# The model-package contract names (docs/API.md): scripts/_registry.py maps
# the classification --model "encnet_cifar" to this module.
Config = CifarConfig
PRESETS = CIFAR_PRESETS
build_model = build_cifar_model
build_loss = build_cifar_loss
