"""A tiny functional segmentation model, recipe config and in-memory data
shared by the seg_common training tests."""

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from seg_common import losses


@dataclasses.dataclass(frozen=True)
class TinyConfig:
    num_classes: int = 3
    input_shape: tuple = (None, None, 3)
    base_learning_rate: float = 0.1
    lr_schedule: str = "poly"
    poly_power: float = 0.9
    momentum: float = 0.9
    weight_decay: float = 1e-3
    weight_decay_exclude: tuple = ("bias", "gamma", "beta")
    lr_multipliers: tuple = (("head", 10.0),)
    batch_size: int = 4
    crop_size: tuple = (16, 16)
    train_steps: int = 4
    ignore_label: int = 255


def build_model(config=TinyConfig(), synchronized=True):
    """conv3x3 -> BN -> relu -> conv1x1 "head"; output {"logits"}."""
    inputs = keras.Input(config.input_shape)
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same", name="body")(x)
    x = keras.layers.BatchNormalization(synchronized=synchronized,
                                        name="bn")(x)
    x = keras.layers.ReLU()(x)
    logits = keras.layers.Conv2D(config.num_classes, 1, name="head")(x)
    return keras.Model(inputs, {"logits": logits})


def loss_fn(labels, outputs):
    ce = losses.masked_cross_entropy(labels, outputs["logits"])
    return {"loss": ce, "seg_loss": ce}


def make_data(num=16, size=16, num_classes=3, seed=0):
    """Images whose label is the brightest channel (learnable per pixel)."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 255, size=(num, size, size, 3)).astype(np.float32)
    labels = images.argmax(-1).astype(np.int32) % num_classes
    return images, labels


def dataset_fn(images, labels, global_batch):
    """(InputContext) -> per-replica batches, sharded by input pipeline."""
    def fn(context):
        ds = tf.data.Dataset.from_tensor_slices((images, labels))
        ds = ds.shard(context.num_input_pipelines, context.input_pipeline_id)
        batch = context.get_per_replica_batch_size(global_batch)
        return ds.batch(batch, drop_remainder=True).repeat()
    return fn
