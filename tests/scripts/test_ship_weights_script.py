"""scripts/ship_weights.py -> predict.py --weights: a run shipped by name."""

import json
import os

import numpy as np
import pytest

from _inprocess import assert_one_line_error, call_script
from _scripts import image_dir, synthetic_dir, train_args  # noqa: F401
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


def test_shipped_weights_predict_by_name(shipped, image_dir, tmp_path,  # noqa: F811
                                         monkeypatch):
    _, output, entry = shipped
    assert entry["config"]["arch"] == "segnet_basic"
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", os.path.dirname(output))
    monkeypatch.setitem(pretrained.PRETRAINED, "tiny_run", Pretrained(
        entry["file"], entry["sha256"], entry["config"], entry["dataset"],
        "test"))
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
