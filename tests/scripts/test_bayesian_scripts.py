"""Bayesian SegNet through the scripts: MC and weight averaging side by
side, uncertainty in the export and the predictions."""

import json
import os

import numpy as np

from _scripts import (image_dir, run_script, synthetic_dir,  # noqa: F401
                      train_args)


def test_bayesian_segnet_scripts(synthetic_dir, image_dir, tmp_path):
    model_dir = str(tmp_path / "run")
    run_script("train", *train_args("bayesian_segnet", synthetic_dir,
                                    model_dir, 2, "--eval_batches=1",
                                    "--override=num_samples=2"))
    run_script("evaluate", f"--model_dir={model_dir}", "--batch_size=4",
               "--mc_samples=3", "--max_batches=1")
    with open(os.path.join(model_dir, "eval_val.json")) as f:
        report = json.load(f)
    assert list(report["predictors"]) == ["mc", "weight_averaging"]
    mc = report["predictors"]["mc"]
    assert report["mean_iou"] == mc["metrics"]["mean_iou"]
    for predictor in report["predictors"].values():  # both get AUROC, ECE
        uncertainty = predictor["uncertainty"]
        assert 0.0 <= uncertainty["auroc_misclassification"] <= 1.0
        assert 0.0 <= uncertainty["expected_calibration_error"] <= 1.0
        reliability = uncertainty["reliability"]
        assert (sum(reliability["count"])
                == np.sum(predictor["confusion_matrix"]))
    export_dir = str(tmp_path / "export")
    run_script("export", f"--model_dir={model_dir}",
               f"--export_dir={export_dir}", "--mc_samples=3")
    out_dir = tmp_path / "predictions"
    run_script("predict", f"--saved_model={export_dir}",
               f"--input={image_dir}/scene*.png", f"--output_dir={out_dir}")
    assert "scene0_uncertainty.png" in os.listdir(out_dir)
