"""Image-classification input pipeline (CIFAR-style), from TFDS.

Yields `(images float32 (B, H, W, 3) RGB 0..255, labels int32 (B,))`. As for
the segmentation pipeline, the model normalises its input itself (the CIFAR
EncNet with the CIFAR mean/std); the pipeline only augments.

Training augmentation is the standard CIFAR one (He et al., 2016,
https://arxiv.org/abs/1512.03385, section 4.2): pad `padding` pixels of
zeros on every side, take a random `crop_size` window, flip left-right with
probability 0.5 (torchvision `RandomCrop(32, padding=4)` +
`RandomHorizontalFlip()`; the zeros are black pixels, padded before any
normalisation). Evaluation leaves the images as they are.
"""

import tensorflow as tf

from seg_common.data import pipeline
from seg_common.data import tfds_source


def checked_label(label, num_classes):
    """Returns `label` as int32, failing unless it lies in [0, num_classes).

    Args:
        label: integer scalar tensor.
        num_classes: number of classes C.

    Returns:
        int32 scalar tensor.

    Raises:
        tf.errors.InvalidArgumentError (when the dataset is iterated):
            "Label <value> is outside [0, C)".
    """
    label = tf.cast(label, tf.int32)
    valid = tf.logical_and(label >= 0, label < num_classes)
    check = tf.debugging.Assert(valid, [tf.strings.format(
        "Label {} is outside [0, {}).", (label, num_classes))])
    with tf.control_dependencies([check]):
        return tf.identity(label)


def pad_crop_flip(image, seed, *, crop_size=(32, 32), padding=4, flip=True):
    """Zero-pads, randomly crops and randomly flips one image.

    Args:
        image: (H, W, 3) image of any dtype.
        seed: int (2,) seed of the stateless random ops: the same seed gives
            the same window and flip.
        crop_size: (height, width) of the crop.
        padding: zero pixels added on each of the four sides.
        flip: random left-right flip with probability 0.5.

    Returns:
        (crop_height, crop_width, 3) tensor of the image's dtype: a window of
        the padded image, flipped or not.
    """
    padded = tf.pad(image, [[padding, padding], [padding, padding], [0, 0]])
    crop_seed, flip_seed = tf.unstack(
        tf.random.experimental.stateless_split(seed, 2))
    crop = tf.image.stateless_random_crop(
        padded, (crop_size[0], crop_size[1], 3), seed=crop_seed)
    if flip:
        crop = tf.image.stateless_random_flip_left_right(crop, seed=flip_seed)
    return crop


def _image_and_label(example):
    """A TFDS classification example ("image", "label") -> the pair."""
    return example["image"], example["label"]


def build_classification_dataset(source, *, split, batch_size, num_classes,
                                 training, crop_size=(32, 32), padding=4,
                                 flip=True, input_context=None, cache=False,
                                 shuffle_buffer=10_000, repeat=None,
                                 seed=None, tfds_data_dir=None):
    """Builds the input pipeline of one split of a classification dataset.

    Args:
        source: "tfds:<name>" of a TFDS dataset with an "image" (H, W, 3)
            uint8 and a "label" integer feature, e.g. "tfds:cifar10".
        split: TFDS split, e.g. "train", "test", "test[:10%]".
        batch_size: GLOBAL batch size; with `input_context` each replica
            gets `input_context.get_per_replica_batch_size(batch_size)`.
        num_classes: C; a label outside [0, C) fails naming the value.
        training: shuffle, repeat, augment (`pad_crop_flip`) and
            drop_remainder=True; else one deterministic pass, unchanged.
        crop_size, padding, flip: the training augmentation.
        input_context: `tf.distribute.InputContext` to shard by, or None.
        cache: cache the decoded examples in memory (CIFAR-10: 150 MB).
        shuffle_buffer: examples in the shuffle buffer (training).
        repeat: repeat forever; default `training`.
        seed: seed of the augmentation's random stream (None: random).
        tfds_data_dir: TFDS data directory, or None for the default.

    Returns:
        tf.data.Dataset of (float32 (B, H, W, 3), int32 (B,)).

    Raises:
        ValueError: `source` is not "tfds:<name>".
    """
    if not source.startswith(pipeline.TFDS_PREFIX):
        raise ValueError(f"Classification data come from TensorFlow "
                         f"Datasets (\"{pipeline.TFDS_PREFIX}<name>\", "
                         f"--tfds_name), got {source!r}.")
    dataset = tfds_source.load_tfds(
        source[len(pipeline.TFDS_PREFIX):], split=split, training=training,
        input_context=input_context, adapter=_image_and_label,
        data_dir=tfds_data_dir)
    dataset = pipeline.shuffle_and_repeat(
        dataset, training=training, cache=cache,
        shuffle_buffer=shuffle_buffer, repeat=repeat)

    def parse_eval(image, label):
        return tf.cast(image, tf.float32), checked_label(label, num_classes)

    def parse_train(example, example_seed):
        image, label = example
        return parse_eval(pad_crop_flip(image, example_seed,
                                        crop_size=crop_size, padding=padding,
                                        flip=flip), label)

    parse = parse_eval
    if training:   # one (2,) stateless seed per example
        dataset = tf.data.Dataset.zip(
            dataset, tf.data.Dataset.random(seed).batch(2))
        parse = parse_train
    return pipeline.parse_and_batch(dataset, parse, batch_size=batch_size,
                                    training=training,
                                    input_context=input_context)
