"""PASCAL-Context (59 classes), mmsegmentation's VOC2010 layout.

Label PNGs in `SegmentationClassContext/` hold 0..59 with 0 = background,
which becomes 255; class c becomes c-1.
"""

import os

from seg_common.data import label_maps
from seg_common.data.builders import base
from seg_common.data.builders import pascal_voc

SPLITS = ("train", "val")
NUM_CLASSES = 59


def make_source(data_dir, split):
    """The PASCAL-Context `Source` of one split.

    Args:
        data_dir: the `VOCdevkit/VOC2010/` directory.
        split: "train" or "val" (`ImageSets/SegmentationContext/<split>.txt`).

    Returns:
        base.Source.
    """
    names = pascal_voc.read_list(os.path.join(
        data_dir, "ImageSets", "SegmentationContext", split + ".txt"),
        "pascal_context")
    label_dir = os.path.join(data_dir, "SegmentationClassContext")
    base.require_dir(label_dir, "pascal_context", "SegmentationClassContext/")
    pairs = [base.Pair(os.path.join(data_dir, "JPEGImages", n + ".jpg"),
                       os.path.join(label_dir, n + ".png")) for n in names]
    return base.Source(pairs, base.read_pair,
                       label_maps.shift_map(NUM_CLASSES), NUM_CLASSES)
