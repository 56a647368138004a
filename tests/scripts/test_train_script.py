"""train.py: resume after a kill, and the bad-input refusals."""

import os
import signal
import subprocess
import sys
import time

import tensorflow as tf

from _scripts import (ENV, ROOT, run_script, synthetic_dir,  # noqa: F401
                      train_args)


def _latest_step(model_dir):
    path = tf.train.latest_checkpoint(model_dir)
    return None if path is None else int(path.rsplit("-", 1)[1])


def _read(path, key):
    return tf.train.load_checkpoint(path).get_tensor(key)


def test_killed_run_resumes_from_last_checkpoint(synthetic_dir, tmp_path):
    model_dir = str(tmp_path / "run")
    args = train_args("encnet", synthetic_dir, model_dir, 10_000,
                      "--eval_batches=1")
    proc = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "scripts", "train.py"), *args],
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while (_latest_step(model_dir) or 0) < 4 and time.time() < deadline:
        time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)  # no chance to clean up
    proc.wait()
    killed_at = _latest_step(model_dir)
    assert killed_at is not None and killed_at >= 4
    saved = tf.train.latest_checkpoint(model_dir)
    step_key = "step/.ATTRIBUTES/VARIABLE_VALUE"
    assert _read(saved, step_key) == killed_at
    # the same command, except a reachable step count (train_steps may grow)
    resumed = run_script("train", *train_args(
        "encnet", synthetic_dir, model_dir, killed_at + 2, "--eval_batches=1"))
    assert f"Resumed from {saved} at step {killed_at}" in resumed.stdout
    final = tf.train.latest_checkpoint(model_dir)
    assert _latest_step(model_dir) == killed_at + 2
    assert _read(final, step_key) == killed_at + 2
    assert _read(final, "optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE"
                 ) == killed_at + 2


def test_bad_inputs_are_refused_with_choices(synthetic_dir, tmp_path):
    model_dir = str(tmp_path / "run")
    bad_model = run_script("train", *train_args("unet", synthetic_dir,
                                                model_dir), check=False)
    assert bad_model.returncode != 0
    assert "deeplabv3plus" in bad_model.stdout and "encnet" in bad_model.stdout
    bad_preset = run_script("train", *train_args(
        "encnet", synthetic_dir, model_dir), "--preset=huge", check=False)
    assert bad_preset.returncode != 0 and "tiny" in bad_preset.stdout
    bad_dataset = run_script("train", *train_args(
        "encnet", synthetic_dir, model_dir), "--dataset=mnist", check=False)
    assert bad_dataset.returncode != 0 and "camvid" in bad_dataset.stdout


def test_model_dir_of_another_config_is_refused(synthetic_dir, tmp_path):
    model_dir = str(tmp_path / "run")
    run_script("train", *train_args("encnet", synthetic_dir, model_dir, 2,
                                    "--eval_batches=1"))
    other = run_script("train", *train_args(
        "bayesian_segnet", synthetic_dir, model_dir, 2), "--crop_size=16,16",
        check=False)
    assert other.returncode != 0
    assert "model: 'encnet' -> 'bayesian_segnet'" in other.stdout
    assert "config.crop_size: [32, 32] -> [16, 16]" in other.stdout
