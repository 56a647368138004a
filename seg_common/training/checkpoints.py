"""Checkpoints: atomic, resumable saving and warm starts from other runs."""

import os
import shutil

import tensorflow as tf
from absl import logging

from seg_common.training import strategy as strategy_lib


class CheckpointWriter:
    """A `tf.train.CheckpointManager` that only the chief keeps.

    `tf.train.CheckpointManager` writes the data files first and then
    atomically replaces the `checkpoint` index, so a run killed mid-save
    keeps pointing at the previous complete checkpoint. Under multi-worker
    training every worker must take part in saving; the non-chief workers
    write into a scratch folder that is deleted afterwards.

    Args:
        checkpoint: the `tf.train.Checkpoint` (model, optimizer, step).
        model_dir: the run's directory.
        strategy: the distribution strategy.
        max_to_keep: checkpoints kept in `model_dir`.
    """

    def __init__(self, checkpoint, model_dir, strategy, max_to_keep=3):
        self.model_dir = model_dir
        self.chief = strategy_lib.is_chief(strategy)
        _, task_id = strategy_lib.task_info(strategy)
        self.directory = (model_dir if self.chief else
                          os.path.join(model_dir, f"worker_tmp_{task_id}"))
        self.manager = tf.train.CheckpointManager(
            checkpoint, self.directory, max_to_keep=max_to_keep)
        self.checkpoint = checkpoint

    def save(self, step):
        """Saves checkpoint number `step`; returns its path (chief's)."""
        path = self.manager.save(checkpoint_number=step)
        if not self.chief:
            shutil.rmtree(self.directory, ignore_errors=True)
        return path

    def restore_latest(self):
        """Restores the newest checkpoint of `model_dir`.

        Returns:
            Its path, or None when the directory has no checkpoint.
        """
        path = tf.train.latest_checkpoint(self.model_dir)
        if path is not None:
            self.checkpoint.restore(path).assert_existing_objects_matched()
        return path


def resolve_checkpoint(path):
    """Returns the checkpoint prefix for a checkpoint or a directory.

    Raises:
        FileNotFoundError: nothing restorable at `path`.
    """
    if tf.io.gfile.isdir(path):
        latest = tf.train.latest_checkpoint(path)
        if latest is None:
            raise FileNotFoundError(f"No checkpoint in directory {path}")
        return latest
    if not tf.io.gfile.exists(path + ".index"):
        raise FileNotFoundError(f"No checkpoint at {path}")
    return path


def restore_model(model, path):
    """Restores only the model's weights from a training checkpoint.

    Args:
        model: a built keras model of the checkpoint's architecture.
        path: checkpoint prefix or model directory.

    Returns:
        The checkpoint prefix that was read.
    """
    path = resolve_checkpoint(path)
    status = tf.train.Checkpoint(model=model).restore(path)
    status.expect_partial().assert_existing_objects_matched()
    return path


def warm_start(model, path, source_model=None):
    """Initialises `model` from another run's checkpoint.

    With `source_model` (the checkpoint's own architecture, e.g. built with
    its class count) the checkpoint is read into it and every weight whose
    shape matches is copied, in order, into `model`: the class-dependent
    head is skipped and reported.

    Args:
        model: the model being trained.
        path: checkpoint prefix or model directory.
        source_model: optional model matching the checkpoint.

    Returns:
        list of the names of the skipped weights.
    """
    if source_model is None:
        restore_model(model, path)
        return []
    restore_model(source_model, path)
    if len(source_model.weights) != len(model.weights):
        raise ValueError(
            f"{path}: architecture differs ({len(source_model.weights)} vs "
            f"{len(model.weights)} weights); cannot warm-start.")
    skipped = []
    for source, target in zip(source_model.weights, model.weights):
        if tuple(source.shape) == tuple(target.shape):
            target.assign(source.value)
        else:
            skipped.append(target.path)
    logging.info("Warm start from %s; skipped (shape differs): %s", path,
                 skipped)
    return skipped
