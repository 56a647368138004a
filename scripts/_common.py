"""Helpers shared by the absl scripts (flags are parsed only in scripts/)."""

import dataclasses
import json
import os
import sys

# Quieter TF start-up; must precede the first TensorFlow import.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags  # noqa: E402
from absl import logging  # noqa: E402

import _registry  # noqa: E402
from seg_common import data, training  # noqa: E402
from seg_common.training import model_dir as model_dir_lib  # noqa: E402


def define_source_flags():
    """--data_dir / --tfds_name: where examples come from."""
    flags.DEFINE_string("data_dir", None,
                        "Directory of <split>-NNNNN-of-MMMMM.tfrecord shards.")
    flags.DEFINE_string("tfds_name", None,
                        "TensorFlow Datasets name instead of --data_dir.")


def data_source(data_dir, tfds_name):
    """The `build_dataset` source string of --data_dir / --tfds_name."""
    if bool(data_dir) == bool(tfds_name):
        raise ValueError("Give exactly one of --data_dir and --tfds_name.")
    return data_dir if data_dir else data.pipeline.TFDS_PREFIX + tfds_name


def parse_overrides(items):
    """["field=value", ...] -> dict; values parsed as JSON when possible.

    Lists become tuples ("crop_size=[65,65]" -> (65, 65)).
    """
    overrides = {}
    for item in items or ():
        name, sep, text = item.partition("=")
        if not sep:
            raise ValueError(f"--override {item!r}: expected field=value.")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        overrides[name.strip()] = model_dir_lib.config_kwargs(
            {"config": {"v": value}})["v"]
    return overrides


def fail(message):
    """Logs an error and exits with status 1."""
    logging.error("%s", message)
    sys.exit(f"error: {message}")


def load_trained(model_dir, **config_overrides):
    """Rebuilds a trained model from its model directory.

    Args:
        model_dir: directory written by train.py.
        **config_overrides: Config fields changed for inference (e.g.
            output_stride); the weights must still fit.

    Returns:
        (record, config, model): config.json contents, the Config, the keras
        model with the latest checkpoint's weights.
    """
    record = model_dir_lib.read_record(model_dir)
    if record is None:
        raise FileNotFoundError(f"No config.json in {model_dir}: not a "
                                "model directory written by train.py.")
    package = _registry.get_package(record["model"])
    config = package.Config(**model_dir_lib.config_kwargs(record))
    config = dataclasses.replace(config, **config_overrides)
    model = package.build_model(config)
    path = training.restore_model(model, model_dir)
    logging.info("Restored %s", path)
    return record, config, model


def eval_dataset(source, split, config, batch_size, tfds_data_dir=None,
                 resize_size=None):
    """One deterministic pass over a split, images at their own size or
    resized to `resize_size` (height, width)."""
    return data.build_dataset(
        source, split=split, batch_size=batch_size, crop_size=None,
        training=False, ignore_label=config.ignore_label,
        tfds_data_dir=tfds_data_dir, resize_size=resize_size)


def train_dataset(source, config, input_context=None, cache=False):
    """Training batches of the training split with the config's augmentation."""
    return data.build_dataset(
        source, split="train", batch_size=config.batch_size,
        crop_size=config.crop_size, training=True,
        input_context=input_context, cache=cache,
        min_scale_factor=config.min_scale_factor,
        max_scale_factor=config.max_scale_factor,
        scale_factor_step=config.scale_factor_step,
        max_rotation_degrees=config.max_rotation_degrees,
        flip=config.flip, ignore_label=config.ignore_label)


def classification_dataset(source, split, config, batch_size, *, training,
                           input_context=None, cache=False):
    """Batches (images float32 (B,H,W,3) 0..255, labels int32 (B,)) of a
    classification split; training: the config's pad + crop + flip."""
    return data.build_classification_dataset(
        source, split=split, batch_size=batch_size,
        num_classes=config.num_classes, training=training,
        crop_size=config.crop_size, padding=config.crop_padding,
        flip=config.flip, input_context=input_context, cache=cache)


def recompute_bn_statistics(record, config, model, source, steps):
    """Bayesian SegNet's test-time batch-norm statistics from `steps`
    training batches with dropout off (spec 2.4); other models are refused."""
    if not _registry.is_bayesian(record["model"]):
        fail("--bn_statistics_steps is for --model=bayesian_segnet runs only.")
    package = _registry.get_package(record["model"])
    batches = package.recompute_bn_statistics(
        model, train_dataset(source, config), steps=steps)
    logging.info("Re-estimated batch-norm statistics over %d training "
                 "batches.", batches)


def colormap(record):
    """The colour map and class names of a run's dataset."""
    info = data.get_dataset_info(record["dataset"])
    return info.colormap, info.class_names
