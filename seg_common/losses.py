"""Generic segmentation losses and class-balancing weights.

Everything here is model-agnostic: the model packages build their
`loss_fn` from these pieces (see docs/API.md).
"""

from collections.abc import Callable

import numpy as np
import tensorflow as tf

# A model's training loss: (labels (B, H, W), the model's output dict) ->
# dict of scalar terms, "loss" their weighted total.
LossFn = Callable[[tf.Tensor, dict], dict]


def masked_cross_entropy(labels, logits, ignore_label=255, class_weights=None):
    """Pixel-wise softmax cross-entropy that skips the ignore label.

    The sum over non-ignored pixels of `w[y] * CE` is divided by the number of
    non-ignored pixels (not by the sum of weights): the SegNet / TF1 DeepLab
    semantics. With no valid pixel at all the loss is 0.

    Args:
        labels: int tensor (B, H, W); class ids in [0, C) or `ignore_label`.
        logits: float tensor (B, H, W, C), any float dtype (computed in
            float32).
        ignore_label: label value excluded from the loss.
        class_weights: optional length-C sequence of per-class weights.

    Returns:
        Scalar float32 tensor.
    """
    logits = tf.cast(logits, tf.float32)
    labels = tf.cast(labels, tf.int32)
    valid = tf.not_equal(labels, ignore_label)
    safe_labels = tf.where(valid, labels, tf.zeros_like(labels))
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=safe_labels, logits=logits
    )  # [B, H, W]
    weights = tf.cast(valid, tf.float32)
    if class_weights is not None:
        table = tf.constant(class_weights, tf.float32)
        weights *= tf.gather(table, safe_labels)
    num_valid = tf.reduce_sum(tf.cast(valid, tf.float32))
    return tf.math.divide_no_nan(tf.reduce_sum(ce * weights), num_valid)


def weight_decay_loss(variables, weight_decay, exclude=()):
    """Coupled L2 penalty `weight_decay / 2 * sum(w**2)` (the training loss's
    weight-decay term, Caffe / TF1 semantics).

    Args:
        variables: the model's trainable variables (each with a `path`).
        weight_decay: the L2 coefficient.
        exclude: substrings of variable paths exempt from the penalty
            (e.g. `("depthwise_kernel", "/bias")`).

    Returns:
        Scalar float32 tensor (0 when nothing is decayed).

    Example:
    >>> weight_decay_loss(model.trainable_variables, 4e-5, ("/bias",))
    """
    decayed = [v for v in variables if not any(p in v.path for p in exclude)]
    if not decayed or weight_decay == 0:
        return tf.constant(0.0)
    return float(weight_decay) * tf.add_n(
        [tf.nn.l2_loss(tf.cast(v, tf.float32)) for v in decayed])


def class_pixel_counts(label_batches, num_classes, ignore_label=255):
    """Counts pixels per class and pixels of the images containing each class.

    Args:
        label_batches: iterable of int arrays (B, H, W) (numpy or tensors).
        num_classes: number of classes C.
        ignore_label: label value that is not counted.

    Returns:
        (class_pixels, image_pixels): int64 arrays (C,). `class_pixels[c]` is
        the number of pixels labelled c; `image_pixels[c]` the number of
        non-ignored pixels of the images in which c appears.
    """
    class_pixels = np.zeros(num_classes, np.int64)
    image_pixels = np.zeros(num_classes, np.int64)
    for batch in label_batches:
        for labels in np.asarray(batch):
            labels = labels[labels != ignore_label].astype(np.int64)
            counts = np.bincount(labels, minlength=num_classes)[:num_classes]
            class_pixels += counts
            image_pixels += np.where(counts > 0, labels.size, 0)
    return class_pixels, image_pixels


def median_frequency_weights(class_pixels, image_pixels):
    """Median-frequency class balancing (Eigen & Fergus, used by SegNet).

    `freq(c) = class_pixels[c] / image_pixels[c]` and
    `w(c) = median(freq) / freq(c)`; classes never seen get weight 0 and do
    not enter the median.

    Args:
        class_pixels: (C,) pixels per class (see `class_pixel_counts`).
        image_pixels: (C,) pixels of the images where each class is present.

    Returns:
        float32 array (C,) of weights.

    Reference: https://arxiv.org/abs/1511.02680 (Bayesian SegNet, sec. 4).
    """
    class_pixels = np.asarray(class_pixels, np.float64)
    image_pixels = np.asarray(image_pixels, np.float64)
    seen = class_pixels > 0
    if not seen.any():
        raise ValueError("No labelled pixel found: cannot compute weights.")
    freq = np.zeros_like(class_pixels)
    freq[seen] = class_pixels[seen] / image_pixels[seen]
    weights = np.zeros_like(freq)
    weights[seen] = np.median(freq[seen]) / freq[seen]
    return weights.astype(np.float32)
