"""seg_common.training: schedules, the train step against a hand-computed
SGD update, MirroredStrategy equivalence, resume, NaN stop, warm start."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import _tiny
from seg_common import losses, training
from seg_common.training import checkpoints


@pytest.mark.parametrize("kind,expected", [
    ("poly", lambda s: 0.1 * (1 - s / 10) ** 0.9),
    ("cosine", lambda s: 0.1 * 0.5 * (1 + math.cos(math.pi * s / 10))),
    ("constant", lambda s: 0.1),
])
def test_schedule_values_with_warmup(kind, expected):
    schedule = training.WarmupDecay(0.1, 10, kind, 0.9, warmup_steps=2)
    np.testing.assert_allclose(float(schedule(0)), 0.1 * 1 / 2, rtol=1e-6)
    np.testing.assert_allclose(float(schedule(1)), 0.1 * 2 / 2, rtol=1e-6)
    for step in (2, 5, 9, 10, 12):
        np.testing.assert_allclose(float(schedule(step)),
                                   expected(min(step, 10)), rtol=1e-5,
                                   atol=1e-8)


def _trainer(tmp_path, strategy=None, train_steps=4, config=None, **options):
    config = config or _tiny.TinyConfig()
    options = training.LoopOptions(train_steps=train_steps, log_every=1,
                                   **options)
    keras.utils.set_random_seed(0)
    return training.Trainer(strategy or tf.distribute.get_strategy(),
                            lambda: _tiny.build_model(config), _tiny.loss_fn,
                            config, options, str(tmp_path))


def test_first_step_matches_hand_computed_sgd(tmp_path):
    config = _tiny.TinyConfig()
    images, labels = _tiny.make_data(4)
    trainer = _trainer(tmp_path, train_steps=1, checkpoint_every=0)
    model = trainer.model
    before = [v.numpy() for v in model.trainable_variables]
    with tf.GradientTape() as tape:  # the oracle: loss + wd/2 * sum(w^2)
        ce = losses.masked_cross_entropy(
            labels, model(images, training=True)["logits"])
        decayed = [v for v in model.trainable_variables
                   if not any(p in v.path for p in config.weight_decay_exclude)]
        l2 = config.weight_decay / 2 * sum(tf.reduce_sum(v**2) for v in decayed)
        total = ce + l2
    grads = tape.gradient(total, model.trainable_variables)
    lr = 0.1  # poly at step 0
    trainer.fit(_tiny.dataset_fn(images, labels, 4))
    assert [v.path for v in decayed] == ["body/kernel", "head/kernel"]
    for v, w0, g in zip(model.trainable_variables, before, grads):
        mult = 10.0 if "head" in v.path else 1.0
        np.testing.assert_allclose(v.numpy(), w0 - lr * mult * g.numpy(),
                                   atol=1e-6, err_msg=v.path)
    assert int(trainer.step.numpy()) == 1


def test_mirrored_two_replicas_equal_single_device(tmp_path):
    images, labels = _tiny.make_data(16)
    single = _trainer(tmp_path / "single", train_steps=3)
    single.fit(_tiny.dataset_fn(images, labels, 8))
    mirrored = training.get_strategy("mirrored")
    assert mirrored.num_replicas_in_sync == 2
    multi = _trainer(tmp_path / "mirrored", strategy=mirrored, train_steps=3)
    multi.fit(_tiny.dataset_fn(images, labels, 8))
    for a, b in zip(single.model.weights, multi.model.weights):
        # sync BN + summed gradients: equal up to float32 summation order.
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5,
                                   err_msg=a.path)


def test_resume_continues_step_weights_and_slots(tmp_path):
    images, labels = _tiny.make_data(16)
    data = _tiny.dataset_fn(images, labels, 4)
    first = _trainer(tmp_path, train_steps=3, checkpoint_every=3)
    first.fit(data)
    saved = [v.numpy() for v in first.model.weights + first.optimizer.variables]
    again = _trainer(tmp_path, train_steps=3)  # fresh weights, then restore
    again.fit(data)  # already finished: restores, trains nothing
    assert int(again.step.numpy()) == 3
    assert int(again.optimizer.iterations.numpy()) == 3
    for value, v in zip(saved, again.model.weights + again.optimizer.variables):
        np.testing.assert_array_equal(value, v.numpy(), err_msg=v.path)
    longer = _trainer(tmp_path, train_steps=5, checkpoint_every=5)
    longer.fit(data)
    assert int(longer.step.numpy()) == 5
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("ckpt-5")


def test_non_finite_loss_stops_and_keeps_last_checkpoint(tmp_path):
    images, labels = _tiny.make_data(16)
    images[8:] = np.nan  # the third batch of 4 is poisoned
    trainer = _trainer(tmp_path, train_steps=4, checkpoint_every=1)
    with pytest.raises(training.NonFiniteLossError,
                       match=f"step 3 .*last good checkpoint is {tmp_path}/"
                             "ckpt-2: start a new run from it"):
        trainer.fit(_tiny.dataset_fn(images, labels, 4))
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("ckpt-2")
    early = _trainer(tmp_path / "early", train_steps=4, checkpoint_every=10)
    with pytest.raises(training.NonFiniteLossError,
                       match="no checkpoint was written yet"):
        early.fit(_tiny.dataset_fn(images, labels, 4))


def test_warm_start_skips_head_with_other_class_count(tmp_path):
    source = _tiny.build_model(_tiny.TinyConfig(num_classes=5))
    tf.train.Checkpoint(model=source).save(str(tmp_path / "ckpt"))
    target = _tiny.build_model(_tiny.TinyConfig(num_classes=3))
    fresh = _tiny.build_model(_tiny.TinyConfig(num_classes=5))
    skipped = checkpoints.warm_start(target, str(tmp_path), fresh)
    assert skipped == ["head/kernel", "head/bias"]
    for a, b in zip(source.weights, target.weights):
        if a.path not in skipped:
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(Exception):  # a direct restore refuses the head
        checkpoints.restore_model(target, str(tmp_path))


def test_validation_and_summaries_written(tmp_path):
    images, labels = _tiny.make_data(8)
    val = training.Validation(
        dataset=tf.data.Dataset.from_tensor_slices((images, labels)).batch(4),
        num_classes=3, colormap=np.eye(3, dtype=np.uint8) * 255)
    trainer = _trainer(tmp_path, train_steps=2, eval_every=1)
    result = trainer.fit(_tiny.dataset_fn(images, labels, 4), val)
    oracle = training.evaluate({"m": training.softmax_predictor(trainer.model)},
                               val.dataset, 3)["m"]
    assert result["val"]["metrics"] == oracle["metrics"]
    assert list((tmp_path / "train").iterdir())  # event files exist


def test_format_table_keeps_long_predictor_names_apart():
    from seg_common.training import evaluation
    metrics = {"global_accuracy": 0.5, "class_accuracy": 0.25,
               "mean_iou": float("nan"), "frequency_weighted_iou": 0.125,
               "per_class_iou": [0.5, float("nan")]}
    results = {name: {"metrics": metrics, "trimap": {}}
               for name in ("mc", "weight_averaging")}
    lines = evaluation.format_table(results, ["a", "b"]).splitlines()
    assert lines[0].split() == ["mc", "weight_averaging"]
    assert lines[3].split() == ["mean_iou", "n/a", "n/a"]
    assert lines[1].split() == ["global_accuracy", "0.5000", "0.5000"]
