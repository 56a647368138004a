"""Multi-scale and left-right-flip inference (TF1 DeepLab `predict_labels_multi_scale`)."""

import tensorflow as tf

from seg_common.layers.resize import resize_bilinear


def scale_dimension(dim, scale):
    """TF1 DeepLab's scaled size of a `dim`-pixel side: `int((dim - 1) * scale + 1)`."""
    return int((dim - 1) * scale + 1)


def predict_multiscale(model, images, scales=(1.0,), flip=True,
                       logits_key="logits"):
    """Mean softmax probabilities over input scales and left-right flips.

    For every scale the images are resized bilinearly (align_corners) to
    `int((d - 1) * scale + 1)` per side, the model's logits are resized back
    to the input size (align_corners) and soft-maxed; with `flip` the
    mirrored images are evaluated too and their probabilities mirrored back.
    The probabilities of all `len(scales) * (1 + flip)` passes are averaged.

    Args:
        model: a segmentation model returning a dict with `logits_key`
            (B, h, w, C) for images (B, h, w, 3).
        images: float32 (B, H, W, 3), as the model takes them (0..255).
        scales: input scales (VOC: 0.5, 0.75, ..., 1.75; Cityscapes:
            0.75, 1.0, 1.25).
        flip: also evaluate the left-right mirrored images.
        logits_key: the output key holding the logits.

    Returns:
        float32 tf.Tensor (B, H, W, C), probabilities summing to 1 per pixel.

    Raises:
        ValueError: empty `scales` or a scale <= 0.

    Example:
    >>> probs = predict_multiscale(model, images, scales=(0.5, 1.0, 1.5))
    >>> labels = tf.argmax(probs, -1)

    Reference: https://arxiv.org/abs/1802.02611 (section 4.3, "multi-scale
    inputs during evaluation ... left-right flipped inputs").
    """
    if not scales or any(s <= 0 for s in scales):
        raise ValueError(f"`scales` must be a non-empty list of values > 0, "
                         f"got {scales!r}.")
    images = tf.convert_to_tensor(images, tf.float32)
    height, width = images.shape[1], images.shape[2]
    total, count = 0.0, 0
    for scale in scales:
        size = (scale_dimension(height, scale), scale_dimension(width, scale))
        scaled = images if scale == 1.0 else resize_bilinear(images, size)
        for mirrored in ((False, True) if flip else (False,)):
            x = tf.reverse(scaled, [2]) if mirrored else scaled
            logits = tf.cast(model(x, training=False)[logits_key], tf.float32)
            probs = tf.nn.softmax(resize_bilinear(logits, (height, width)))
            total += tf.reverse(probs, [2]) if mirrored else probs
            count += 1
    return total / count
