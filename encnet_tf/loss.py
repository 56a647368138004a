"""EncNet loss: masked CE + SE-loss (class presence BCE) + optional aux CE."""

from collections.abc import Sequence

import tensorflow as tf

from encnet_tf.config import Config
from seg_common.losses import LossFn, masked_cross_entropy

SE_BRANCHES = ("stage4", "stage3")


def se_targets(labels, num_classes, ignore_label=255):
    """Class-presence targets of each label map, without a one-hot tensor.

    `t[b, c] = 1` iff class c occurs in label map b, ignored pixels
    excluded (as the reference): `bincount(b * num_classes + y over the valid
    pixels, minlength=B * num_classes) > 0`, reshaped to (B, num_classes).
    Memory is O(B * H * W + B * num_classes).

    Args:
        labels: int tensor (B, H, W), ids in [0, num_classes) or
            `ignore_label`.
        num_classes: C.
        ignore_label: label value that is not counted.

    Returns:
        float32 tensor (B, num_classes) of 0/1.

    Raises:
        tf.errors.InvalidArgumentError: a non-ignored label is outside
            [0, num_classes) (a class-count mismatch); the message names it.

    Example:
    >>> se_targets(tf.constant([[[0, 2], [255, 2]]]), 3).numpy()
    array([[1., 0., 1.]], dtype=float32)
    """
    labels = tf.cast(labels, tf.int32)
    batch = tf.shape(labels)[0]
    flat = tf.reshape(labels, (batch, -1))                       # [B, H*W]
    valid = tf.not_equal(flat, ignore_label)
    with tf.control_dependencies([_check_label_range(flat, valid,
                                                     num_classes)]):
        ids = tf.range(batch)[:, None] * num_classes + flat      # [B, H*W]
    ids = tf.boolean_mask(ids, valid)                            # [num_valid]
    size = batch * num_classes
    counts = tf.math.bincount(ids, minlength=size, maxlength=size)
    return tf.cast(tf.reshape(counts > 0, (batch, num_classes)), tf.float32)


def _check_label_range(flat, valid, num_classes):
    checked = tf.boolean_mask(flat, valid)
    in_range = tf.reduce_all((checked >= 0) & (checked < num_classes))
    return tf.debugging.Assert(in_range, [
        f"labels must be in [0, num_classes={num_classes}) or the ignore "
        "label (class count mismatch?); min and max label found:",
        tf.reduce_min(checked), tf.reduce_max(checked)])


def se_loss(labels, se_logits, ignore_label=255):
    """Binary CE between SE logits and class presence, mean over B x C.

    Args:
        labels: int tensor (B, H, W).
        se_logits: (B, C) class-presence logits.
        ignore_label: excluded from the targets.

    Returns:
        Scalar float32 tensor.
    """
    se_logits = tf.cast(se_logits, tf.float32)
    targets = se_targets(labels, se_logits.shape[-1], ignore_label)
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
        labels=targets, logits=se_logits))


def build_loss(config: Config,
               class_weights: Sequence[float] | None = None) -> LossFn:
    """The EncNet training loss for `config`.

    `loss = seg_loss + se_loss_weight * (se_loss_stage4 + se_loss_stage3)
    + aux_weight * aux_loss`, each term present when its head is on:
    `seg_loss`, `aux_loss` softmax CE over the non-ignored pixels
    (`seg_common.losses.masked_cross_entropy`, optional class weights);
    `se_loss_*` binary CE on class-presence targets built from the label
    map the logits were computed for (after augmentation and cropping).
    Weight decay is added by the training loop.

    Args:
        config: an `encnet_tf.Config`.
        class_weights: optional (num_classes,) weights of the pixel CE terms.

    Returns:
        `loss_fn(labels, outputs) -> dict` of scalars: "loss", "seg_loss",
        and "se_loss_stage4", "se_loss_stage3", "aux_loss" when enabled.
        Raises `ValueError` when the logits do not have `num_classes`
        channels.

    Example:
    >>> loss_fn = encnet_tf.build_loss(encnet_tf.PRESETS["tiny"])
    >>> sorted(loss_fn(labels, model(images)))  # model of the same config
    ['loss', 'se_loss_stage3', 'se_loss_stage4', 'seg_loss']

    Reference: https://arxiv.org/abs/1803.08904 (section 3.2, SE-loss)
    """
    def pixel_loss(labels, logits):
        return masked_cross_entropy(labels, logits, config.ignore_label,
                                    class_weights)

    def loss_fn(labels, outputs):
        _check_num_classes(outputs, config.num_classes)
        terms = {"seg_loss": pixel_loss(labels, outputs["logits"])}
        total = terms["seg_loss"]
        for branch in SE_BRANCHES:
            key = f"se_logits_{branch}"
            if key in outputs:
                term = se_loss(labels, outputs[key], config.ignore_label)
                terms[f"se_loss_{branch}"] = term
                total += config.se_loss_weight * term
        if "aux_logits" in outputs:
            terms["aux_loss"] = pixel_loss(labels, outputs["aux_logits"])
            total += config.aux_weight * terms["aux_loss"]
        terms["loss"] = total
        return terms

    return loss_fn


def _check_num_classes(outputs, num_classes):
    for key, value in outputs.items():
        if value.shape[-1] != num_classes:
            raise ValueError(
                f"outputs[{key!r}] has {value.shape[-1]} classes but "
                f"config.num_classes is {num_classes}.")
