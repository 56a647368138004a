"""build_dataset on tiny synthetic records; class weights; TFDS sources."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from seg_common.data import build_dataset
from seg_common.data import class_weights
from seg_common.data import preset_weights
from seg_common.data import tfrecord
from seg_common.data.builders import build
from seg_common.data.builders import synthetic


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("synthetic"))
    build("synthetic", output_dir=directory, splits=["train"], num_shards=2,
          num_examples=8, image_size=(32, 48), seed=3)
    return directory


def test_eval_yields_every_example_unchanged(records):
    dataset = build_dataset(records, split="train", batch_size=1,
                            crop_size=None, training=False)
    got = [(i.numpy()[0], l.numpy()[0]) for i, l in dataset]
    assert len(got) == 8
    expected = [synthetic.render(3, "train", k, (32, 48)) for k in range(8)]
    for (image, label), (want_image, want_label) in zip(got, expected):
        assert image.dtype == np.float32 and label.dtype == np.int32
        np.testing.assert_array_equal(image, want_image)
        np.testing.assert_array_equal(label, want_label)


def test_eval_pads_to_crop_size(records):
    images, labels = next(iter(build_dataset(
        records, split="train", batch_size=4, crop_size=(40, 50),
        training=False, mean_pixel=(1.0, 2.0, 3.0))))
    assert images.shape == (4, 40, 50, 3)
    assert (labels.numpy()[:, 32:] == 255).all()
    assert (images.numpy()[:, :, 48:] == (1.0, 2.0, 3.0)).all()


def test_training_batches_are_static_and_augmented(records):
    dataset = build_dataset(records, split="train", batch_size=3,
                            crop_size=(24, 24), training=True, cache=True)
    assert dataset.element_spec[0].shape == (3, 24, 24, 3)
    assert dataset.element_spec[1].shape == (3, 24, 24)
    labels = np.concatenate([l.numpy() for _, l in dataset.take(10)])
    assert set(np.unique(labels)) <= {0, 1, 2, 3, 4, 255}
    assert len(np.unique(labels)) >= 4  # repeats past the 8 examples


def test_input_context_shards_and_splits_batch(records):
    seen = []
    for pipeline_id in range(2):
        context = tf.distribute.InputContext(
            num_input_pipelines=2, input_pipeline_id=pipeline_id,
            num_replicas_in_sync=2)
        batches = list(build_dataset(records, split="train", batch_size=4,
                                     crop_size=None, training=False,
                                     input_context=context))
        assert all(images.shape[0] == 2 for images, _ in batches)
        seen += [img.numpy().tobytes() for images, _ in batches
                 for img in images]
    expected = {synthetic.render(3, "train", k, (32, 48))[0].astype(
        np.float32).tobytes() for k in range(8)}
    assert len(seen) == 8 and set(seen) == expected


def _write_labels(directory, labels):
    path = f"{directory}/train-00000-of-00001.tfrecord"
    with tf.io.TFRecordWriter(path) as writer:
        for label in labels:
            label = np.asarray(label, np.uint8)
            writer.write(tfrecord.encode_example(
                tfrecord.encode_label(label), tfrecord.encode_label(label),
                filename="l", height=label.shape[0], width=label.shape[1]))


def test_median_frequency_weights_by_hand(tmp_path):
    _write_labels(str(tmp_path), [[[0, 0, 1, 255]], [[0, 2, 2, 2]]])
    # freq: class 0 = 3/8, class 1 = 1/4, class 2 = 3/4 (ignore counts in
    # the image total); median 3/8 -> weights 1, 1.5, 0.5; class 3 unseen.
    weights = class_weights(str(tmp_path), split="train", num_classes=4)
    np.testing.assert_allclose(weights, [1.0, 1.5, 0.5, 0.0], rtol=1e-6)


def test_segnet_tutorial_preset():
    weights = preset_weights("camvid_segnet_tutorial")
    assert weights.shape == (11,) and weights[6] == pytest.approx(9.6446)
    with pytest.raises(ValueError, match="camvid_median_frequency"):
        preset_weights("nope")


def _pet_examples(num):
    """Oxford pet examples whose image is a function of the trimap."""
    rng = np.random.default_rng(0)
    masks = rng.integers(1, 4, (num, 6, 8, 1)).astype(np.uint8)
    return {"image": masks.repeat(3, -1) * 60, "segmentation_mask": masks}


def test_tfds_source_with_mock_data():
    data = _pet_examples(4)

    def as_dataset(self, *args, **kwargs):
        del args, kwargs
        return tf.data.Dataset.from_tensor_slices(data)

    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        evaluation = list(build_dataset(
            "tfds:oxford_iiit_pet", split="train", batch_size=1,
            crop_size=None, training=False))
        training = next(iter(build_dataset(
            "tfds:oxford_iiit_pet", split="train", batch_size=2,
            crop_size=(5, 5), training=True)))
    expected = np.array([255, 1, 0, 255])[data["segmentation_mask"][..., 0]]
    np.testing.assert_array_equal(
        np.concatenate([l.numpy() for _, l in evaluation]), expected)
    np.testing.assert_array_equal(evaluation[2][0].numpy()[0],
                                  data["image"][2])
    assert training[0].shape == (2, 5, 5, 3)
    assert set(np.unique(training[1])) <= {0, 1, 255}


def test_tfds_random_mock_scene_parse150_shapes():
    with tfds.testing.mock_data(num_examples=2):
        images, labels = next(iter(build_dataset(
            "tfds:scene_parse150", split="train", batch_size=2,
            crop_size=(16, 16), training=True)))
    assert images.shape == (2, 16, 16, 3) and labels.shape == (2, 16, 16)
    assert labels.numpy().max() <= 255 and labels.numpy().min() >= 0
