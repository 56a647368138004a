"""Shared machinery of the TFRecord builders: read, check, map, write.

A builder module turns a dataset's own layout into a `Source` (items plus a
`read` function returning `Example`s); `write_split` does the rest.
"""

import dataclasses
import os
from typing import Any, Callable, Sequence

import cv2
import numpy as np
import tensorflow as tf


class LayoutError(ValueError):
    """The data directory does not hold the expected layout."""


class InvalidLabelError(ValueError):
    """A label file holds a value that is neither a class id nor ignored."""


@dataclasses.dataclass(frozen=True)
class Pair:
    """An image file and its label file."""

    image: str
    label: str


@dataclasses.dataclass(frozen=True)
class Example:
    """One example ready to encode: image bytes and source label values."""

    image_bytes: bytes
    image_format: str
    label: np.ndarray  # uint8 (H, W) source values
    name: str


@dataclasses.dataclass(frozen=True)
class Source:
    """What a builder hands to `write_split` for one split."""

    items: Sequence[Any]
    read: Callable[[Any], Example]
    table: np.ndarray  # int16 (256,), see label_maps
    num_classes: int


@dataclasses.dataclass(frozen=True)
class SplitSummary:
    """Counts of a converted split."""

    split: str
    examples: int
    class_pixels: np.ndarray  # int64 (num_classes,)
    ignore_pixels: int
    invalid_pixels: int
    files: tuple


def _format_of(data):
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    return "jpeg" if data[:2] == b"\xff\xd8" else None


def to_bgr8(array):
    """Converts a decoded image (gray, BGR, BGRA; 8 or 16 bit) to BGR uint8."""
    if array.dtype == np.uint16:
        array = np.round(array / 257.0).astype(np.uint8)
    elif array.dtype != np.uint8:
        raise ValueError(f"unsupported pixel type {array.dtype}")
    if array.ndim == 2 or array.shape[2] == 1:
        return cv2.cvtColor(array, cv2.COLOR_GRAY2BGR)
    if array.shape[2] == 4:
        return cv2.cvtColor(array, cv2.COLOR_BGRA2BGR)
    return array


def read_image(path):
    """Reads an image as 8-bit RGB bytes, keeping PNG/JPEG bytes if possible.

    Returns:
        (bytes, format "png"|"jpeg", (height, width)).
    """
    with tf.io.gfile.GFile(path, "rb") as f:
        data = f.read()
    array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None:
        raise ValueError(f"{path}: not a readable image.")
    image_format = _format_of(data)
    if image_format and array.dtype == np.uint8 and array.ndim == 3 and (
            array.shape[2] == 3):
        return data, image_format, array.shape[:2]
    bgr = to_bgr8(array)
    return cv2.imencode(".png", bgr)[1].tobytes(), "png", bgr.shape[:2]


def read_label(path):
    """Reads a single-channel 8-bit label PNG of source values (H, W)."""
    with tf.io.gfile.GFile(path, "rb") as f:
        data = np.frombuffer(f.read(), np.uint8)
    label = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if label is None or label.dtype != np.uint8:
        raise ValueError(f"{path}: not an 8-bit label PNG.")
    if label.ndim == 3:
        if (label != label[..., :1]).any():
            raise ValueError(f"{path}: colour label map; expected one channel.")
        label = label[..., 0]
    return label


def read_pair(pair, load_label=read_label):
    """Reads an image/label pair and checks that both exist and match.

    Raises:
        ValueError: missing label file or size mismatch, naming the pair.
    """
    if not tf.io.gfile.exists(pair.image):
        raise ValueError(f"Missing image file {pair.image} for label "
                         f"{pair.label}.")
    if not tf.io.gfile.exists(pair.label):
        raise ValueError(f"Missing label file {pair.label} for image "
                         f"{pair.image}.")
    image_bytes, image_format, size = read_image(pair.image)
    label = load_label(pair.label)
    if tuple(size) != label.shape:
        raise ValueError(f"Image {pair.image} is {size[0]}x{size[1]} but "
                         f"label {pair.label} is {label.shape[0]}x"
                         f"{label.shape[1]} (HxW).")
    return Example(image_bytes, image_format, label,
                   os.path.basename(pair.image))


def require_dir(path, dataset, what):
    """Raises LayoutError unless `path` is a directory."""
    if not tf.io.gfile.isdir(path):
        raise LayoutError(f"{dataset}: expected {what} at {path} (not found).")


def require_items(items, dataset, what):
    """Raises LayoutError if a split has no examples; returns the items."""
    if not items:
        raise LayoutError(f"{dataset}: empty split, expected {what}.")
    return items


def pairs_by_stem(images, label_dir, suffix=".png"):
    """Pairs each image with the label file of the same stem in `label_dir`.

    Args:
        images: image paths.
        label_dir: the directory of the labels.
        suffix: the labels' extension.

    Returns:
        list of Pair.
    """
    return [Pair(path, os.path.join(label_dir, os.path.splitext(
        os.path.basename(path))[0] + suffix)) for path in images]
