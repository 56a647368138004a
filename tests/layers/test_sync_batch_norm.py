"""Cross-replica batch norm: 2 replicas x 4 examples == 1 replica x 8 examples.

Run as a script (`python -m tests.layers.test_sync_batch_norm`) the module
prints the comparison as JSON; the tests run it in a fresh process, because
MirroredStrategy collective keys of earlier tests in the same process clash.
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from seg_common.layers import ConvBNAct


def _model(synchronized):
    keras.utils.set_random_seed(3)
    inputs = keras.Input((6, 6, 3))
    if synchronized:
        x = ConvBNAct(4, 3, momentum=0.5, name="block")(inputs)
    else:
        x = keras.layers.Conv2D(4, 3, padding="same", use_bias=False)(inputs)
        x = keras.layers.BatchNormalization(momentum=0.5)(x)
        x = keras.layers.ReLU()(x)
    return keras.Model(inputs, x)


def _per_example_loss(model, images, targets):
    out = model(images, training=True)
    return tf.reduce_mean(tf.square(out - targets), axis=[1, 2, 3])


def _single_replica(images, targets, synchronized):
    model = _model(synchronized)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(_per_example_loss(model, images, targets))
    grads = tape.gradient(loss, model.trainable_variables)
    stats = [v.numpy() for v in model.non_trainable_variables]
    return [g.numpy() for g in grads], stats


def _two_replicas(images, targets, synchronized):
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        model = _model(synchronized)

    def shard(ctx):
        i = ctx.replica_id_in_sync_group
        return images[4 * i:4 * i + 4], targets[4 * i:4 * i + 4]

    per_replica = strategy.experimental_distribute_values_from_function(shard)

    def step(batch):
        x, y = batch
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(_per_example_loss(model, x, y)) / 8.0
        return tape.gradient(loss, model.trainable_variables)

    grads = strategy.run(tf.function(step), args=(per_replica,))
    grads = [strategy.reduce("SUM", g, axis=None).numpy() for g in grads]
    stats = [v.numpy() for v in model.non_trainable_variables]
    return grads, stats


def _batch():
    rng = np.random.default_rng(0)
    # Replica halves with different statistics, so local BN moments differ.
    images = rng.normal(size=(8, 6, 6, 3)).astype(np.float32)
    images[4:] = images[4:] * 3.0 + 2.0
    targets = rng.normal(size=(8, 6, 6, 4)).astype(np.float32)
    return tf.constant(images), tf.constant(targets)


def compare():
    """Max differences between one replica and two, with and without sync."""
    batch = _batch()
    result = {}
    for synchronized in (True, False):
        grads_1, stats_1 = _single_replica(*batch, synchronized=synchronized)
        grads_2, stats_2 = _two_replicas(*batch, synchronized=synchronized)
        result[f"sync={synchronized}"] = {
            "grads": max(float(np.abs(a - b).max())
                         for a, b in zip(grads_1, grads_2)),
            "stats": max(float(np.abs(a - b).max())
                         for a, b in zip(stats_1, stats_2)),
            "moving_mean_min": float(np.abs(stats_1[0]).min())}
    return result


@pytest.fixture(scope="module")
def differences():
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    out = subprocess.run(
        [sys.executable, "-m", "tests.layers.test_sync_batch_norm"], cwd=root,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_synchronized_equals_single_replica(differences):
    sync = differences["sync=True"]
    assert sync["moving_mean_min"] > 1e-3  # the moving mean did move
    assert sync["grads"] < 1e-5 and sync["stats"] < 1e-5, sync


def test_unsynchronized_differs(differences):
    """The control: plain per-replica BN does not match, so the test above can fail."""
    assert differences["sync=False"]["grads"] > 1e-3


if __name__ == "__main__":
    _cpus = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(
        _cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)
    print(json.dumps(compare()))
