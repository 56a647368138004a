"""Checks of TFRecord shards that name the file and record at fault: which
splits a directory holds, and the first label a model cannot score."""

import os
import re

import numpy as np
import tensorflow as tf

from seg_common.data import tfrecord

_SHARD = re.compile(r"^(.+)-\d{5}-of-\d{5}\.tfrecord$")


def available_splits(directory):
    """Sorted split names of the `<split>-NNNNN-of-MMMMM.tfrecord` shards in
    `directory` (empty when it holds none or does not exist)."""
    if not tf.io.gfile.isdir(directory):
        return []
    names = (_SHARD.match(name) for name in tf.io.gfile.listdir(directory))
    return sorted({match.group(1) for match in names if match})


def first_label_above(files, num_classes, ignore_label=255):
    """The first record whose label map holds a value that is neither a
    class id (< num_classes) nor `ignore_label`.

    Args:
        files: shard paths, in reading order.
        num_classes: C.
        ignore_label: the ignored value.

    Returns:
        (shard path, record index in the shard, image file name, the
        largest offending value), or None when every label fits.
    """
    def largest(serialized):
        label, filename = tfrecord.decode_label(serialized)
        label = tf.cast(label, tf.int32)
        scored = tf.where(label == ignore_label, -1, label)
        return tf.reduce_max(scored), filename

    for path in files:
        maxima = tf.data.TFRecordDataset(path).map(
            largest, num_parallel_calls=tf.data.AUTOTUNE).batch(256)
        index = 0
        for values, filenames in maxima.as_numpy_iterator():
            bad = np.flatnonzero(values >= num_classes)
            if bad.size:
                i = int(bad[0])
                return (path, index + i, filenames[i].decode(),
                        int(values[i]))
            index += len(values)
    return None


def describe_record(path, index, filename):
    """'<shard> record <index> (<image file>)' for error messages."""
    name = f" ({os.path.basename(filename)})" if filename else ""
    return f"{path} record {index}{name}"
