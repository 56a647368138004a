"""The model-agnostic custom training loop over a tf.distribute strategy."""

import dataclasses
import time
from typing import Any, Callable, Optional

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from seg_common import losses, progress
from seg_common.training import bn_statistics, evaluation, schedules
from seg_common.training import summaries
from seg_common.training import strategy as strategy_lib
from seg_common.training.checkpoints import CheckpointWriter


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or Inf; the last good checkpoint is kept."""


@dataclasses.dataclass(frozen=True)
class LoopOptions:
    """Options of the loop that are not part of a model's Config.

    Args:
        train_steps: total number of optimiser steps.
        warmup_steps: linear learning-rate warm-up length.
        checkpoint_every: save every this many steps (and at the end).
        log_every: log scalars and progress every this many steps.
        eval_every: validate every this many steps (0 = at the end only).
        max_checkpoints: checkpoints kept.
        bn_statistics_steps: training batches from which the run finally
            recomputes its batch-norm statistics (`bn_statistics`; 0: keep
            the moving averages).
    """
    train_steps: int
    warmup_steps: int = 0
    checkpoint_every: int = 100
    log_every: int = 10
    eval_every: int = 0
    max_checkpoints: int = 3
    bn_statistics_steps: int = 50


@dataclasses.dataclass
class Validation:
    """What to validate on during training.

    Args:
        dataset: re-iterable (images (B,H,W,3), labels (B,H,W)) batches, or
            labels (B,) for a classifier.
        num_classes: C.
        colormap: (C, 3) uint8 colours for the image summaries, or None
            for none (classification).
        make_predictor: model -> fn(images) -> dict with "labels" (and
            "uncertainty" for models that estimate it); called at each
            validation, so it may snapshot the weights.
        ignore_label: label that is not scored.
        max_batches: batches per validation (None = whole dataset).
        scores: `evaluate` result of one predictor -> dict of the scalars
            logged and written to TensorBoard (`evaluation.
            segmentation_scores` or `evaluation.classification_scores`).
    """
    dataset: Any
    num_classes: int
    colormap: Any
    make_predictor: Callable = evaluation.softmax_predictor
    ignore_label: int = 255
    max_batches: Optional[int] = None
    scores: Callable = evaluation.segmentation_scores


def set_mixed_precision(name):
    """Sets the global Keras dtype policy ("none" = float32)."""
    keras.mixed_precision.set_dtype_policy("float32" if name == "none"
                                           else name)


class Trainer:
    """Builds model and optimiser in a strategy's scope and trains them.

    The total loss is `loss_fn(...)["loss"] + weight_decay / 2 * sum(w**2)`
    over trainable weights whose path contains none of
    `config.weight_decay_exclude`; each replica's loss is divided by the
    number of replicas (Keras sums gradients over replicas), and gradients of
    weights matching `config.lr_multipliers` are scaled by the multiplier.

    Args:
        strategy: a `tf.distribute.Strategy`.
        model_fn: () -> keras model with a dict output holding "logits".
        loss_fn: (labels, outputs) -> dict of scalars with key "loss".
        config: the model's Config (recipe fields read: base_learning_rate,
            lr_schedule, poly_power, momentum, weight_decay,
            weight_decay_exclude, lr_multipliers).
        options: `LoopOptions`.
        model_dir: where checkpoints and summaries go.
    """

    def __init__(self, strategy, model_fn, loss_fn, config, options,
                 model_dir):
        self.strategy, self.loss_fn, self.options = strategy, loss_fn, options
        self.schedule = schedules.WarmupDecay(
            config.base_learning_rate, options.train_steps,
            config.lr_schedule, config.poly_power, options.warmup_steps)
        with strategy.scope():
            self.model = model_fn()
            self.optimizer = keras.optimizers.SGD(self.schedule,
                                                  momentum=config.momentum)
            if keras.mixed_precision.dtype_policy().name == "mixed_float16":
                self.optimizer = keras.optimizers.LossScaleOptimizer(
                    self.optimizer)
            self.optimizer.build(self.model.trainable_variables)
            self.step = tf.Variable(
                0, dtype=tf.int64, trainable=False, name="step",
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        variables = self.model.trainable_variables
        self._weight_decay = float(config.weight_decay)
        self._weight_decay_exclude = tuple(config.weight_decay_exclude)
        self._multipliers = schedules.lr_multipliers(variables,
                                                     config.lr_multipliers)
        checkpoint = tf.train.Checkpoint(model=self.model,
                                         optimizer=self.optimizer,
                                         step=self.step)
        self.checkpoints = CheckpointWriter(checkpoint, model_dir, strategy,
                                            options.max_checkpoints)
        self.summary_writer = (
            tf.summary.create_file_writer(f"{model_dir}/train")
            if strategy_lib.is_chief(strategy)
            else tf.summary.create_noop_writer())

    def _weight_decay_term(self):
        return losses.weight_decay_loss(self.model.trainable_variables,
                                        self._weight_decay,
                                        self._weight_decay_exclude)

    def _replica_step(self, images, labels):
        variables = self.model.trainable_variables
        replicas = self.strategy.num_replicas_in_sync
        with tf.GradientTape() as tape:
            outputs = self.model(images, training=True)
            terms = dict(self.loss_fn(labels, outputs))
            terms["weight_decay"] = self._weight_decay_term()
            terms["total_loss"] = terms["loss"] + terms["weight_decay"]
            scaled = self.optimizer.scale_loss(terms["total_loss"] / replicas)
        grads = tape.gradient(scaled, variables)
        grads = [g if m == 1 or g is None else g * m
                 for g, m in zip(grads, self._multipliers)]
        self.optimizer.apply_gradients(zip(grads, variables))
        return terms

    @tf.function
    def train_step(self, iterator):
        """One optimiser step on the next global batch; returns mean terms."""
        images, labels = next(iterator)
        terms = self.strategy.run(self._replica_step, args=(images, labels))
        self.step.assign_add(1)
        return {k: self.strategy.reduce("MEAN", v, axis=None)
                for k, v in terms.items()}

    def fit(self, dataset_fn, validation=None):
        """Trains up to `options.train_steps`, resuming from `model_dir`.

        The last step is followed by recomputing the batch-norm statistics
        (`options.bn_statistics_steps` more batches of `dataset_fn`), then
        the last checkpoint and validation.

        Args:
            dataset_fn: (tf.distribute.InputContext) -> dataset of per-replica
                batches (images, labels), repeated indefinitely.
            validation: optional `Validation`, run every `eval_every` steps
                and at the end; its scores go to TensorBoard.

        Returns:
            dict: the last step's loss terms and, with validation, the last
            validation result (key "val": the `evaluation.evaluate` format
            plus "scores", `validation.scores` of it).

        Raises:
            NonFiniteLossError: the loss became NaN/Inf (nothing is saved).
        """
        restored = self.checkpoints.restore_latest()
        step = int(self.step.numpy())
        logging.info("%s at step %d of %d.", "Resumed from " + restored
                     if restored else "Starting", step,
                     self.options.train_steps)
        iterator = iter(self.strategy.distribute_datasets_from_function(
            dataset_fn))
        result, start, start_step = {}, time.time(), step
        while step < self.options.train_steps:
            values = {k: float(v) for k, v in
                      self.train_step(iterator).items()}
            step += 1
            self._check_finite(step, values)
            result.update(values)
            self._log(step, values, start, start_step)
            if step == self.options.train_steps:
                self._recompute_bn_statistics(iterator)
            if self._due(step, self.options.checkpoint_every):
                self.checkpoints.save(step)
            if validation and self._due(step, self.options.eval_every):
                result["val"] = self._validate(step, validation)
        return result

    def _recompute_bn_statistics(self, iterator):
        """The population BN statistics of the final weights (saved with the
        last checkpoint; `bn_statistics` says why)."""
        steps = self.options.bn_statistics_steps
        if steps:
            bn_statistics.recompute_bn_statistics(self.model, iterator, steps,
                                                  self.strategy)
            logging.info("Recomputed the batch-norm statistics over %d "
                         "training batches.", steps)

    def _due(self, step, every):
        return step == self.options.train_steps or (every and step % every == 0)

    def _check_finite(self, step, values):
        if np.isfinite(values["total_loss"]):
            return
        latest = tf.train.latest_checkpoint(self.checkpoints.model_dir)
        advice = (f"the last good checkpoint is {latest}: start a new run "
                  "from it (--init_checkpoint) with a lower learning rate or "
                  "a warm-up" if latest else "no checkpoint was written yet:"
                  " start again with a lower learning rate or a warm-up")
        terms = ", ".join(f"{k} {v:.4g}" for k, v in values.items())
        raise NonFiniteLossError(f"Loss is {values['total_loss']} at step "
                                 f"{step} ({terms}); stopping, {advice}.")

    def _log(self, step, values, start, start_step):
        if not self._due(step, self.options.log_every):
            return
        lr = float(self.schedule(self.optimizer.iterations - 1))
        summaries.write_scalars(self.summary_writer, step,
                                dict(values, learning_rate=lr), "train/")
        rate = (step - start_step) / max(time.time() - start, 1e-9)
        eta = (self.options.train_steps - step) / max(rate, 1e-9)
        logging.info("step %d/%d  loss %.4f (data %.4f + weight decay %.4f)  "
                     "lr %.5f  %.2f steps/s  ETA %s", step,
                     self.options.train_steps, values["total_loss"],
                     values["loss"], values["weight_decay"], lr, rate,
                     progress.format_duration(eta))

    def _validate(self, step, validation):
        def images_once(index, images, labels, outputs):
            if index == 0:
                summaries.write_images(self.summary_writer, step, images,
                                       labels, outputs, validation.colormap)
        predictor = validation.make_predictor(self.model)  # sees new weights
        result = evaluation.evaluate(
            {"val": predictor}, validation.dataset, validation.num_classes,
            validation.ignore_label, validation.max_batches,
            on_batch=None if validation.colormap is None else images_once
        )["val"]
        result["scores"] = validation.scores(result)
        summaries.write_scalars(self.summary_writer, step, result["scores"],
                                "val/")
        self.summary_writer.flush()
        logging.info("step %d validation: %s", step, "  ".join(
            f"{k} {v:.4f}" for k, v in result["scores"].items()))
        return result
