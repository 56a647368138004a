"""train.py: resume after a kill (bad inputs: test_errors.py)."""

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
