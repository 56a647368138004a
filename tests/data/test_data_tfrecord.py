"""TFRecord round-trip, foreign (DeepLab / Model Garden) records, bad records."""

import os

import cv2
import numpy as np
import pytest
import tensorflow as tf

from seg_common.data import build_dataset
from seg_common.data import tfrecord
from tests.data import segdata_fakes


def _png(rgb):
    return cv2.imencode(".png", rgb[..., ::-1])[1].tobytes()


def _write_shard(path, examples):
    with tf.io.TFRecordWriter(path) as writer:
        for image, label in examples:
            writer.write(tfrecord.encode_example(
                _png(image), tfrecord.encode_label(label),
                filename="x.png", height=label.shape[0],
                width=label.shape[1]))


@pytest.fixture
def examples(rng):
    sizes = [(32, 48), (20, 30), (32, 48)]
    labels = [rng.integers(0, 12, s).astype(np.uint8) for s in sizes]
    labels[0][:4, :4] = 255
    return [(rng.integers(0, 256, l.shape + (3,)).astype(np.uint8), l)
            for l in labels]


def test_round_trip_identical_pixels_and_labels(tmp_path, examples):
    path = str(tmp_path / "train-00000-of-00001.tfrecord")
    _write_shard(path, examples)
    decoded = [tfrecord.decode_example(r)
               for r in tf.data.TFRecordDataset(path)]
    assert len(decoded) == len(examples)
    for (image, label), got in zip(examples, decoded):
        np.testing.assert_array_equal(got["image"].numpy(), image)
        np.testing.assert_array_equal(got["label"].numpy(), label)
        assert got["filename"].numpy() == b"x.png"
    assert tfrecord.verify_shards([path], decode=True) == 3


def test_reads_tf1_deeplab_style_record_with_jpeg():
    # Written exactly like TF1 DeepLab's build_data.image_seg_to_tfexample
    # (no image/channels key in older Model Garden records either).
    image = np.full((8, 10, 3), (200, 100, 50), np.uint8)
    label = np.arange(80, dtype=np.uint8).reshape(8, 10) % 21
    jpeg = cv2.imencode(".jpg", image[..., ::-1])[1].tobytes()
    def feature(v):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[v]))

    def ints(v):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[v]))

    example = tf.train.Example(features=tf.train.Features(feature={
        "image/encoded": feature(jpeg), "image/filename": feature(b"2007_1"),
        "image/format": feature(b"jpeg"), "image/height": ints(8),
        "image/width": ints(10), "image/channels": ints(3),
        "image/segmentation/class/encoded": feature(
            tfrecord.encode_label(label)),
        "image/segmentation/class/format": feature(b"png")}))
    got = tfrecord.decode_example(example.SerializeToString())
    np.testing.assert_array_equal(got["label"].numpy(), label)
    assert np.abs(got["image"].numpy().astype(int) - image).max() <= 3


def _shard_dir(tmp_path, examples):
    directory = tmp_path / "records"
    directory.mkdir()
    path = str(directory / "train-00000-of-00001.tfrecord")
    _write_shard(path, examples)
    return str(directory), path


def _record_starts(path):
    data = open(path, "rb").read()
    starts, offset = [], 0
    while offset < len(data):
        starts.append(offset)
        offset += 16 + int.from_bytes(data[offset:offset + 8], "little")
    return data, starts


def test_truncated_shard_names_shard_and_record(tmp_path, examples):
    directory, path = _shard_dir(tmp_path, examples)
    data, starts = _record_starts(path)
    open(path, "wb").write(data[:starts[2] + 40])  # cut inside record 2
    with pytest.raises(tfrecord.CorruptRecordError,
                       match=r"train-00000-of-00001.tfrecord: record 2 is "
                             r"truncated"):
        build_dataset(directory, split="train", batch_size=1,
                      crop_size=None, training=False)


def test_corrupt_record_names_shard_and_record(tmp_path, examples):
    directory, path = _shard_dir(tmp_path, examples)
    data, starts = bytearray(_record_starts(path)[0]), _record_starts(path)[1]
    data[starts[1] + 100] ^= 0xFF  # flip a payload byte of record 1
    open(path, "wb").write(bytes(data))
    with pytest.raises(tfrecord.CorruptRecordError,
                       match=r"tfrecord: record 1 is corrupt"):
        build_dataset(directory, split="train", batch_size=1,
                      crop_size=(16, 16), training=True)


def test_undecodable_image_names_shard_and_record(tmp_path, examples):
    path = str(tmp_path / "val-00000-of-00001.tfrecord")
    with tf.io.TFRecordWriter(path) as writer:
        writer.write(tfrecord.encode_example(
            _png(examples[0][0]), tfrecord.encode_label(examples[0][1]),
            filename="a", height=32, width=48))
        writer.write(tfrecord.encode_example(
            b"\x89PNG garbage", tfrecord.encode_label(examples[1][1]),
            filename="b", height=20, width=30))
    with pytest.raises(tfrecord.CorruptRecordError,
                       match=r"val-00000-of-00001.tfrecord: record 1 cannot "
                             r"be decoded"):
        tfrecord.verify_shards([path], decode=True)


def test_no_shards_names_the_pattern(tmp_path):
    with pytest.raises(ValueError, match="No TFRecord files match .*val-"):
        build_dataset(str(tmp_path), split="val", batch_size=1,
                      crop_size=None, training=False)


def test_colour_oracle_is_injective():
    colours = segdata_fakes.colour_of(np.arange(256)).reshape(256, 3)
    assert len({tuple(c) for c in colours}) == 256


def test_shard_names():
    assert os.path.basename(tfrecord.shard_path("d", "train", 3, 10)) == (
        "train-00003-of-00010.tfrecord")
