"""scripts/mc_curve.py (Fig. 3): its largest sample count is evaluate.py's MC
prediction and its flat line evaluate.py's weight averaging, exactly."""

import json
import os

import cv2

from _inprocess import assert_one_line_error, call_script
from _scripts import synthetic_dir, train_args  # noqa: F401


def test_curve_ends_at_evaluate_figures(synthetic_dir, tmp_path):  # noqa: F811
    model_dir = str(tmp_path / "run")
    assert call_script("train", *train_args(
        "bayesian_segnet", synthetic_dir, model_dir, 2, "--novalidate")).code == 0
    assert call_script("evaluate", f"--model_dir={model_dir}",
                       "--batch_size=3", "--mc_samples=4").code == 0
    output = str(tmp_path / "curve.png")
    assert call_script("mc_curve", f"--model_dir={model_dir}",
                       "--mc_samples=4", f"--output={output}").code == 0
    with open(os.path.join(model_dir, "eval_val.json")) as f:
        evaluated = json.load(f)["predictors"]
    with open(str(tmp_path / "curve.json")) as f:
        curve = json.load(f)
    assert sorted(curve["samples"], key=int) == ["1", "2", "4"]
    assert [curve["samples"][t]["mean_iou"]["draws"]
            for t in ("1", "2", "4")] == [4, 2, 1]
    for name in ("class_accuracy", "mean_iou"):
        assert curve["samples"]["4"][name]["mean"] == evaluated["mc"][
            "metrics"][name]
        assert curve["weight_averaging"][name] == evaluated[
            "weight_averaging"]["metrics"][name]
    assert cv2.imread(output).shape == (360, 840, 3)
    refused = call_script("mc_curve", f"--model_dir={model_dir}",
                          "--mc_samples=0", f"--output={output}")
    assert_one_line_error(refused, "--mc_samples")
