"""train.py --bn_statistics_steps: the final checkpoint carries recomputed
batch-norm statistics, or with 0 the moving averages (DeepLab decay 0.9997:
after 2 steps still ~0.9994 of the initial mean 0 / variance 1)."""

import numpy as np
import tensorflow as tf

from _scripts import run_script, synthetic_dir, train_args  # noqa: F401


def _largest_variance_change(model_dir):
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(model_dir))
    keys = [k for k in reader.get_variable_to_shape_map()
            if "moving_variance" in k]
    assert keys
    return max(np.abs(reader.get_tensor(k) - 1).max() for k in keys)


def test_final_checkpoint_has_recomputed_statistics(synthetic_dir, tmp_path):
    changes = {}
    for steps in ("2", "0"):
        model_dir = str(tmp_path / steps)
        run_script("train", *train_args(
            "deeplabv3plus", synthetic_dir, model_dir, 2, "--novalidate",
            f"--bn_statistics_steps={steps}"))
        changes[steps] = _largest_variance_change(model_dir)
    assert changes["0"] < 0.01 < 0.5 < changes["2"], changes
