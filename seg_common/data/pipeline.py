"""`build_dataset`: TFRecords or TFDS -> batches a model can train on.

Yields `(images float32 (B, H, W, 3) RGB 0..255, labels int32 (B, H, W))`,
255 = ignore. Training batches have static shapes (crop size,
drop_remainder=True).
"""

import functools
import os

import tensorflow as tf

from seg_common.data import preprocess
from seg_common.data import tfds_source
from seg_common.data import tfrecord

AUTOTUNE = tf.data.AUTOTUNE
TFDS_PREFIX = "tfds:"


def shard_pattern(source, split):
    """The file pattern of a split.

    Args:
        source: a directory of `<split>-NNNNN-of-MMMMM.tfrecord` shards, a
            glob pattern (may contain "{split}") or one file.
        split: split name.

    Returns:
        str glob pattern.
    """
    if tf.io.gfile.isdir(source):
        return os.path.join(source, f"{split}-*-of-*.tfrecord")
    return source.replace("{split}", split)


def _records(source, split, training, input_context, verify):
    """(image, label) uint8 pairs decoded from TFRecord shards."""
    files = tfrecord.list_shards(shard_pattern(source, split))
    if verify:
        tfrecord.verify_shards(files)
    dataset = tf.data.Dataset.from_tensor_slices(files)
    shard_files = bool(input_context) and (
        len(files) >= input_context.num_input_pipelines)
    if shard_files:
        dataset = dataset.shard(input_context.num_input_pipelines,
                                input_context.input_pipeline_id)
    if training:
        dataset = dataset.shuffle(len(files))
    # Evaluation reads the shards one after the other: file order is kept.
    dataset = dataset.interleave(
        tf.data.TFRecordDataset,
        cycle_length=min(len(files), 8) if training else 1,
        num_parallel_calls=AUTOTUNE, deterministic=not training)
    if input_context and not shard_files:
        dataset = dataset.shard(input_context.num_input_pipelines,
                                input_context.input_pipeline_id)
    return dataset.map(lambda record: _image_label(
        tfrecord.decode_example(record)), num_parallel_calls=AUTOTUNE)


def _image_label(example):
    return example["image"], example["label"]


def build_dataset(source, *, split, batch_size, crop_size, training,
                  input_context=None, cache=False, shuffle_buffer=512,
                  repeat=None, verify=True, resize_size=None,
                  tfds_adapter=None, tfds_data_dir=None,
                  min_scale_factor=0.5, max_scale_factor=2.0,
                  scale_factor_step=0.25, max_rotation_degrees=10.0,
                  flip=True, mean_pixel=preprocess.MEAN_PIXEL,
                  ignore_label=255, jit_compile=True):
    """Builds the input pipeline of one split.

    Args:
        source: TFRecord directory / file pattern (see `shard_pattern`), or
            "tfds:<name>" for a TensorFlow Datasets source.
        split: split name ("train", "val", a TFDS split ...).
        batch_size: GLOBAL batch size; with `input_context` each replica
            gets `input_context.get_per_replica_batch_size(batch_size)`.
        crop_size: (height, width). Training: the random crop. Evaluation:
            pad to this size, or None to keep each image's own size.
        training: random augmentation, shuffling, repetition, and
            drop_remainder=True; else deterministic, one pass.
        input_context: `tf.distribute.InputContext` (from
            `distribute_datasets_from_function`), or None.
        cache: cache decoded examples in memory (fast, needs the RAM).
        shuffle_buffer: examples in the shuffle buffer (training).
        repeat: repeat forever; default `training`.
        verify: check the shards' framing and checksums first, so a bad
            record raises `CorruptRecordError` naming shard and index.
        resize_size: evaluation only, resize to (height, width) first.
        tfds_adapter: `TfdsAdapter` for TFDS sources without a built-in one.
        tfds_data_dir: TFDS data directory.
        min_scale_factor, max_scale_factor, scale_factor_step,
        max_rotation_degrees, flip, mean_pixel, ignore_label: augmentation
            (see `preprocess.parse_train`); evaluation uses only the last two.
        jit_compile: run the training warp under XLA (see `preprocess.warp`).

    Returns:
        tf.data.Dataset of (float32 (B, H, W, 3), int32 (B, H, W)).
    """
    if source.startswith(TFDS_PREFIX):
        dataset = tfds_source.load_tfds(
            source[len(TFDS_PREFIX):], split=split, training=training,
            input_context=input_context, adapter=tfds_adapter,
            data_dir=tfds_data_dir)
    else:
        dataset = _records(source, split, training, input_context, verify)
    dataset = shuffle_and_repeat(dataset, training=training, cache=cache,
                                 shuffle_buffer=shuffle_buffer, repeat=repeat)
    if training:
        parse = functools.partial(
            preprocess.parse_train, crop_size=crop_size,
            min_scale_factor=min_scale_factor,
            max_scale_factor=max_scale_factor,
            scale_factor_step=scale_factor_step,
            max_rotation_degrees=max_rotation_degrees, flip=flip,
            mean_pixel=mean_pixel, ignore_label=ignore_label,
            jit_compile=jit_compile)
    else:
        parse = functools.partial(
            preprocess.parse_eval, resize_size=resize_size,
            pad_size=crop_size, mean_pixel=mean_pixel,
            ignore_label=ignore_label)
    return parse_and_batch(dataset, parse, batch_size=batch_size,
                           training=training, input_context=input_context)


def shuffle_and_repeat(dataset, *, training, cache, shuffle_buffer, repeat):
    """Decoded examples -> cached (if `cache`), shuffled (training) and
    repeated (`repeat`, default `training`) examples."""
    if cache:
        dataset = dataset.cache()
    if training:
        dataset = dataset.shuffle(shuffle_buffer)
    if training if repeat is None else repeat:
        dataset = dataset.repeat()
    return dataset


def parse_and_batch(dataset, parse, *, batch_size, training, input_context):
    """Maps `parse` over the examples and batches them.

    Args:
        dataset: examples.
        parse: example -> (image, label), mapped in parallel
            (deterministic order unless `training`).
        batch_size: GLOBAL batch size; per replica with `input_context`.
        training: drop the last partial batch.
        input_context: `tf.distribute.InputContext`, or None.

    Returns:
        The batched, prefetched dataset.
    """
    if input_context:
        batch_size = input_context.get_per_replica_batch_size(batch_size)
    dataset = dataset.map(parse, num_parallel_calls=AUTOTUNE,
                          deterministic=not training)
    dataset = dataset.batch(batch_size, drop_remainder=training)
    return dataset.prefetch(AUTOTUNE)
