"""PASCAL VOC 2012 (VOCdevkit/VOC2012) and the SBD-augmented "train_aug".

train_aug (10,582 images) = VOC train + SBD train + SBD val - VOC val. Its
labels come from VOC's SegmentationClass where VOC has one, else from SBD's
`cls/<name>.mat` (read with scipy, imported lazily).
"""

import functools
import os

import cv2
import numpy as np
import tensorflow as tf

from seg_common.data import label_maps
from seg_common.data.builders import base
from seg_common.data.datasets import pascal_colormap

SPLITS = ("train", "val", "trainval", "train_aug")
NUM_CLASSES = 21
_PACKED_PALETTE = {int(r) << 16 | int(g) << 8 | int(b): index for index, (
    r, g, b) in enumerate(pascal_colormap(256))}


def read_list(path, dataset):
    """Reads an ImageSets-style list of names; LayoutError if missing/empty."""
    if not tf.io.gfile.exists(path):
        raise base.LayoutError(f"{dataset}: expected the split list {path} "
                               "(not found).")
    with tf.io.gfile.GFile(path) as f:
        names = [line.split()[0] for line in f if line.strip()]
    return base.require_items(names, dataset, f"names listed in {path}")


def load_label(path):
    """Reads a VOC label: palette/colour PNG, raw-index PNG or SBD .mat.

    Returns:
        uint8 (H, W) source values (0..20, 255 = border).
    """
    if path.endswith(".mat"):
        return load_sbd_mat(path)
    with tf.io.gfile.GFile(path, "rb") as f:
        data = np.frombuffer(f.read(), np.uint8)
    array = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if array is None:
        raise ValueError(f"{path}: not a readable label PNG.")
    if array.ndim == 2:
        return array
    rgb = array[..., 2::-1].astype(np.int64)  # BGR(A) -> RGB
    packed = rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2]
    colours, inverse = np.unique(packed, return_inverse=True)
    unknown = [c for c in colours.tolist() if c not in _PACKED_PALETTE]
    if unknown:
        raise base.InvalidLabelError(
            f"{path}: colours {[hex(c) for c in unknown]} are not in the "
            "VOC palette.")
    values = np.array([_PACKED_PALETTE[c] for c in colours.tolist()],
                      np.uint8)
    return values[inverse].reshape(packed.shape)


def load_sbd_mat(path):
    """Reads the class map `GTcls.Segmentation` of an SBD `cls/*.mat`."""
    try:
        from scipy import io as scipy_io  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise ImportError(f"Reading SBD labels ({path}) needs scipy: "
                          "pip install scipy") from None
    with tf.io.gfile.GFile(path, "rb") as f:
        mat = scipy_io.loadmat(f, squeeze_me=True, struct_as_record=False)
    return np.asarray(mat["GTcls"].Segmentation, np.uint8)


def _train_aug_pairs(data_dir, sbd_dir, lists):
    if not sbd_dir:
        raise base.LayoutError("pascal_voc: split train_aug needs --sbd_dir "
                               "(SBD benchmark_RELEASE/dataset/).")
    voc_train = read_list(os.path.join(lists, "train.txt"), "pascal_voc")
    voc_val = read_list(os.path.join(lists, "val.txt"), "pascal_voc")
    sbd = read_list(os.path.join(sbd_dir, "train.txt"), "pascal_voc(SBD)")
    sbd += read_list(os.path.join(sbd_dir, "val.txt"), "pascal_voc(SBD)")
    base.require_dir(os.path.join(sbd_dir, "cls"), "pascal_voc(SBD)",
                     "cls/*.mat")
    in_voc, excluded = set(voc_train), set(voc_val)
    names = sorted(set(voc_train) | (set(sbd) - excluded))
    return [base.Pair(
        os.path.join(data_dir, "JPEGImages", n + ".jpg"),
        os.path.join(data_dir, "SegmentationClass", n + ".png") if n in in_voc
        else os.path.join(sbd_dir, "cls", n + ".mat")) for n in names]


def make_source(data_dir, split, sbd_dir=None):
    """The VOC 2012 `Source` of one split.

    Args:
        data_dir: the `VOCdevkit/VOC2012/` directory.
        split: "train", "val", "trainval" or "train_aug".
        sbd_dir: SBD's `benchmark_RELEASE/dataset/` (train_aug only).

    Returns:
        base.Source.
    """
    lists = os.path.join(data_dir, "ImageSets", "Segmentation")
    base.require_dir(lists, "pascal_voc", "ImageSets/Segmentation/")
    if split == "train_aug":
        pairs = _train_aug_pairs(data_dir, sbd_dir, lists)
    else:
        names = read_list(os.path.join(lists, split + ".txt"), "pascal_voc")
        pairs = [base.Pair(
            os.path.join(data_dir, "JPEGImages", n + ".jpg"),
            os.path.join(data_dir, "SegmentationClass", n + ".png"))
            for n in names]
    return base.Source(pairs,
                       functools.partial(base.read_pair, load_label=load_label),
                       label_maps.identity_map(NUM_CLASSES), NUM_CLASSES)
