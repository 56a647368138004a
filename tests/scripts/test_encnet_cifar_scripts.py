"""encnet_cifar through train (+ resume) -> evaluate on a fake tfds:cifar10."""

import glob
import json
import os
import subprocess
import sys

import numpy as np
import tensorflow as tf

from _scripts import ENV, ROOT
from tests.data.cifar10_fake import fake_cifar10

RUNNER = os.path.join(ROOT, "tests", "data", "cifar10_fake.py")


def _run(script, *args, check=True):
    """Runs scripts/<script>.py under the fake cifar10 (output merged)."""
    result = subprocess.run(
        [sys.executable, RUNNER, script, *args], env=ENV, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"{script} failed ({result.returncode}):\n"
                             f"{result.stdout[-4000:]}")
    return result


def _train_args(model_dir, steps, *extra):
    return ["--model=encnet_cifar", "--preset=tiny", "--dataset=cifar10",
            "--tfds_name=cifar10", f"--model_dir={model_dir}",
            f"--train_steps={steps}", "--batch_size=8",
            "--base_learning_rate=0.05", "--checkpoint_every=10",
            "--log_every=1", *extra]


def _scalars(model_dir, tag):
    """step -> value of a TensorBoard scalar over all event files."""
    values = {}
    for path in glob.glob(os.path.join(model_dir, "train", "events.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.tag == tag:
                    values[event.step] = float(tf.make_ndarray(value.tensor))
    return values


def _oracle_accuracy(model_dir):
    """Top-1 accuracy of the checkpoint on the fake test split, in NumPy."""
    import _common
    _, _, model = _common.load_trained(model_dir)
    examples = fake_cifar10("test")
    logits = model(examples["image"].astype(np.float32),
                   training=False)["logits"].numpy()
    return float(np.mean(logits.argmax(-1) == examples["label"]))


def test_train_resume_evaluate(tmp_path):
    model_dir = str(tmp_path / "run")
    log = _run("train", *_train_args(model_dir, 20)).stdout
    assert "Final validation accuracy" in log
    assert tf.train.latest_checkpoint(model_dir).endswith("ckpt-20")
    with open(os.path.join(model_dir, "config.json")) as f:
        record = json.load(f)
    assert (record["model"], record["dataset"], record["num_classes"]) == (
        "encnet_cifar", "cifar10", 10)
    assert record["config"]["crop_padding"] == 4
    losses = _scalars(model_dir, "train/loss")
    assert sorted(losses) == list(range(1, 21))
    first, last = (np.mean([losses[s] for s in steps])
                   for steps in (range(1, 6), range(16, 21)))
    assert last < 0.8 * first   # class = colour: learnable in 20 steps
    assert set(_scalars(model_dir, "val/accuracy")) == {20}

    resumed = _run("train", *_train_args(model_dir, 22)).stdout
    assert f"Resumed from {model_dir}/ckpt-20 at step 20" in resumed
    assert tf.train.latest_checkpoint(model_dir).endswith("ckpt-22")

    _run("evaluate", f"--model_dir={model_dir}", "--split=test")
    with open(os.path.join(model_dir, "eval_test.json")) as f:
        report = json.load(f)
    assert 0.0 <= report["accuracy"] <= 1.0 and report["num_examples"] == 20
    np.testing.assert_allclose(report["accuracy"],
                               _oracle_accuracy(model_dir))
    np.testing.assert_allclose(report["error_percent"],
                               100 * (1 - report["accuracy"]))


def test_a_segmentation_dataset_is_refused(tmp_path):
    result = _run("train", *_train_args(str(tmp_path / "run"), 2),
                  "--dataset=camvid", check=False)
    assert result.returncode != 0
    assert "classification model" in result.stdout
    assert "segmentation dataset" in result.stdout
