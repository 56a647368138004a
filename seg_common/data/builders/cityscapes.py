"""Cityscapes: leftImg8bit/ and gtFine/ (*_labelIds.png -> 19 train ids)."""

import os

import tensorflow as tf

from seg_common.data import label_maps
from seg_common.data.builders import base

SPLITS = ("train", "val", "test")
NUM_CLASSES = 19
_IMAGE_SUFFIX = "_leftImg8bit.png"
_LABEL_SUFFIX = "_gtFine_labelIds.png"


def make_source(data_dir, split):
    """The Cityscapes `Source` of one split.

    Args:
        data_dir: the directory holding `leftImg8bit/` and `gtFine/`.
        split: "train", "val" or "test".

    Returns:
        base.Source.
    """
    image_dir = os.path.join(data_dir, "leftImg8bit", split)
    label_dir = os.path.join(data_dir, "gtFine", split)
    base.require_dir(image_dir, "cityscapes", f"leftImg8bit/{split}/<city>/")
    base.require_dir(label_dir, "cityscapes", f"gtFine/{split}/<city>/")
    images = sorted(tf.io.gfile.glob(
        os.path.join(image_dir, "*", "*" + _IMAGE_SUFFIX)))
    base.require_items(images, "cityscapes",
                       f"<city>/*{_IMAGE_SUFFIX} in {image_dir}")
    pairs = []
    for path in images:
        city = os.path.basename(os.path.dirname(path))
        stem = os.path.basename(path)[:-len(_IMAGE_SUFFIX)]
        pairs.append(base.Pair(
            path, os.path.join(label_dir, city, stem + _LABEL_SUFFIX)))
    return base.Source(pairs, base.read_pair, label_maps.cityscapes_map(),
                       NUM_CLASSES)
