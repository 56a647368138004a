"""evaluate.py options: multi-scale + flip for EncNet, reduced-resolution
evaluation and the Bayesian SegNet batch-norm statistics step."""

import json
import os

import cv2
import numpy as np

from _scripts import run_script, synthetic_dir, train_args  # noqa: F401
from seg_common import data
from seg_common.training import visualize


def _report(model_dir):
    with open(os.path.join(model_dir, "eval_val.json")) as f:
        return json.load(f)


def _valid_pixels(data_dir, size):
    dataset = data.build_dataset(data_dir, split="val", batch_size=1,
                                 crop_size=None, training=False,
                                 resize_size=size)
    return sum(int(np.sum(labels.numpy() != 255)) for _, labels in dataset)


def test_encnet_multi_scale_flip_and_no_bn_step(synthetic_dir, tmp_path):
    model_dir = str(tmp_path / "encnet")
    run_script("train", *train_args("encnet", synthetic_dir, model_dir, 2))
    run_script("evaluate", f"--model_dir={model_dir}",
               "--eval_scales=0.75,1.0", "--flip")
    report = _report(model_dir)
    assert list(report["predictors"]) == ["multi_scale"]
    matrix = np.asarray(report["predictors"]["multi_scale"]["confusion_matrix"])
    assert matrix.sum() == _valid_pixels(synthetic_dir, None)
    refused = run_script("evaluate", f"--model_dir={model_dir}",
                         "--bn_statistics_steps=2", check=False)
    assert refused.returncode != 0 and "bayesian_segnet" in refused.stdout


def test_bayesian_eval_size_and_bn_statistics(synthetic_dir, tmp_path):
    model_dir = str(tmp_path / "segnet")
    trained = run_script("train", *train_args(
        "bayesian_segnet", synthetic_dir, model_dir, 2, "--novalidate",
        "--override=num_samples=2"))
    assert "Final validation" not in trained.stdout
    result = run_script("evaluate", f"--model_dir={model_dir}",
                        "--mc_samples=0", "--eval_size=24,20",
                        "--bn_statistics_steps=2")
    assert "Re-estimated batch-norm statistics over 2" in result.stdout
    matrix = np.asarray(_report(model_dir)["predictors"]["single_scale"]
                        ["confusion_matrix"])
    assert matrix.sum() == _valid_pixels(synthetic_dir, (24, 20))
    figure = str(tmp_path / "figure.png")
    run_script("figure", f"--model_dir={model_dir}", "--num_images=2",
               "--mc_samples=2", "--eval_size=24,20", f"--output={figure}")
    picture = cv2.imread(figure)[..., ::-1]
    assert picture.shape == (2 * 24, 4 * 20, 3)
    _, labels = next(iter(data.build_dataset(
        synthetic_dir, split="val", batch_size=1, crop_size=None,
        training=False, resize_size=(24, 20))))
    colormap = data.get_dataset_info("synthetic").colormap
    np.testing.assert_array_equal(  # row 1, column 2: the ground truth
        picture[:24, 20:40], visualize.colorize(labels.numpy()[0], colormap))
