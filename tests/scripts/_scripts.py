"""Helpers of the script tests: run scripts/ in subprocesses, tiny data."""

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import tensorflow as tf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
ENV = dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2")
IMAGE_SIZE = (32, 32)


def run_script(name, *args, timeout=300, check=True):
    """Runs `python scripts/<name>.py args...`; returns CompletedProcess
    (stdout and stderr merged into .stdout)."""
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "scripts", f"{name}.py"),
         *args], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{name} failed ({result.returncode}):\n"
                             f"{result.stdout[-4000:]}")
    return result


@pytest.fixture(scope="session")
def synthetic_dir(tmp_path_factory):
    """TFRecords of 8 train + 8 val synthetic 32x32 scenes."""
    from seg_common.data.builders import build
    out = str(tmp_path_factory.mktemp("synthetic"))
    build("synthetic", output_dir=out, num_shards=2, num_examples=8,
          image_size=IMAGE_SIZE)
    return out


@pytest.fixture(scope="session")
def image_dir(tmp_path_factory):
    """Two readable PNG scenes and one corrupt file."""
    from seg_common.data.builders import synthetic
    out = tmp_path_factory.mktemp("images")
    for i in range(2):
        image, _ = synthetic.render(1, "test", i, IMAGE_SIZE)
        cv2.imwrite(str(out / f"scene{i}.png"), image[..., ::-1])
    (out / "broken.png").write_bytes(b"\x89PNG not really")
    return out


def train_args(model, data_dir, model_dir, steps=4, *extra):
    return [f"--model={model}", "--preset=tiny", "--dataset=synthetic",
            f"--data_dir={data_dir}", f"--model_dir={model_dir}",
            f"--train_steps={steps}", "--crop_size=32,32", "--batch_size=2",
            "--checkpoint_every=2", "--log_every=1", "--eval_batch_size=4",
            *extra]


def numpy_confusion(labels, predictions, num_classes, ignore_label=255):
    """Independent oracle: counts (gt, pred) pairs with np.add.at."""
    matrix = np.zeros((num_classes, num_classes), np.int64)
    valid = labels != ignore_label
    np.add.at(matrix, (labels[valid], predictions[valid]), 1)
    return matrix


def oracle_miou(model, num_classes, data_dir):
    """Val mIoU of a Keras model (inference mode, one pass) with NumPy."""
    from seg_common import data
    matrix = 0
    for images, labels in data.build_dataset(
            data_dir, split="val", batch_size=4, crop_size=None,
            training=False):
        logits = model(images, training=False)["logits"].numpy()
        matrix = matrix + numpy_confusion(labels.numpy(), logits.argmax(-1),
                                          num_classes)
    tp = np.diag(matrix).astype(float)
    union = matrix.sum(0) + matrix.sum(1) - tp
    return np.mean(tp[union > 0] / union[union > 0])


def _checkpoint_miou(model_dir, data_dir):
    """`oracle_miou` of a run's latest checkpoint."""
    import _common
    _, config, model = _common.load_trained(model_dir)
    return oracle_miou(model, config.num_classes, data_dir)


def check_pipeline(model, synthetic_dir, image_dir, tmp_path,
                   predict_from_model_dir=False):
    """train 4 steps -> evaluate (vs a NumPy oracle) -> export (refuses a
    non-empty dir) -> predict (a corrupt file is skipped, exit 1)."""
    model_dir = str(tmp_path / "run")
    log = run_script("train", *train_args(model, synthetic_dir, model_dir))
    assert "Final validation mIoU" in log.stdout
    assert tf.train.latest_checkpoint(model_dir).endswith("ckpt-4")
    with open(os.path.join(model_dir, "config.json")) as f:
        record = json.load(f)
    assert (record["model"], record["num_classes"]) == (model, 5)
    run_script("evaluate", f"--model_dir={model_dir}", "--batch_size=4",
               "--trimap_widths=2")
    with open(os.path.join(model_dir, "eval_val.json")) as f:
        report = json.load(f)
    for key in ("global_accuracy", "class_accuracy", "mean_iou",
                "per_class_iou", "frequency_weighted_iou"):
        assert key in report
    np.testing.assert_allclose(report["mean_iou"],
                               _checkpoint_miou(model_dir, synthetic_dir),
                               atol=1e-6)
    for picture in ("confusion_val.png", "iou_val.png"):
        assert os.path.getsize(os.path.join(model_dir, picture)) > 0
    export_dir = str(tmp_path / "export")
    run_script("export", f"--model_dir={model_dir}",
               f"--export_dir={export_dir}")
    refused = run_script("export", f"--model_dir={model_dir}",
                         f"--export_dir={export_dir}", check=False)
    assert refused.returncode != 0 and "--overwrite" in refused.stdout
    out_dir = tmp_path / "predictions"
    source = (f"--model_dir={model_dir}" if predict_from_model_dir
              else f"--saved_model={export_dir}")
    result = run_script("predict", source,
                        f"--input={image_dir}/*.png",
                        f"--output_dir={out_dir}", check=False)
    assert result.returncode == 1
    assert "broken.png" in result.stdout and "Predicted 2 of 3" in result.stdout
    assert sorted(os.listdir(out_dir)) == [
        "scene0_labels.png", "scene0_overlay.png", "scene1_labels.png",
        "scene1_overlay.png"]
