"""Keras-native training: `compile()` / `fit()` / `evaluate()` with the
project's loss and a streaming mean-IoU metric.

`SegmentationTask` wraps a built segmentation network (a functional model
with dict outputs) together with its package's `build_loss`; each model
package registers a subclass naming its `Config` and `build_loss` and
exposes `build_task(config=None, class_weights=None, **overrides)`.
"""

import dataclasses
from typing import Optional, Sequence

import keras
import tensorflow as tf

from seg_common import losses
from seg_common.config import resolve_config
from seg_common.training.model_dir import config_kwargs
from seg_common.training.schedules import WarmupDecay, lr_multipliers


@keras.saving.register_keras_serializable(package="seg_common")
class MeanIoU(keras.metrics.Metric):
    """Streaming mean IoU over a dataset-level confusion matrix.

    The semantics of `seg_common.metrics.ConfusionMatrix(...)["mean_iou"]`:
    pixels labelled `ignore_label` (or outside [0, C)) are skipped; counts
    are summed over all batches (float64, exact to 2**53 pixels); the mean
    is over the classes with a non-zero `TP + FP + FN`; NaN when nothing was
    scored. Unlike `keras.metrics.MeanIoU` it takes logits and never fails
    on out-of-range labels.

    Args:
        num_classes: C.
        ignore_label: ground-truth value that is not scored.
        name: metric name (the key in `fit` / `evaluate` logs).
        dtype: dtype of the result.

    Example:
    >>> metric = MeanIoU(num_classes=3)
    >>> metric.update_state(labels, logits)   # (B, H, W), (B, H, W, C)
    >>> float(metric.result())
    """

    def __init__(self, num_classes: int, ignore_label: int = 255,
                 name: str = "mean_iou", dtype="float64"):
        super().__init__(name=name, dtype=dtype)
        self.num_classes = int(num_classes)
        self.ignore_label = int(ignore_label)
        self.confusion = self.add_variable(
            shape=(self.num_classes, self.num_classes), initializer="zeros",
            dtype="float64", name="confusion")

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds a batch: labels int (B, H, W), logits (B, H, W, C)."""
        if sample_weight is not None:
            raise ValueError("MeanIoU does not take sample weights.")
        classes = self.num_classes
        labels = tf.reshape(tf.cast(y_true, tf.int32), [-1])
        predictions = tf.reshape(
            tf.argmax(y_pred, axis=-1, output_type=tf.int32), [-1])
        valid = ((labels != self.ignore_label) & (labels >= 0)
                 & (labels < classes))
        # Skipped pixels go to one extra bin that is dropped.
        index = tf.where(valid, labels * classes + predictions,
                         classes * classes)
        counts = tf.math.bincount(index, minlength=classes * classes + 1,
                                  maxlength=classes * classes + 1,
                                  dtype=tf.float64)
        self.confusion.assign_add(
            tf.reshape(counts[:-1], (classes, classes)))

    def result(self):
        """The mean IoU of the classes seen so far (scalar)."""
        matrix = tf.convert_to_tensor(self.confusion)
        true_positives = tf.linalg.diag_part(matrix)
        union = (tf.reduce_sum(matrix, 0) + tf.reduce_sum(matrix, 1)
                 - true_positives)
        scored = tf.reduce_sum(tf.cast(union > 0, tf.float64))
        total = tf.reduce_sum(tf.math.divide_no_nan(true_positives, union))
        mean = tf.where(scored > 0, total / tf.maximum(scored, 1.0),
                        tf.constant(float("nan"), tf.float64))
        return tf.cast(mean, self.dtype)

    def get_config(self):
        return dict(super().get_config(), num_classes=self.num_classes,
                    ignore_label=self.ignore_label)


@keras.saving.register_keras_serializable(package="seg_common")
class MultiplierSGD(keras.optimizers.SGD):
    """SGD with per-variable learning-rate multipliers, as the `Trainer`.

    The gradient of each variable is scaled by the product of the
    multipliers whose path substring occurs in the variable's path
    (`schedules.lr_multipliers`) before the SGD update; with momentum this
    equals scaling its learning rate.

    Args:
        lr_multipliers: (path substring, multiplier) pairs, e.g.
            `(("/bias", 2.0),)`.
        **kwargs: `keras.optimizers.SGD` arguments.

    Example:
    >>> MultiplierSGD(learning_rate=0.01, momentum=0.9,
    ...               lr_multipliers=(("head", 10.0),))
    """

    def __init__(self, lr_multipliers=(), **kwargs):
        super().__init__(**kwargs)
        self.lr_multipliers = tuple((str(p), float(m))
                                    for p, m in lr_multipliers)
        self._built_multipliers = []

    def build(self, variables):
        """Builds the slots and the multipliers of `variables`."""
        self._built_multipliers = lr_multipliers(variables,
                                                 self.lr_multipliers)
        super().build(variables)

    def apply(self, grads, trainable_variables=None):
        """Scales `grads` by the variables' multipliers, then updates."""
        factors = (self._built_multipliers if trainable_variables is None
                   else lr_multipliers(list(trainable_variables),
                                       self.lr_multipliers))
        grads = [g if g is None or m == 1.0 else g * m
                 for g, m in zip(grads, factors)]
        return super().apply(grads, trainable_variables)

    def get_config(self):
        return dict(super().get_config(),
                    lr_multipliers=[list(p) for p in self.lr_multipliers])


class SegmentationTask(keras.Model):
    """A segmentation network and its training loss, for `compile` / `fit`.

    `fit` minimises exactly the `Trainer`'s loss: `build_loss(config,
    class_weights)(labels, outputs)["loss"]` (SE-loss and auxiliary terms,
    class weights, ignore label) plus the coupled weight decay
    `seg_common.losses.weight_decay_loss` of `config`, divided by the number
    of replicas (Keras sums gradients over replicas, as the Trainer does).
    Compiled metrics receive `(labels, outputs["logits"])`. The task's
    outputs are the network's dict; `predict` returns it.

    The base class is not used directly: each package registers a subclass
    setting `config_class` (its `Config`), `loss_builder` and
    `model_builder` (`staticmethod(build_loss)`, `staticmethod(build_model)`)
    and exposes its `create` as `build_task`, so a `.keras` file reloads with
    `keras.models.load_model(path, safe_mode=True)` once the package is
    imported.

    Args:
        network: the package's `build_model(config)` (input float32 RGB
            0..255 (B, H, W, 3), dict outputs with "logits" (B, H, W, C)).
        config: its `Config`, or the dict `get_config` wrote.
        class_weights: optional (C,) weights of the pixel cross-entropy
            terms (as `build_loss`).
        **kwargs: `keras.Model` arguments (`name`, `trainable`).

    Example:
    >>> task = deeplab_tf.build_task(deeplab_tf.PRESETS["tiny"])
    >>> task.compile()        # the config's SGD recipe, mean IoU
    >>> task.fit(dataset, epochs=1)   # (images, labels) batches
    """

    config_class = None
    loss_builder = None
    model_builder = None

    @classmethod
    def create(cls, config=None,
               class_weights: Optional[Sequence[float]] = None,
               **overrides) -> "SegmentationTask":
        """The package's network as a Keras task: `compile()` then `fit`.

        `fit` minimises the training loop's loss (see the class);
        `compile()` without arguments uses the config's SGD recipe
        (schedule, momentum, learning-rate multipliers) and reports
        `mean_iou`; `evaluate` and `predict` run the network in inference
        mode (Bayesian SegNet: one weight-averaged pass; Monte Carlo
        dropout is `mc_predict(task.network, ...)`).

        Args:
            config: the package's `Config` (default `Config()`).
            class_weights: optional (num_classes,) pixel cross-entropy
                weights (Bayesian SegNet's default: `config.class_weights`).
            **overrides: `Config` field names and values.

        Returns:
            The task (a `keras.Model`): float32 RGB 0..255 (B, H, W, 3) ->
            the network's output dict (see the subclass).

        Example:
        >>> task = deeplab_tf.build_task(deeplab_tf.PRESETS["tiny"])
        >>> task.compile()
        >>> task.fit(dataset, epochs=1)   # images (B,H,W,3), labels (B,H,W)
        >>> task.evaluate(val_dataset, return_dict=True)["mean_iou"]
        """
        config = resolve_config(cls.config_class, config, overrides)
        return cls(cls.model_builder(config), config, class_weights)

    def __init__(self, network: keras.Model, config,
                 class_weights: Optional[Sequence[float]] = None, **kwargs):
        if isinstance(config, dict):
            config = self.config_class(**config_kwargs({"config": config}))
        inputs = keras.Input(network.input_shape[1:], name="images")
        super().__init__(inputs, network(inputs), **kwargs)
        self.network = network
        self.config = config
        self.class_weights = (None if class_weights is None else
                              tuple(float(w) for w in class_weights))
        self.loss_fn = self.loss_builder(config, self.class_weights)

    def compile(self, optimizer="auto", loss=None, metrics="auto", **kwargs):
        """`keras.Model.compile` with the task's own loss.

        Args:
            optimizer: a Keras optimizer, or "auto": the Trainer's (without
                warm-up), `MultiplierSGD` with the config's momentum and
                lr_multipliers and `WarmupDecay(base_learning_rate,
                train_steps, lr_schedule, poly_power)`.
            loss: must be None: the loss is the package's (see the class).
            metrics: list of metrics fed `(labels, logits)`, or "auto":
                `[MeanIoU(num_classes, ignore_label)]`.
            **kwargs: other `keras.Model.compile` arguments; `jit_compile`
                defaults to False (the SE-loss targets have data-dependent
                shapes, which XLA refuses).
        """
        if loss is not None:
            raise ValueError(
                "SegmentationTask computes its own loss (the package's "
                "build_loss plus weight decay); compile it without `loss`.")
        config = self.config
        if optimizer == "auto":
            optimizer = MultiplierSGD(
                learning_rate=WarmupDecay(
                    config.base_learning_rate, config.train_steps,
                    config.lr_schedule, config.poly_power),
                momentum=config.momentum,
                lr_multipliers=config.lr_multipliers)
        if metrics == "auto":
            metrics = [MeanIoU(config.num_classes, config.ignore_label)]
        kwargs.setdefault("jit_compile", False)
        super().compile(optimizer=optimizer, metrics=metrics, **kwargs)

    def compile_from_config(self, config):
        """Compiles as `get_compile_config` recorded (`load_model` of a
        compiled task; the optimizer is built so its state reloads)."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                     training=True):
        """The Trainer's total loss of one replica's batch.

        Args:
            x: images (unused).
            y: labels int (B, H, W).
            y_pred: the network's output dict.
            sample_weight: must be None (use `class_weights`).
            training: unused (the loss is the same in both modes).

        Returns:
            Scalar float32: `(loss + weight decay) / replicas`.
        """
        if sample_weight is not None:
            raise ValueError("SegmentationTask does not take sample weights;"
                             " pass class_weights to build_task.")
        total = self.loss_fn(y, y_pred)["loss"] + losses.weight_decay_loss(
            self.network.trainable_variables, self.config.weight_decay,
            self.config.weight_decay_exclude)
        return total / tf.distribute.get_strategy().num_replicas_in_sync

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Updates the compiled metrics with `(labels, logits)`."""
        return super().compute_metrics(x, y, y_pred["logits"], sample_weight)

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable,
                "network": keras.saving.serialize_keras_object(self.network),
                "config": dataclasses.asdict(self.config),
                "class_weights": (None if self.class_weights is None
                                  else list(self.class_weights))}

    @classmethod
    def from_config(cls, config):
        config = dict(config, network=keras.saving.deserialize_keras_object(
            config["network"]))
        return cls(**config)
