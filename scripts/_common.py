"""Helpers shared by the absl scripts (flags are parsed only in scripts/)."""

import dataclasses
import json
import math
import os

# Quieter TF start-up; must precede the first TensorFlow import.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags  # noqa: E402
from absl import logging  # noqa: E402

import _registry  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from _cli import UserError  # noqa: E402
from seg_common import data, hardware, progress, training  # noqa: E402
from seg_common.data import checks  # noqa: E402
from seg_common.training import model_dir as model_dir_lib  # noqa: E402


def define_source_flags():
    """--data_dir / --tfds_name: where examples come from."""
    flags.DEFINE_string("data_dir", None,
                        "Directory of <split>-NNNNN-of-MMMMM.tfrecord shards.")
    flags.DEFINE_string("tfds_name", None,
                        "TensorFlow Datasets name instead of --data_dir.")


def define_precision_flag():
    """--precision: auto (bfloat16 where the CPU or GPU computes it
    natively, else float32), float32 or bfloat16."""
    flags.DEFINE_enum(
        "precision", "auto", list(hardware.PRECISIONS),
        "Inference precision: auto = bfloat16 where native (AMX / "
        "AVX512-BF16 CPUs, recent GPUs), else float32 (the environment "
        "variable SEG_PRECISION=float32|bfloat16 decides auto instead).")


def inference_setup(record, config, model, precision):
    """The fast inference twin of a segmentation model and its metadata.

    Returns:
        (fast model (`_registry.inference_model`) or `model` for
        classifiers, resolved precision, {"precision", "cpu"} to record).
    """
    try:
        resolved = hardware.resolve_precision(precision)
    except ValueError as error:
        raise UserError(str(error)) from error
    if _registry.is_classifier(record["model"]):
        fast, resolved = model, "float32"
    else:
        fast, _ = _registry.inference_model(
            record["model"], config, model, resolved)
    return fast, resolved, {"precision": resolved,
                            "cpu": hardware.describe_cpu()}


def data_source(data_dir, tfds_name):
    """The `build_dataset` source string of --data_dir / --tfds_name."""
    if not (data_dir or tfds_name):
        raise UserError("--data_dir is missing: give the --output_dir of "
                        "scripts/build_tfrecords.py (or --tfds_name).")
    if data_dir and tfds_name:
        raise UserError("Give one of --data_dir and --tfds_name, not both.")
    return data_dir if data_dir else data.pipeline.TFDS_PREFIX + tfds_name


def split_files(source, split, flag=None):
    """The TFRecord shards of `split` (None for a TFDS source).

    Args:
        source: the --data_dir (or a TFDS source).
        split: split name.
        flag: the flag that chose the split ("--split"), or None for the
            training split.

    Raises:
        UserError: naming the flag and what to do: a missing directory, a
            dataset's own folder that was never converted, or a split it
            does not hold.
    """
    if source.startswith(data.pipeline.TFDS_PREFIX):
        return None
    files = sorted(tf.io.gfile.glob(data.pipeline.shard_pattern(source,
                                                                split)))
    if files:
        return files
    if not tf.io.gfile.isdir(source):
        raise UserError(f"--data_dir={source}: no such directory (nor "
                        "matching files); give the --output_dir of "
                        "scripts/build_tfrecords.py.")
    splits = checks.available_splits(source)
    if not splits:
        raise UserError(
            f"--data_dir={source} holds no TFRecord shards; if it is a "
            "dataset's own folder, convert it first: python scripts/"
            f"build_tfrecords.py --dataset=<name> --data_dir={source} "
            "--output_dir=<records dir>, and pass that as --data_dir.")
    where = (f"{flag}={split}: {source} has" if flag else
             f"--data_dir={source} has")
    raise UserError(f"{where} no {split}-*-of-*.tfrecord shards"
                    f"{'' if flag else ' (training reads them)'}; its "
                    f"splits: {', '.join(splits)}.")


def label_error(files, num_classes, ignore_label, what_to_do):
    """A UserError naming the first record whose labels exceed
    `num_classes`, or None when every label fits."""
    found = checks.first_label_above(files or (), num_classes, ignore_label)
    if found is None:
        return None
    path, index, filename, value = found
    return UserError(
        f"{checks.describe_record(path, index, filename)} has label "
        f"{value}, but the model has {num_classes} classes (0..."
        f"{num_classes - 1}, {ignore_label} = ignore); {what_to_do}")


class CheckedBatches:
    """Re-iterable `batches` with progress lines (`seg_common.progress`);
    a batch with a label above the model's classes raises the UserError of
    `label_error`, naming the record.

    Args:
        batches: re-iterable (images, labels) batches.
        files: the shards they come from (None: TFDS).
        config: the model's Config (num_classes, ignore_label).
        what: the name of the pass in the progress lines.
        total: batches per pass, or None when unknown.
    """

    def __init__(self, batches, files, config, what, total):
        self.batches, self.files, self.config = batches, files, config
        self.what, self.total = what, total

    def __iter__(self):
        classes = self.config.num_classes
        for images, labels in progress.track(self.batches, self.what,
                                             self.total):
            values = np.asarray(labels)
            values = values[values != self.config.ignore_label]
            if values.size and values.max() >= classes:
                raise label_error(
                    self.files, classes, self.config.ignore_label,
                    "use records of the run's dataset (--data_dir)."
                ) or UserError(f"{self.what}: label {values.max()} is above "
                               f"the model's {classes} classes.")
            yield images, labels


def num_batches(files, batch_size, max_batches=None):
    """Batches of one pass over the shards (None when unknown)."""
    if not files:
        return max_batches
    total = math.ceil(data.tfrecord.count_records(files) / batch_size)
    return min(total, max_batches) if max_batches else total


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
    record = model_dir_lib.read_record(model_dir or "")
    if record is None:
        raise UserError(f"--model_dir={model_dir} has no config.json: it is "
                        "not a directory written by train.py; give the "
                        "--model_dir a training run wrote.")
    package = _registry.get_package(record["model"])
    config = package.Config(**model_dir_lib.config_kwargs(record))
    config = dataclasses.replace(config, **config_overrides)
    model = package.build_model(config)
    if not tf.train.latest_checkpoint(model_dir):
        raise UserError(f"--model_dir={model_dir} has no checkpoint yet; "
                        "train it (scripts/train.py) before using it.")
    path = training.restore_model(model, model_dir)
    logging.info("Restored %s", path)
    return record, config, model


def load_shipped(name):
    """(record, config, model) of the Bayesian SegNet weights shipped in the
    package under `name` (`bayesian_segnet_tf.pretrained.PRETRAINED`); the
    record names the model and dataset as a run's config.json does."""
    import bayesian_segnet_tf
    try:
        model = bayesian_segnet_tf.build_model(weights=name)
    except ValueError as error:
        raise UserError(f"--weights={name}: {error}") from error
    entry = bayesian_segnet_tf.pretrained.pretrained_entry(name)
    config = bayesian_segnet_tf.Config(**entry.config)
    return ({"model": "bayesian_segnet", "dataset": entry.dataset,
             "runtime": {}}, config, model)


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
    training batches with dropout off (the SegNet tutorial's
    compute_bn_statistics step); other models are refused."""
    if not _registry.is_bayesian(record["model"]):
        raise UserError("--bn_statistics_steps is for --model="
                        "bayesian_segnet runs only.")
    split_files(source, "train")
    logging.info("Re-estimating batch-norm statistics over %d training "
                 "batches: forward passes only, roughly a third of the time "
                 "of %d training steps.", steps, steps)
    package = _registry.get_package(record["model"])
    batches = package.recompute_bn_statistics(
        model, train_dataset(source, config), steps=steps)
    logging.info("Re-estimated batch-norm statistics over %d training "
                 "batches.", batches)


def colormap(record):
    """The colour map and class names of a run's dataset (a converted model
    of no registered dataset, e.g. SegNet's 12-class driving demo: PASCAL
    colours and the class ids)."""
    if record.get("dataset") is None:
        count = record["num_classes"]
        return data.datasets.pascal_colormap(count), tuple(
            str(i) for i in range(count))
    info = data.get_dataset_info(record["dataset"])
    return info.colormap, info.class_names
