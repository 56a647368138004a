"""Trains DeepLabv3+, Bayesian SegNet or EncNet (or the CIFAR-10 EncNet
classifier); rerun the same command to resume from the latest checkpoint.

    python scripts/train.py --model=deeplabv3plus --preset=tiny \
        --dataset=synthetic --data_dir=/tmp/synthetic --model_dir=/tmp/run
    python scripts/train.py --model=encnet_cifar --preset=16k64d \
        --dataset=cifar10 --tfds_name=cifar10 --model_dir=/tmp/cifar_run
"""

import contextlib
import dataclasses
import json
import math
import os
import shutil

import _cli
import _common  # sets TF log level before TensorFlow loads
import _registry
from _cli import UserError
from absl import flags, logging

import tensorflow as tf
from seg_common import data, hardware, training
from seg_common.data import datasets
from seg_common.data.class_weights import PRESETS as WEIGHT_PRESETS

FLAGS = flags.FLAGS
flags.DEFINE_enum("model", None, list(_registry.MODELS), "Model to train.")
flags.DEFINE_string("preset", "tiny", "Preset of the model's PRESETS.")
flags.DEFINE_enum("dataset", None, datasets.dataset_names(),
                  "Dataset (classes, colours, split sizes).")
_common.define_source_flags()
flags.DEFINE_string("model_dir", None, "Checkpoints, config.json, TensorBoard.")
flags.DEFINE_integer("train_steps", None, "Optimiser steps (default: preset).",
                     lower_bound=1)
flags.DEFINE_float("epochs", None, "Train this many epochs instead of steps.")
flags.DEFINE_integer("batch_size", None, "GLOBAL batch size.", lower_bound=1)
flags.DEFINE_list("crop_size", None, "Training crop: height,width, or one "
                  "value for a square (--crop_size=64 = 64,64).")
flags.DEFINE_float("base_learning_rate", None, "Peak learning rate.")
flags.DEFINE_enum("lr_schedule", None, list(training.LR_SCHEDULES),
                  "Decay after warm-up (preset: the paper's).")
flags.DEFINE_float("poly_power", None, "Power of the poly schedule.")
flags.DEFINE_integer("warmup_steps", 0, "Linear learning-rate warm-up steps.")
flags.DEFINE_float("momentum", None, "SGD momentum.")
flags.DEFINE_float("weight_decay", None,
                   "Coupled L2: the loss gets weight_decay/2*sum(w**2).")
flags.DEFINE_multi_string("override", [], "Any Config field: name=value.")
flags.DEFINE_string("class_weights", "config",
                    "config (the preset's) | none | median_frequency | a "
                    "preset of seg_common.data.class_weights | a JSON file.")
flags.DEFINE_enum("strategy", "default", list(training.STRATEGIES),
                  "tf.distribute strategy.")
flags.DEFINE_string("tpu", "", "TPU name/address for --strategy=tpu.")
flags.DEFINE_enum("mixed_precision", "auto",
                  ["auto", "none", "mixed_float16", "mixed_bfloat16"],
                  "Dtype policy. auto: mixed_bfloat16 where bfloat16 is "
                  "native (AMX / AVX512-BF16 CPUs, recent GPUs), else none "
                  "(float32); SEG_PRECISION=float32|bfloat16 overrides auto.")
flags.DEFINE_string("init_checkpoint", None,
                    "Warm start from a checkpoint or model dir; class-"
                    "dependent weights are skipped when the counts differ.")
flags.DEFINE_string("val_split", None, "Split validated during training "
                    "(default: val, or test for a dataset without val).")
flags.DEFINE_bool("validate", True, "Validate on --val_split during and at "
                  "the end of training; --novalidate skips it (e.g. when "
                  "evaluate.py with batch-norm re-estimation follows).")
flags.DEFINE_integer("eval_every", 0, "Validate every N steps (0: at end).")
flags.DEFINE_integer("val_mc_samples", 0, "Bayesian SegNet: MC dropout "
                     "samples per image of the validation during training; "
                     "0 = weight averaging (one pass per image). The full MC "
                     "evaluation (the config's num_samples, e.g. 50 passes "
                     "per image) is left to evaluate.py.")
flags.DEFINE_integer("eval_batches", None, "Batches per validation.")
flags.DEFINE_integer("eval_batch_size", None, "Validation batch size "
                     "(default: 1; classification: the training batch).")
flags.DEFINE_integer("checkpoint_every", 100, "Checkpoint every N steps.")
flags.DEFINE_integer("bn_statistics_steps", 50, "Training batches over "
                     "which the batch-norm statistics are recomputed for the "
                     "final weights after the last step (0: keep the moving "
                     "averages); see docs/training.md.", lower_bound=0)
flags.DEFINE_integer("log_every", 10, "Log/summary every N steps.")
flags.DEFINE_bool("cache", False, "Cache decoded examples in memory.")
# --data_dir, --precision, ... in --helpshort too.
flags.adopt_module_key_flags(_common)
flags.mark_flags_as_required(["model", "dataset", "model_dir"])

_RECIPE_FLAGS = ("train_steps", "batch_size", "base_learning_rate",
                 "lr_schedule", "poly_power", "momentum", "weight_decay")


def resolve_config(package, info):
    """The preset with the dataset's classes and the flag overrides."""
    if FLAGS.preset not in package.PRESETS:
        raise UserError(f"--preset={FLAGS.preset} is not a preset of "
                        f"--model={FLAGS.model}; choose one of "
                        f"{', '.join(package.PRESETS)}.")
    overrides = {"num_classes": info.num_classes,
                 "ignore_label": info.ignore_label}
    overrides.update({k: FLAGS[k].value for k in _RECIPE_FLAGS
                      if FLAGS[k].value is not None})
    if FLAGS.crop_size:
        overrides["crop_size"] = _cli.size("crop_size", FLAGS.crop_size)
    try:
        overrides.update(_common.parse_overrides(FLAGS.override))
        config = dataclasses.replace(package.PRESETS[FLAGS.preset],
                                     **overrides)
    except (TypeError, ValueError) as error:
        raise UserError(f"--override: {error}") from error
    if config.num_classes != info.num_classes:
        raise UserError(f"--override=num_classes={config.num_classes} does not "
                        f"match --dataset={FLAGS.dataset}, which has "
                        f"{info.num_classes} classes; drop the override (the "
                        "dataset sets the class count).")
    if FLAGS.class_weights == "none" and hasattr(
            package.PRESETS[FLAGS.preset], "class_weights"):
        config = dataclasses.replace(config, class_weights=None)
    if FLAGS.epochs:
        examples = info.splits.get("train") or data.tfrecord.count_records(
            _common.split_files(FLAGS.data_dir, "train"))
        steps = math.ceil(FLAGS.epochs * examples / config.batch_size)
        config = dataclasses.replace(config, train_steps=steps)
    return config


def class_weights(source, config):
    """The --class_weights choice as a list, or None (= the loss default)."""
    choice = FLAGS.class_weights
    if choice in ("config", "none"):
        return None
    if choice == "median_frequency":
        if _registry.is_classifier(FLAGS.model):
            raise UserError("--class_weights=median_frequency counts "
                            "segmentation pixels; give a JSON file.")
        return data.class_weights(source, split="train",
                                  num_classes=config.num_classes).tolist()
    if choice in WEIGHT_PRESETS:
        return data.preset_weights(choice).tolist()
    try:
        with open(choice) as f:
            weights = [float(w) for w in json.load(f)]
    except (OSError, ValueError, TypeError) as error:
        raise UserError(
            f"--class_weights={choice}: not a choice (config, none, "
            f"median_frequency, {', '.join(WEIGHT_PRESETS)}) nor a JSON file "
            f"holding a list of numbers ({error}).") from error
    if len(weights) != config.num_classes:
        raise UserError(f"--class_weights={choice} holds {len(weights)} "
                        f"weights; the dataset has {config.num_classes} "
                        "classes.")
    return weights


def dataset_fn(source, config):
    """(InputContext) -> per-replica training batches."""
    def fn(input_context):
        if _registry.is_classifier(FLAGS.model):
            return _common.classification_dataset(
                source, "train", config, config.batch_size, training=True,
                input_context=input_context, cache=FLAGS.cache)
        return _common.train_dataset(source, config, input_context,
                                     cache=FLAGS.cache)
    return fn


def make_validation(source, config, info):
    """The `training.Validation` of --val_split (with progress lines): mIoU
    and image summaries, or top-1 accuracy for a classifier."""
    split = FLAGS.val_split or ("val" if "val" in info.splits else "test")
    files = _common.split_files(source, split, "--val_split")
    if _registry.is_classifier(FLAGS.model):
        batch_size = FLAGS.eval_batch_size or config.batch_size
        dataset = _common.classification_dataset(
            source, split, config, batch_size, training=False)
        options = {"colormap": None,
                   "scores": training.classification_scores}
    else:
        batch_size = FLAGS.eval_batch_size or 1
        dataset = _common.eval_dataset(source, split, config, batch_size)
        options = {"colormap": info.colormap,
                   "make_predictor": validation_predictor(split),
                   "ignore_label": config.ignore_label}
    total = _common.num_batches(files, batch_size, FLAGS.eval_batches)
    return training.Validation(
        _common.CheckedBatches(dataset, files, config, f"validate {split}",
                               total),
        config.num_classes, max_batches=FLAGS.eval_batches, **options)


def validation_predictor(split):
    """Weight averaging, or --val_mc_samples MC dropout samples (announced:
    they cost that many forward passes per image)."""
    samples = FLAGS.val_mc_samples if _registry.is_bayesian(FLAGS.model) else 0
    if samples:
        logging.info("Validation on %s uses %d MC dropout samples: %d "
                     "forward passes per image; the first progress line "
                     "gives its ETA.", split, samples, samples)
    return _registry.training_predictor(FLAGS.model, samples)


def main(argv):
    del argv
    package = _registry.get_package(FLAGS.model)
    info = datasets.get_dataset_info(FLAGS.dataset)
    task = _registry.task(FLAGS.model)
    if task != info.task:
        raise UserError(f"--model={FLAGS.model} is a {task} model but "
                        f"--dataset={FLAGS.dataset} is a {info.task} "
                        "dataset.")
    source = _common.data_source(FLAGS.data_dir, FLAGS.tfds_name)
    train_files = _common.split_files(source, "train")
    config = resolve_config(package, info)
    validation = (make_validation(source, config, info) if FLAGS.validate
                  else None)
    weights = class_weights(source, config)
    policy = precision_policy()
    record = training.make_record(
        FLAGS.model, FLAGS.preset, config, FLAGS.dataset,
        training={"warmup_steps": FLAGS.warmup_steps, "class_weights": weights},
        runtime={"data_dir": FLAGS.data_dir, "tfds_name": FLAGS.tfds_name,
                 "strategy": FLAGS.strategy,
                 "mixed_precision": policy})
    with removed_on_failure(FLAGS.model_dir):
        try:
            training.prepare_model_dir(FLAGS.model_dir, record)
        except training.ConfigMismatchError as error:
            raise UserError(str(error)) from error
        result = fit(package, config, weights, source, validation,
                     train_files, policy)
    if "val" not in result:
        return
    scores = result["val"]["scores"]
    if _registry.is_classifier(FLAGS.model):
        logging.info("Final validation accuracy: %.4f (error %.2f %%)",
                     scores["accuracy"], scores["error_percent"])
    else:
        logging.info("Final validation mIoU: %.4f", scores["mean_iou"])


@contextlib.contextmanager
def removed_on_failure(model_dir):
    """A model directory this run creates is removed again when the run
    fails before its first checkpoint; one that existed is never touched."""
    created = not os.path.lexists(model_dir)
    try:
        yield
    except BaseException:
        if created and not tf.train.latest_checkpoint(model_dir):
            shutil.rmtree(model_dir, ignore_errors=True)
        raise


def precision_policy():
    """The dtype policy of --mixed_precision (auto follows the hardware),
    logged once."""
    try:
        policy = hardware.training_policy(FLAGS.mixed_precision)
    except ValueError as error:
        raise UserError(str(error)) from error
    cpu = hardware.describe_cpu()
    logging.info("Training in %s (--mixed_precision=%s; %s: %s).",
                 "float32" if policy == "none" else policy,
                 FLAGS.mixed_precision, cpu["model"],
                 ", ".join(cpu["extensions"]) or "no AVX2")
    return policy


def fit(package, config, weights, source, validation, train_files, policy):
    """Builds the Trainer and trains; a label above the classes or a
    non-finite loss becomes a `UserError`."""
    training.set_mixed_precision(policy)
    strategy = training.get_strategy(FLAGS.strategy, FLAGS.tpu)
    trainer = training.Trainer(
        strategy, lambda: package.build_model(config),
        package.build_loss(config, class_weights=weights), config,
        training.LoopOptions(
            train_steps=config.train_steps, warmup_steps=FLAGS.warmup_steps,
            checkpoint_every=FLAGS.checkpoint_every,
            log_every=FLAGS.log_every, eval_every=FLAGS.eval_every,
            bn_statistics_steps=FLAGS.bn_statistics_steps),
        FLAGS.model_dir)
    if FLAGS.init_checkpoint and not tf.train.latest_checkpoint(
            FLAGS.model_dir):
        warm_start(package, config, trainer, strategy)
    try:
        return trainer.fit(dataset_fn(source, config), validation)
    except training.NonFiniteLossError as error:
        raise UserError(str(error)) from error
    except tf.errors.InvalidArgumentError:
        mistake = _common.label_error(
            train_files, config.num_classes, config.ignore_label,
            f"give --data_dir the records of --dataset={FLAGS.dataset}, or "
            "the --dataset these records were built from.")
        if mistake is None:
            raise
        raise mistake from None


def warm_start(package, config, trainer, strategy):
    """--init_checkpoint: copy weights, skipping a differing class head."""
    path = FLAGS.init_checkpoint
    source = training.read_record(
        path if os.path.isdir(path) else os.path.dirname(path))
    with strategy.scope():
        source_model = None
        if source and source["num_classes"] != config.num_classes:
            source_model = package.build_model(dataclasses.replace(
                config, num_classes=source["num_classes"]))
        training.warm_start(trainer.model, FLAGS.init_checkpoint,
                            source_model)


if __name__ == "__main__":
    _cli.run(main)
