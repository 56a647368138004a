"""Learning-rate schedules with linear warm-up (resumable: a function of the
optimizer's iteration count only)."""

import math

import keras
import numpy as np
import tensorflow as tf

from seg_common.config import LR_SCHEDULES, check_choice


@keras.saving.register_keras_serializable(package="seg_common")
class WarmupDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up followed by poly / constant / cosine decay.

    For `step < warmup_steps` the rate is `base * (step + 1) / warmup_steps`.
    After it, with `t = min(step, total_steps) / total_steps`:
    poly: `base * (1 - t) ** power` (DeepLab/EncNet, power 0.9);
    cosine: `base * 0.5 * (1 + cos(pi * t))`; constant: `base`.
    The decay runs over all `total_steps` (warm-up included) and ends at 0.

    Args:
        base_learning_rate: peak learning rate.
        total_steps: training length in steps.
        schedule: one of `LR_SCHEDULES`.
        power: poly power.
        warmup_steps: linear warm-up length (0 = none).
    """

    def __init__(self, base_learning_rate, total_steps, schedule="poly",
                 power=0.9, warmup_steps=0):
        check_choice("schedule", schedule, LR_SCHEDULES)
        self.base_learning_rate = float(base_learning_rate)
        self.total_steps = int(total_steps)
        self.schedule = schedule
        self.power = float(power)
        self.warmup_steps = int(warmup_steps)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        base = tf.constant(self.base_learning_rate, tf.float32)
        t = tf.minimum(step, self.total_steps) / max(self.total_steps, 1)
        if self.schedule == "poly":
            rate = base * tf.pow(1.0 - t, self.power)
        elif self.schedule == "cosine":
            rate = base * 0.5 * (1.0 + tf.cos(math.pi * t))
        else:
            rate = base
        if self.warmup_steps > 0:
            warm = base * (step + 1.0) / self.warmup_steps
            rate = tf.where(step < self.warmup_steps, warm, rate)
        return rate

    def get_config(self):
        return {
            "base_learning_rate": self.base_learning_rate,
            "total_steps": self.total_steps,
            "schedule": self.schedule,
            "power": self.power,
            "warmup_steps": self.warmup_steps,
        }


def lr_multipliers(variables, multipliers):
    """Per-variable learning-rate multipliers (`Config.lr_multipliers`).

    Args:
        variables: trainable variables (each with a `path`).
        multipliers: (path substring, multiplier) pairs.

    Returns:
        list of floats, one per variable: the product of the multipliers
        whose substring occurs in its path (1.0 when none does).

    Example:
    >>> lr_multipliers(model.trainable_variables, (("/bias", 2.0),))
    [1.0, 2.0, ...]
    """
    return [float(np.prod([m for p, m in multipliers if p in v.path]))
            for v in variables]
