"""Classification pipeline: pad-4 crop + flip against a NumPy oracle, the
eval path, label checks, TFDS through a fake cifar10."""

import numpy as np
import pytest
import tensorflow as tf

from seg_common.data import build_classification_dataset
from seg_common.data.classification import pad_crop_flip
from tests.data.cifar10_fake import fake_cifar10, mock_cifar10


def _find_window(crop, image, padding):
    """Oracle: the (dy, dx, flipped) windows of the zero-padded image equal
    to `crop`."""
    padded = np.pad(image, [(padding, padding), (padding, padding), (0, 0)])
    height, width = crop.shape[:2]
    found = []
    for dy in range(padded.shape[0] - height + 1):
        for dx in range(padded.shape[1] - width + 1):
            window = padded[dy:dy + height, dx:dx + width]
            for flipped in (False, True):
                if np.array_equal(crop, window[:, ::-1] if flipped
                                  else window):
                    found.append((dy, dx, flipped))
    return found


def test_pad_crop_flip_is_a_window_of_the_zero_padded_image():
    # values 1..255: a zero in a crop can only be padding
    image = np.random.default_rng(0).integers(1, 256, (32, 32, 3), np.uint8)
    windows = []
    for seed in range(24):
        crop = pad_crop_flip(tf.constant(image), tf.constant([seed, 7]),
                             crop_size=(32, 32), padding=4).numpy()
        assert crop.shape == (32, 32, 3) and crop.dtype == np.uint8
        found = _find_window(crop, image, 4)
        assert len(found) == 1, seed
        windows.append(found[0])
        again = pad_crop_flip(tf.constant(image), tf.constant([seed, 7]),
                              crop_size=(32, 32), padding=4).numpy()
        np.testing.assert_array_equal(crop, again)   # the seed decides
    assert {f for _, _, f in windows} == {False, True}
    assert len({(dy, dx) for dy, dx, _ in windows}) > 5
    assert all(0 <= dy <= 8 and 0 <= dx <= 8 for dy, dx, _ in windows)


def test_without_flip_the_window_is_never_mirrored():
    image = np.random.default_rng(1).integers(1, 256, (8, 8, 3), np.uint8)
    for seed in range(10):
        crop = pad_crop_flip(tf.constant(image), tf.constant([seed, 0]),
                             crop_size=(8, 8), padding=2, flip=False).numpy()
        assert [f for _, _, f in _find_window(crop, image, 2)] == [False]


def test_training_batches_are_augmented_windows_of_the_examples():
    examples = fake_cifar10("train")
    with mock_cifar10():
        images, labels = next(iter(build_classification_dataset(
            "tfds:cifar10", split="train", batch_size=8, num_classes=10,
            training=True, seed=0)))
    assert images.shape == (8, 32, 32, 3) and images.dtype == tf.float32
    assert labels.shape == (8,) and labels.dtype == tf.int32
    for image, label in zip(images.numpy(), labels.numpy()):
        sources = [i for i in range(len(examples["label"]))
                   if _find_window(image.astype(np.uint8),
                                   examples["image"][i], 4)]
        assert sources and all(examples["label"][i] == label
                               for i in sources)


def test_eval_batches_are_the_examples_in_order_every_time():
    examples = fake_cifar10("test")
    with mock_cifar10():
        dataset = build_classification_dataset(
            "tfds:cifar10", split="test", batch_size=8, num_classes=10,
            training=False)
        passes = [[(i.numpy(), l.numpy()) for i, l in dataset]
                  for _ in range(2)]
    for batches in passes:
        assert [len(l) for _, l in batches] == [8, 8, 4]  # no drop
        np.testing.assert_array_equal(
            np.concatenate([i for i, _ in batches]), examples["image"])
        np.testing.assert_array_equal(
            np.concatenate([l for _, l in batches]), examples["label"])


def test_replica_batch_and_bad_inputs():
    context = tf.distribute.InputContext(2, 1, 2)
    with mock_cifar10():
        images, _ = next(iter(build_classification_dataset(
            "tfds:cifar10", split="train", batch_size=8, num_classes=10,
            training=True, input_context=context)))
    assert images.shape == (4, 32, 32, 3)
    with pytest.raises(ValueError, match="tfds:"):
        build_classification_dataset("/data/cifar", split="train",
                                     batch_size=2, num_classes=10,
                                     training=True)


def test_a_label_outside_the_classes_is_named():
    def bad(split):
        examples = fake_cifar10(split)
        examples["label"][3] = 12
        return examples
    with mock_cifar10(bad):
        dataset = build_classification_dataset(
            "tfds:cifar10", split="test", batch_size=4, num_classes=10,
            training=False)
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"Label 12 is outside \[0, 10\)"):
            list(dataset)
