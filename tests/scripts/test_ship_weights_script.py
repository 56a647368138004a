"""scripts/ship_weights.py -> predict.py --weights: a run shipped by name."""

import json
import os

import numpy as np
import pytest

from _inprocess import assert_one_line_error, call_script
from _scripts import image_dir, oracle_miou, synthetic_dir, train_args  # noqa: F401
import bayesian_segnet_tf
from bayesian_segnet_tf import pretrained
from seg_common.pretrained import Pretrained


@pytest.fixture(scope="module")
def shipped(synthetic_dir, tmp_path_factory):  # noqa: F811
    tmp = tmp_path_factory.mktemp("ship")
    model_dir = str(tmp / "run")
    assert call_script("train", *train_args(
        "bayesian_segnet", synthetic_dir, model_dir, 2,
        "--novalidate")).code == 0
    output = str(tmp / "weights" / "tiny_run.npz")
    result = call_script("ship_weights", f"--model_dir={model_dir}",
                         "--bn_statistics_steps=1", f"--output={output}")
    assert result.code == 0, result
    entry = json.loads(result.stdout.split("PRETRAINED entry: ")[1])
    return model_dir, output, entry


@pytest.fixture
def registered(shipped, monkeypatch):
    """The shipped run registered as PRETRAINED["tiny_run"]."""
    _, output, entry = shipped
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", os.path.dirname(output))
    monkeypatch.setitem(pretrained.PRETRAINED, "tiny_run", Pretrained(
        entry["file"], entry["sha256"], entry["config"], entry["dataset"],
        "test"))
    return entry


def test_shipped_weights_predict_by_name(registered, image_dir, tmp_path):  # noqa: F811
    assert registered["config"]["arch"] == "segnet_basic"
    out_dir = tmp_path / "out"
    result = call_script("predict", "--weights=tiny_run", "--mc_samples=2",
                         f"--input={image_dir}/scene*.png",
                         f"--output_dir={out_dir}")
    assert result.code == 0, result
    assert sorted(os.listdir(out_dir)) == sorted(
        f"scene{i}_{kind}.png" for i in range(2)
        for kind in ("labels", "overlay", "uncertainty"))


def test_predict_weights_errors_are_one_line(shipped, image_dir, tmp_path):  # noqa: F811
    model_dir = shipped[0]
    unknown = call_script("predict", "--weights=camvid_everything",
                          f"--input={image_dir}/scene0.png",
                          f"--output_dir={tmp_path}")
    assert_one_line_error(unknown, "--weights=camvid_everything", "available")
    both = call_script("predict", "--weights=x", f"--model_dir={model_dir}",
                       f"--input={image_dir}/scene0.png",
                       f"--output_dir={tmp_path}")
    assert_one_line_error(both, "--weights", "--model_dir")
    assert not os.listdir(tmp_path)


def test_ship_weights_refuses_a_wrong_output(shipped, tmp_path):
    result = call_script("ship_weights", f"--model_dir={shipped[0]}",
                         f"--output={tmp_path}/w.h5")
    assert_one_line_error(result, "--output", ".npz")
    assert np.load(shipped[1])["conv1/kernel"].dtype == np.float16


def test_shipped_weights_evaluate_by_name(registered, synthetic_dir, tmp_path):  # noqa: F811
    out_dir = tmp_path / "eval"
    result = call_script("evaluate", "--weights=tiny_run", "--mc_samples=0",
                         f"--data_dir={synthetic_dir}", "--batch_size=4",
                         f"--output_dir={out_dir}", "--precision=float32")
    assert result.code == 0, result
    with open(out_dir / "eval_val.json") as f:
        report = json.load(f)
    model = bayesian_segnet_tf.build_model(weights="tiny_run")
    want = oracle_miou(model, model.output["logits"].shape[-1], synthetic_dir)
    assert report["mean_iou"] == pytest.approx(want, abs=1e-3)


def test_evaluate_weights_errors_are_one_line(shipped, synthetic_dir,  # noqa: F811
                                              tmp_path):
    model_dir = shipped[0]
    no_output = call_script("evaluate", "--weights=tiny_run",
                            f"--data_dir={synthetic_dir}")
    assert_one_line_error(no_output, "--weights=tiny_run", "--output_dir")
    both = call_script("evaluate", "--weights=x", f"--model_dir={model_dir}",
                       f"--output_dir={tmp_path / 'eval'}")
    assert_one_line_error(both, "--weights", "--model_dir")
    assert not (tmp_path / "eval").exists()
