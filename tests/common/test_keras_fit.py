"""Keras compile/fit/evaluate (`build_task`) of the three models against the
project's own oracles: the `Trainer`'s loss, `seg_common.metrics` and a
hand-built confusion matrix."""

import collections
import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

import bayesian_segnet_tf
import deeplab_tf
import encnet_tf
from seg_common import metrics, training
from seg_common.training.keras_task import MeanIoU

# Eager keeps the file fast (tracing the tiny Xception costs ~40 s); EncNet
# runs as a graph, where its data-dependent SE targets are the risk.
CASES = {
    "deeplab": (deeplab_tf, dict(dropout_rate=0.0), True),
    "segnet": (bayesian_segnet_tf, dict(dropout_rate=0.0), True),
    "encnet": (encnet_tf, dict(dropout_rate=0.0, aux_head=True,
                               lr_multipliers=(("head", 10.0),)), False),
}
WEIGHT_DECAY = 1e-3  # large enough that leaving it out fails the test
Fitted = collections.namedtuple(
    "Fitted", "task loss trainer_terms trainer_weights images labels")


def _data(num, num_classes, size=32, block=8, seed=0):
    """Images coloured by the class of each `block` x `block` tile (so the
    labels are learnable); the first row of every label map is ignored."""
    rng = np.random.default_rng(seed)
    tiles = rng.integers(0, num_classes, (num, size // block, size // block))
    labels = tiles.repeat(block, 1).repeat(block, 2).astype(np.int32)
    palette = rng.uniform(0, 255, (num_classes, 3))
    images = palette[labels] + rng.normal(0, 5, labels.shape + (3,))
    labels[:, 0] = 255
    return images.astype(np.float32), labels


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    """(package, config, class weights, run_eagerly) of one model."""
    package, overrides, eager = CASES[request.param]
    config = dataclasses.replace(package.PRESETS["tiny"],
                                 weight_decay=WEIGHT_DECAY,
                                 base_learning_rate=0.01, **overrides)
    weights = np.linspace(0.5, 2.0, config.num_classes).tolist()
    return package, config, weights, eager


@pytest.fixture(scope="module")
def fitted(case, tmp_path_factory):
    """A task after one `fit` step and its loss; the Trainer's step terms
    and weights after one step of a copy; the batch."""
    package, config, weights, eager = case
    keras.utils.set_random_seed(0)
    task = package.build_task(config, class_weights=weights)
    copy = package.build_model(config)
    copy.set_weights(task.network.get_weights())
    images, labels = _data(2, config.num_classes)
    task.compile(run_eagerly=eager)
    first = task.fit(images, labels, batch_size=2, verbose=0)
    trainer = training.Trainer(
        tf.distribute.get_strategy(), lambda: copy,
        package.build_loss(config, weights), config,
        training.LoopOptions(train_steps=1), str(tmp_path_factory.mktemp("t")))
    batches = iter(tf.data.Dataset.from_tensors((images, labels)))
    tf.config.run_functions_eagerly(eager)
    try:
        terms = trainer.train_step(batches)
    finally:
        tf.config.run_functions_eagerly(False)
    return Fitted(task, first.history["loss"][0], terms, copy.get_weights(),
                  images, labels)


def test_fit_loss_equals_the_trainer_loss(fitted):
    terms = fitted.trainer_terms
    assert float(terms["weight_decay"]) > 1e-3
    np.testing.assert_allclose(fitted.loss, float(terms["total_loss"]),
                               rtol=1e-5, atol=1e-5)


def test_first_fit_step_equals_the_trainer_step(fitted):
    """Same update: schedule, momentum SGD and learning-rate multipliers."""
    network = fitted.task.network
    assert fitted.task.config.lr_multipliers
    for want, got, variable in zip(fitted.trainer_weights,
                                   network.get_weights(), network.weights):
        np.testing.assert_allclose(got, want, atol=1e-6,
                                   err_msg=variable.path)


def test_a_few_fit_steps_lower_the_loss(fitted):
    history = fitted.task.fit(fitted.images, fitted.labels, batch_size=2,
                              epochs=3, verbose=0).history
    assert history["loss"][-1] < fitted.loss - 1e-3, history


def test_keras_file_reloads_with_same_predictions_and_loss(fitted, tmp_path):
    task, images, labels = fitted.task, fitted.images, fitted.labels
    path = tmp_path / "task.keras"
    task.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert type(loaded) is type(task) and loaded.config == task.config
    want, got = task.predict(images, verbose=0), loaded.predict(images,
                                                                verbose=0)
    assert set(got) == set(want)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], atol=1e-6, err_msg=key)
    np.testing.assert_allclose(
        float(loaded.compute_loss(y=labels, y_pred=loaded(images))),
        float(task.compute_loss(y=labels, y_pred=task(images))), rtol=1e-6)
    assert loaded.optimizer.lr_multipliers == task.optimizer.lr_multipliers
    for want, got in zip(task.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(got.numpy(), want.numpy(), want.path)


def test_evaluate_mean_iou_equals_the_confusion_matrix(fitted):
    task, config = fitted.task, fitted.task.config
    images, labels = _data(5, config.num_classes, seed=1)
    scores = task.evaluate(images, labels, batch_size=2, return_dict=True,
                           verbose=0)  # batches of 2, 2 and 1
    oracle = metrics.ConfusionMatrix(config.num_classes, config.ignore_label)
    logits = task.predict(images, batch_size=2, verbose=0)["logits"]
    oracle.update(labels, logits.argmax(-1))
    np.testing.assert_allclose(scores["mean_iou"],
                               oracle.result()["mean_iou"], rtol=1e-12)


def _one_hot(predictions, num_classes):
    return np.eye(num_classes, dtype=np.float32)[predictions]


def test_mean_iou_metric_on_a_hand_built_matrix():
    metric = MeanIoU(num_classes=4)
    # confusion (rows ground truth): [[2,1,0,0],[0,2,1,0],[0,0,1,0],0]; the
    # 255 and the out-of-range 7 are skipped; class 3 never occurs.
    metric.update_state(np.array([[0, 0, 0, 1]]),
                        _one_hot(np.array([[0, 0, 1, 1]]), 4))
    metric.update_state(np.array([[1, 1, 2, 255, 7]]),
                        _one_hot(np.array([[1, 2, 2, 0, 3]]), 4))
    np.testing.assert_allclose(float(metric.result()),
                               np.mean([2 / 3, 2 / 4, 1 / 2]), rtol=1e-12)
    metric.update_state(np.array([0]), _one_hot(np.array([3]), 4))
    # class 3 predicted, never true: IoU 0 counts; class 0 now 2 / 4.
    np.testing.assert_allclose(float(metric.result()),
                               np.mean([2 / 4, 2 / 4, 1 / 2, 0]), rtol=1e-12)
    metric.reset_state()
    assert np.isnan(float(metric.result()))
    clone = MeanIoU.from_config(metric.get_config())
    assert (clone.num_classes, clone.ignore_label) == (4, 255)


def test_compile_refuses_a_loss():
    task = encnet_tf.build_task(encnet_tf.PRESETS["tiny"])
    with pytest.raises(ValueError, match="own loss"):
        task.compile(loss="sparse_categorical_crossentropy")


def test_two_replicas_take_the_single_device_step():
    """Keras sums replica gradients: the task divides its loss by the
    replicas, so MirroredStrategy (sync BN) equals one device."""
    config = dataclasses.replace(encnet_tf.PRESETS["tiny"], dropout_rate=0.0)
    images, labels = _data(4, config.num_classes)  # equal valid pixels each
    keras.utils.set_random_seed(0)
    initial = encnet_tf.build_model(config).get_weights()

    def one_step(strategy):
        with strategy.scope():
            task = encnet_tf.build_task(config)
            task.network.set_weights(initial)
            task.compile(run_eagerly=True)
        history = task.fit(images, labels, batch_size=4, verbose=0)
        return history.history["loss"][0], task.get_weights()

    single_loss, single = one_step(tf.distribute.get_strategy())
    # No collective ops: their instance keys would clash with a later
    # MirroredStrategy of the same process.
    mirrored = tf.distribute.MirroredStrategy(
        ["/cpu:0", "/cpu:1"],
        cross_device_ops=tf.distribute.ReductionToOneDevice())
    multi_loss, multi = one_step(mirrored)
    np.testing.assert_allclose(multi_loss, single_loss, rtol=1e-5)
    for want, got in zip(single, multi):
        np.testing.assert_allclose(got, want, atol=1e-5)
