"""ADE20K, ADEChallengeData2016 layout (SceneParsing benchmark)."""

import os

import tensorflow as tf

from seg_common.data import label_maps
from seg_common.data.builders import base

SPLITS = ("train", "val")
NUM_CLASSES = 150
_FOLDERS = {"train": "training", "val": "validation"}


def make_source(data_dir, split):
    """The ADE20K `Source` of one split (0 -> 255, c -> c-1).

    Args:
        data_dir: the `ADEChallengeData2016/` directory.
        split: "train" or "val".

    Returns:
        base.Source.
    """
    if split not in _FOLDERS:
        raise ValueError(f"ade20k: unknown split {split!r}; known: "
                         f"{', '.join(SPLITS)}.")
    image_dir = os.path.join(data_dir, "images", _FOLDERS[split])
    label_dir = os.path.join(data_dir, "annotations", _FOLDERS[split])
    base.require_dir(image_dir, "ade20k", "images/" + _FOLDERS[split])
    base.require_dir(label_dir, "ade20k", "annotations/" + _FOLDERS[split])
    images = sorted(tf.io.gfile.glob(os.path.join(image_dir, "*.jpg")))
    base.require_items(images, "ade20k", f"*.jpg images in {image_dir}")
    return base.Source(base.pairs_by_stem(images, label_dir), base.read_pair,
                       label_maps.shift_map(NUM_CLASSES), NUM_CLASSES)
