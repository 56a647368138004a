"""SUN RGB-D, 37 classes: the PNG export of `ankurhanda/sunrgbd-meta-data`.

The layout most SUN RGB-D segmentation code reads (the 37-class label maps
extracted from SUNRGBDtoolbox's `SUNRGBD2Dseg.mat`, with the standard
split), under one `--data_dir`:

    SUNRGBD-train_images/img-005051.jpg ... img-010335.jpg   (5,285)
    SUNRGBD-test_images/img-000001.jpg ... img-005050.jpg    (5,050)
    sunrgbd_train_test_labels/img-000001.png ... img-010335.png

(`SUNRGBD-{train,test}_images.tgz` and `sunrgbd_train_test_labels.tar.gz`
extracted side by side.) Labels are 8-bit PNGs of values 0..37: 0 = void
-> 255, class c -> c-1 (wall = 0 ... bag = 36).
"""

import os

import tensorflow as tf

from seg_common.data import label_maps
from seg_common.data.builders import base

SPLITS = ("train", "test")
NUM_CLASSES = 37
IMAGE_DIRS = {"train": "SUNRGBD-train_images", "test": "SUNRGBD-test_images"}
LABEL_DIR = "sunrgbd_train_test_labels"


def make_source(data_dir, split):
    """The SUN RGB-D `Source` of one split (0 -> 255, c -> c-1).

    Args:
        data_dir: the directory holding the three folders above.
        split: "train" or "test".

    Returns:
        base.Source; a missing label PNG fails when its image is read,
        naming both files.
    """
    if split not in IMAGE_DIRS:
        raise ValueError(f"sun_rgbd: unknown split {split!r}; known: "
                         f"{', '.join(SPLITS)}.")
    image_dir = os.path.join(data_dir, IMAGE_DIRS[split])
    label_dir = os.path.join(data_dir, LABEL_DIR)
    base.require_dir(image_dir, "sun_rgbd", f"{IMAGE_DIRS[split]}/ "
                     "(img-NNNNNN.jpg, from SUNRGBD-*_images.tgz)")
    base.require_dir(label_dir, "sun_rgbd", f"{LABEL_DIR}/ (img-NNNNNN.png, "
                     "from sunrgbd_train_test_labels.tar.gz)")
    images = sorted(tf.io.gfile.glob(os.path.join(image_dir, "*.jpg")))
    base.require_items(images, "sun_rgbd", f"*.jpg images in {image_dir}")
    return base.Source(base.pairs_by_stem(images, label_dir), base.read_pair,
                       label_maps.shift_map(NUM_CLASSES), NUM_CLASSES)
