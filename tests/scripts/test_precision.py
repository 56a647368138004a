"""--precision / --mixed_precision=auto: inference runs the folded graph in the
precision the CPU computes natively, and the outputs record which."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from _inprocess import call_script
from _scripts import ROOT, synthetic_dir, train_args  # noqa: F401
from seg_common import hardware


@pytest.fixture(scope="module")
def run(synthetic_dir, tmp_path_factory):  # noqa: F811
    model_dir = str(tmp_path_factory.mktemp("precision") / "run")
    assert call_script("train", *train_args(
        "deeplabv3plus", synthetic_dir, model_dir, 2, "--novalidate")).code == 0
    return model_dir


def _evaluate(model_dir, precision):
    assert call_script("evaluate", f"--model_dir={model_dir}",
                       "--batch_size=4", f"--precision={precision}").code == 0
    with open(os.path.join(model_dir, "eval_val.json")) as f:
        return json.load(f)


def test_evaluate_records_precision_and_cpu(run):
    fp32 = _evaluate(run, "float32")
    bf16 = _evaluate(run, "bfloat16")
    assert (fp32["precision"], bf16["precision"]) == ("float32", "bfloat16")
    assert fp32["cpu"] == hardware.describe_cpu()
    # Same pixels counted; bf16 rounding moves few predictions.
    matrices = [np.array(r["predictors"]["single_scale"]["confusion_matrix"])
                for r in (fp32, bf16)]
    assert matrices[0].sum() == matrices[1].sum()
    assert abs(fp32["global_accuracy"] - bf16["global_accuracy"]) < 0.05


def test_export_serves_the_folded_graph(run, tmp_path):
    import _common
    export_dir = str(tmp_path / "export")
    assert call_script("export", f"--model_dir={run}",
                       f"--export_dir={export_dir}",
                       "--precision=float32").code == 0
    with open(os.path.join(export_dir, "assets.extra", "serving.json")) as f:
        assert json.load(f)["precision"] == "float32"
    # The weights are constants of the graph: no variable is saved.
    saved = tf.train.list_variables(os.path.join(export_dir, "variables",
                                                 "variables"))
    assert [name for name, _ in saved] == ["_CHECKPOINTABLE_OBJECT_GRAPH"]
    loaded = tf.saved_model.load(export_dir)
    _, _, model = _common.load_trained(run)
    images = np.random.default_rng(0).integers(0, 255, (2, 32, 40, 3))
    served = loaded.signatures["serving_default"](
        images=tf.constant(images.astype(np.uint8)))
    want = tf.nn.softmax(model(images.astype(np.float32))["logits"])
    np.testing.assert_allclose(served["probabilities"], want, atol=1e-5)


@pytest.mark.parametrize("flag, environ, native, want", [
    ("auto", {}, True, "mixed_bfloat16"),
    ("auto", {}, False, "none"),
    ("auto", {"SEG_PRECISION": "float32"}, True, "none"),
    ("auto", {"SEG_PRECISION": "bfloat16"}, False, "mixed_bfloat16"),
    ("none", {}, True, "none"),
    ("mixed_bfloat16", {}, False, "mixed_bfloat16"),
])
def test_training_policy_follows_the_hardware(monkeypatch, flag, environ,
                                              native, want):
    monkeypatch.setattr(hardware, "native_bfloat16", lambda: native)
    assert hardware.training_policy(flag, environ) == want
