"""TFRecord encode / decode of one segmentation example, and shard checks.

The feature keys are those of TF1 DeepLab's `build_*_data.py` and the Model
Garden's converters, so records written by either read unchanged.
"""

import bisect
import os
import re
import struct

import cv2
import numpy as np
import tensorflow as tf

IMAGE_ENCODED = "image/encoded"
IMAGE_FORMAT = "image/format"
IMAGE_FILENAME = "image/filename"
IMAGE_HEIGHT = "image/height"
IMAGE_WIDTH = "image/width"
IMAGE_CHANNELS = "image/channels"
LABEL_ENCODED = "image/segmentation/class/encoded"
LABEL_FORMAT = "image/segmentation/class/format"

_FEATURES = {
    IMAGE_ENCODED: tf.io.FixedLenFeature((), tf.string),
    IMAGE_FORMAT: tf.io.FixedLenFeature((), tf.string, "png"),
    IMAGE_FILENAME: tf.io.FixedLenFeature((), tf.string, ""),
    IMAGE_HEIGHT: tf.io.FixedLenFeature((), tf.int64, 0),
    IMAGE_WIDTH: tf.io.FixedLenFeature((), tf.int64, 0),
    IMAGE_CHANNELS: tf.io.FixedLenFeature((), tf.int64, 3),
    LABEL_ENCODED: tf.io.FixedLenFeature((), tf.string),
    LABEL_FORMAT: tf.io.FixedLenFeature((), tf.string, "png"),
}


class CorruptRecordError(ValueError):
    """A record that cannot be read or decoded; the message names shard+index."""


def _bytes(value):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _int(value):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))


def encode_label(label):
    """Encodes a label map as a single-channel 8-bit PNG.

    Args:
        label: uint8 array (H, W) of class ids, 255 = ignore.

    Returns:
        PNG bytes.
    """
    ok, buffer = cv2.imencode(".png", np.ascontiguousarray(label, np.uint8))
    if not ok:
        raise ValueError("PNG encoding of a label map failed.")
    return buffer.tobytes()


def encode_example(image_bytes, label_bytes, *, filename, height, width,
                   image_format="png", channels=3):
    """Serializes one example with the standard DeepLab / Model Garden keys.

    Args:
        image_bytes: encoded 8-bit RGB image (PNG or JPEG).
        label_bytes: single-channel PNG of class ids (see `encode_label`).
        filename: source file name (stored as `image/filename`).
        height, width: image size in pixels.
        image_format: "png" or "jpeg".
        channels: image channels (3).

    Returns:
        bytes: a serialized `tf.train.Example`.
    """
    feature = {
        IMAGE_ENCODED: _bytes(image_bytes),
        IMAGE_FORMAT: _bytes(image_format.encode()),
        IMAGE_FILENAME: _bytes(filename.encode()),
        IMAGE_HEIGHT: _int(height),
        IMAGE_WIDTH: _int(width),
        IMAGE_CHANNELS: _int(channels),
        LABEL_ENCODED: _bytes(label_bytes),
        LABEL_FORMAT: _bytes(b"png"),
    }
    example = tf.train.Example(features=tf.train.Features(feature=feature))
    return example.SerializeToString()


def decode_example(serialized):
    """Decodes one serialized example (graph-compatible; no augmentation).

    Args:
        serialized: scalar string tensor.

    Returns:
        dict with "image" uint8 (H, W, 3) RGB, "label" uint8 (H, W) and
        "filename" string scalar.
    """
    parsed = tf.io.parse_single_example(serialized, _FEATURES)
    image = tf.io.decode_image(parsed[IMAGE_ENCODED], channels=3,
                               expand_animations=False)
    image.set_shape((None, None, 3))
    label = tf.io.decode_png(parsed[LABEL_ENCODED], channels=1)[..., 0]
    label.set_shape((None, None))
    return {"image": image, "label": label,
            "filename": parsed[IMAGE_FILENAME]}


def decode_label(serialized):
    """Decodes only the label map and file name of one serialized example.

    Returns:
        (label uint8 (H, W), filename string scalar).
    """
    keys = (LABEL_ENCODED, IMAGE_FILENAME)
    parsed = tf.io.parse_single_example(serialized,
                                        {k: _FEATURES[k] for k in keys})
    label = tf.io.decode_png(parsed[LABEL_ENCODED], channels=1)[..., 0]
    return label, parsed[IMAGE_FILENAME]


def shard_path(output_dir, split, index, num_shards):
    """Returns `<output_dir>/<split>-NNNNN-of-MMMMM.tfrecord`."""
    return os.path.join(output_dir,
                        f"{split}-{index:05d}-of-{num_shards:05d}.tfrecord")


def list_shards(pattern):
    """Sorted files matching a glob pattern; ValueError naming it if none."""
    files = sorted(tf.io.gfile.glob(pattern))
    if not files:
        raise ValueError(f"No TFRecord files match {pattern!r}.")
    return files


def _record_offsets(path):
    """Start offsets of the records of a shard, read from the framing only.

    Raises:
        CorruptRecordError: the shard ends inside a record.
    """
    size = tf.io.gfile.stat(path).length
    offsets = []
    with tf.io.gfile.GFile(path, "rb") as f:
        offset = 0
        while offset < size:
            header = f.read(12)
            length = struct.unpack("<Q", header[:8])[0] if len(
                header) == 12 else size
            if offset + 12 + length + 4 > size:
                raise CorruptRecordError(
                    f"{path}: record {len(offsets)} is truncated (byte "
                    f"{offset} of {size}).")
            offsets.append(offset)
            offset += 12 + length + 4
            f.seek(offset)
    return offsets


def _check_crc(path, offsets):
    """Reads a shard through TF (which checks every CRC)."""
    try:
        for _ in tf.data.TFRecordDataset(path).batch(1024):
            pass
    except tf.errors.DataLossError as error:
        match = re.search(r"at (\d+)", error.message)
        byte = int(match.group(1)) if match else 0
        index = max(bisect.bisect_right(offsets, byte) - 1, 0)
        raise CorruptRecordError(
            f"{path}: record {index} is corrupt ({error.message.strip()})."
        ) from None


def _check_decode(path):
    """Decodes every record of a shard eagerly."""
    for index, record in enumerate(tf.data.TFRecordDataset(path)):
        try:
            example = decode_example(record)
        except (tf.errors.InvalidArgumentError, ValueError) as error:
            raise CorruptRecordError(
                f"{path}: record {index} cannot be decoded "
                f"({str(error).splitlines()[0]}).") from None
        if example["image"].shape[:2] != example["label"].shape:
            raise CorruptRecordError(
                f"{path}: record {index}: image {example['image'].shape[:2]}"
                f" and label {example['label'].shape} differ in size.")


def count_records(files):
    """Number of records in shards, read from the record framing only."""
    return sum(len(_record_offsets(path)) for path in files)


def verify_shards(files, decode=False):
    """Checks TFRecord shards; errors name the shard and the record index.

    Args:
        files: list of shard paths.
        decode: also decode every image and label (slower).

    Returns:
        int: total number of records.

    Raises:
        CorruptRecordError: a truncated, corrupt or undecodable record.
    """
    total = 0
    for path in files:
        offsets = _record_offsets(path)
        _check_crc(path, offsets)
        if decode:
            _check_decode(path)
        total += len(offsets)
    return total
