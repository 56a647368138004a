"""VOC (+SBD train_aug), Cityscapes, ADE20K, PASCAL-Context and synthetic
builders on tiny fake trees laid out like the real datasets."""

import os

import numpy as np
import pytest
import scipy.io
import tensorflow as tf

from seg_common.data import builders
from seg_common.data import get_dataset_info
from seg_common.data import label_maps
from seg_common.data.datasets import pascal_colormap
from tests.data import segdata_fakes

SIZE = (20, 28)


def _write_list(path, names):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("".join(n + "\n" for n in names))


def _jpeg_pixels(path):
    return tf.io.decode_jpeg(open(path, "rb").read()).numpy()


def _voc_tree(root, rng, names, with_png):
    labels = {}
    for name in names:
        label = segdata_fakes.blocky_labels(rng, SIZE, 21, block=4)
        label[0] = 255  # VOC's object borders
        labels[name] = label
        segdata_fakes.write_image(
            os.path.join(root, "JPEGImages", name + ".jpg"),
            segdata_fakes.colour_of(label))
        if name in with_png:
            segdata_fakes.write_palette_png(
                os.path.join(root, "SegmentationClass", name + ".png"),
                label, pascal_colormap(256))
    return labels


def test_pascal_voc_palette_labels_and_train_aug(tmp_path, rng):
    voc, sbd = str(tmp_path / "VOC2012"), str(tmp_path / "dataset")
    labels = _voc_tree(voc, rng, "abcdef", with_png="abcd")
    lists = os.path.join(voc, "ImageSets", "Segmentation")
    _write_list(os.path.join(lists, "train.txt"), ["a", "b"])
    _write_list(os.path.join(lists, "val.txt"), ["c", "d"])
    _write_list(os.path.join(sbd, "train.txt"), ["b", "e", "c"])
    _write_list(os.path.join(sbd, "val.txt"), ["f"])
    os.makedirs(os.path.join(sbd, "cls"))
    expected = {"val": labels, "train_aug": dict(labels)}
    for name in "bcef":  # SBD has no 255 borders
        sbd_label = np.where(labels[name] == 255, 0, labels[name])
        if name in "ef":  # not in VOC train: the SBD label is used
            expected["train_aug"][name] = sbd_label
        scipy.io.savemat(os.path.join(sbd, "cls", name + ".mat"), {
            "GTcls": {"Segmentation": sbd_label, "CategoriesPresent": [1]}})
    out = str(tmp_path / "out")
    summaries = builders.build("pascal_voc", data_dir=voc, sbd_dir=sbd,
                               output_dir=out, splits=["val", "train_aug"])
    assert [s.examples for s in summaries] == [2, 4]
    for split, names in (("val", "cd"), ("train_aug", "abef")):
        records = segdata_fakes.read_split(out, split)
        assert sorted(records) == [n + ".jpg" for n in names]
        for name in names:
            image, label = records[name + ".jpg"]
            np.testing.assert_array_equal(label, expected[split][name])
            np.testing.assert_array_equal(image, _jpeg_pixels(
                os.path.join(voc, "JPEGImages", name + ".jpg")))


def test_pascal_voc_train_aug_needs_sbd_dir(tmp_path, rng):
    voc = str(tmp_path / "VOC2012")
    _voc_tree(voc, rng, "a", with_png="a")
    _write_list(os.path.join(voc, "ImageSets", "Segmentation", "train.txt"),
                ["a"])
    with pytest.raises(builders.LayoutError, match="needs --sbd_dir"):
        builders.build("pascal_voc", data_dir=voc, splits=["train_aug"],
                       output_dir=str(tmp_path / "o"))


def test_cityscapes_label_ids_to_train_ids(tmp_path, rng):
    root = str(tmp_path / "cityscapes")
    stem = "aachen_000000_000019"
    label_ids = segdata_fakes.blocky_labels(rng, SIZE, 34, block=2)
    image = segdata_fakes.colour_of(label_ids)
    segdata_fakes.write_image(os.path.join(
        root, "leftImg8bit", "val", "aachen", stem + "_leftImg8bit.png"), image)
    segdata_fakes.write_image(os.path.join(
        root, "gtFine", "val", "aachen", stem + "_gtFine_labelIds.png"),
        label_ids)
    out = str(tmp_path / "out")
    builders.build("cityscapes", data_dir=root, output_dir=out)
    got_image, got = segdata_fakes.read_split(out, "val")[
        stem + "_leftImg8bit.png"]
    want = label_maps.cityscapes_map()[label_ids]
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got_image, image)
    assert got[label_ids == 7].tolist() == [0] * int((label_ids == 7).sum())
    assert set(got[label_ids == 0].tolist()) <= {255}


@pytest.mark.parametrize("dataset", ["ade20k", "pascal_context"])
def test_shifted_datasets_map_zero_to_ignore(tmp_path, rng, dataset):
    root = str(tmp_path / dataset)
    num = get_dataset_info(dataset).num_classes
    label = segdata_fakes.blocky_labels(rng, SIZE, num + 1, block=2)
    if dataset == "ade20k":
        name = "ADE_val_00000001"
        image_path = os.path.join(root, "images", "validation", name + ".jpg")
        label_path = os.path.join(root, "annotations", "validation",
                                  name + ".png")
    else:
        name = "2008_000002"
        image_path = os.path.join(root, "JPEGImages", name + ".jpg")
        label_path = os.path.join(root, "SegmentationClassContext",
                                  name + ".png")
        _write_list(os.path.join(root, "ImageSets", "SegmentationContext",
                                 "val.txt"), [name])
    segdata_fakes.write_image(image_path, segdata_fakes.colour_of(label))
    segdata_fakes.write_image(label_path, label)
    out = str(tmp_path / "out")
    builders.build(dataset, data_dir=root, output_dir=out, splits=["val"])
    _, got = segdata_fakes.read_split(out, "val")[name + ".jpg"]
    np.testing.assert_array_equal(got, np.where(label == 0, 255, label - 1))
    label[0, 0] = num + 1  # beyond the last class
    segdata_fakes.write_image(label_path, label)
    with pytest.raises(builders.InvalidLabelError, match=name):
        builders.build(dataset, data_dir=root, output_dir=out,
                       splits=["val"], overwrite=True)


def test_synthetic_is_deterministic_and_uses_every_class(tmp_path):
    outs = [str(tmp_path / d) for d in ("a", "b", "c")]
    for out, seed in zip(outs, (5, 5, 6)):
        builders.build("synthetic", output_dir=out, splits=["train"],
                       num_shards=1, num_examples=8, image_size=(32, 48),
                       seed=seed)
    shard = "train-00000-of-00001.tfrecord"
    data = [open(os.path.join(out, shard), "rb").read() for out in outs]
    assert data[0] == data[1] and data[0] != data[2]
    records = segdata_fakes.read_split(outs[0], "train")
    labels = np.stack([label for _, label in records.values()])
    images = np.stack([image for image, _ in records.values()])
    assert labels.shape == (8, 32, 48) and images.shape == (8, 32, 48, 3)
    assert set(np.unique(labels)) == {0, 1, 2, 3, 4}
    # Classes are separable by colour: mean colour per class near its own.
    colours = np.asarray(get_dataset_info("synthetic").colormap, float)
    for cls in range(5):
        mean = images[labels == cls].mean(0)
        assert np.argmin(np.abs(colours - mean).sum(1)) == cls
