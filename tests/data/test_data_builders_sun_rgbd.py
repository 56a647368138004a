"""SUN RGB-D builder on a tiny tree in the sunrgbd-meta-data layout."""

import os

import numpy as np
import pytest

from seg_common.data import builders, datasets
from seg_common.data.class_weights import class_weights
from seg_common.data.builders import sun_rgbd
from tests.data import segdata_fakes

# A few ids from each side of the standard split (test 1..5050, train
# 5051..10335).
IDS = {"train": (5051, 7000, 10335), "test": (1, 5050)}


def _tree(root, rng, size=(24, 32)):
    """Writes JPEG images and 0..37 label PNGs; returns split -> {name:
    (image RGB, source label)}."""
    tree = {}
    for split, ids in IDS.items():
        names = [f"img-{i:06d}" for i in ids]
        labels, images = segdata_fakes.make_pairs(rng, names, size, 38)
        for n in names:
            segdata_fakes.write_image(os.path.join(
                root, sun_rgbd.IMAGE_DIRS[split], n + ".jpg"), images[n])
            segdata_fakes.write_image(os.path.join(
                root, sun_rgbd.LABEL_DIR, n + ".png"), labels[n])
        tree[split] = {n + ".jpg": labels[n] for n in names}
    return tree


def test_info_has_the_37_classes_and_the_standard_split():
    info = datasets.get_dataset_info("sun_rgbd")
    assert info.num_classes == sun_rgbd.NUM_CLASSES == 37
    assert info.class_names[0] == "wall" and info.class_names[-1] == "bag"
    assert info.splits == {"train": 5285, "test": 5050}
    assert info.colormap.shape == (37, 3)
    assert builders.BUILDERS["sun_rgbd"] is sun_rgbd


def test_builds_both_splits_with_void_ignored(tmp_path, rng):
    root, out = str(tmp_path / "sun"), str(tmp_path / "records")
    tree = _tree(root, rng)
    summaries = builders.build("sun_rgbd", data_dir=root, output_dir=out,
                               num_shards=1)
    assert [(s.split, s.examples) for s in summaries] == [("train", 3),
                                                          ("test", 2)]
    for split, labels in tree.items():
        records = segdata_fakes.read_split(out, split)
        assert sorted(records) == sorted(labels)
        for name, label in labels.items():
            want = np.where(label == 0, 255, label.astype(np.int64) - 1)
            np.testing.assert_array_equal(records[name][1], want)
            assert records[name][0].shape == (24, 32, 3)  # decoded JPEG
    train = np.concatenate([v.ravel() for v in tree["train"].values()])
    np.testing.assert_array_equal(summaries[0].class_pixels,
                                  np.bincount(train, minlength=38)[1:])
    assert summaries[0].ignore_pixels == np.count_nonzero(train == 0)
    weights = class_weights(out, split="train", num_classes=37)
    assert weights.shape == (37,) and np.median(weights[weights > 0]) == (
        pytest.approx(1.0))


def test_missing_label_and_folder_are_named(tmp_path, rng):
    root = str(tmp_path / "sun")
    _tree(root, rng)
    os.remove(os.path.join(root, sun_rgbd.LABEL_DIR, "img-000001.png"))
    with pytest.raises(ValueError, match="img-000001.png"):
        builders.build("sun_rgbd", data_dir=root, splits=["test"],
                       output_dir=str(tmp_path / "a"))
    with pytest.raises(builders.LayoutError, match="SUNRGBD-train_images"):
        builders.build("sun_rgbd", data_dir=str(tmp_path / "empty"),
                       splits=["train"], output_dir=str(tmp_path / "b"))
