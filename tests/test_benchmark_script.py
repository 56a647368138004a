"""scripts/benchmark.py end to end on the tiny SegNet-Basic: figures against oracles."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

import bayesian_segnet_tf
from seg_common import hardware

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _conv_multiply_adds(size, width, classes):
    """SegNet-Basic conv MACs by hand: 7x7 convs at each level, 1x1 classifier."""
    h, w = size
    total, levels = 0, []
    for _ in range(4):
        levels.append((h, w))
        h, w = -(-h // 2), -(-w // 2)
    for i, (h, w) in enumerate(levels):
        encoder_in = 3 if i == 0 else width
        total += h * w * 49 * encoder_in * width      # conv{i+1}
        total += h * w * 49 * width * width           # conv_decode{i+1}
    return total + size[0] * size[1] * width * classes


# A minute or more of subprocess on 2 cores: the large tier (CI runs it).
@pytest.mark.large
def test_benchmark_prints_and_writes_every_figure(tmp_path):
    out = tmp_path / "bench.json"
    # The PyTorch yardstick needs the `bench` extra (CI installs it).
    with_torch = importlib.util.find_spec("torch") is not None
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "scripts", "benchmark.py"),
         "--model=bayesian_segnet", "--preset=tiny", "--image_size=24,32",
         "--batch_sizes=1", "--repeats=1", "--train_batch_size=1",
         "--mc_samples=3", "--profile", f"--output_json={out}",
         f"--pytorch_reference={with_torch}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=1500, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert result.returncode == 0, result.stdout[-3000:]
    figures = json.loads(out.read_text())
    config = bayesian_segnet_tf.PRESETS["tiny"]
    model = bayesian_segnet_tf.build_model(config)
    trainable = sum(int(v.numpy().size) for v in model.trainable_variables)
    assert figures["parameters"]["trainable"] == trainable
    width = 32  # the tiny preset: SegNet-Basic at width_multiplier 0.5
    want = _conv_multiply_adds((24, 32), width, config.num_classes)
    # The profiler also counts BN, ReLU and LRN arithmetic: conv MACs dominate.
    assert want <= figures["multiply_adds"] <= 1.1 * want
    for precision in ("float32", "mixed_bfloat16"):
        assert figures["precisions"][precision]["inference_images_per_s_batch1"] > 0
        assert figures["precisions"][precision]["training_images_per_s"] > 0
    assert figures["precisions"]["float32"]["agreement_with_float32"] == 1.0
    batch_norms = 8  # SegNet-Basic: 4 encoder + 4 decoder convs, each + BN
    for precision in ("float32", "mixed_bfloat16"):
        folded = figures["precisions"][precision]
        assert folded["batch_norms_folded"] == batch_norms
        assert folded["folded_inference_images_per_s_batch1"] > 0
    # Folding changes float32 rounding only; under bfloat16 it agrees with
    # float32 about as well as the Keras bfloat16 model does.
    fp32, bf16 = (figures["precisions"][p]
                  for p in ("float32", "mixed_bfloat16"))
    assert fp32["folded_agreement_with_float32"] >= 0.99
    assert (bf16["folded_agreement_with_float32"]
            >= bf16["agreement_with_float32"] - 0.05)
    assert figures["machine_peak_flops"]["fp32_matmul"] > 1e9
    assert set(figures["extra"]["mc_dropout"]["seconds"]) == {
        "full_float32", "fast_float32", "fast_bfloat16"}
    assert "multiply-adds" in result.stdout and "GFLOP/s" in result.stdout
    cpu = hardware.describe_cpu()
    assert figures["cpu"] == cpu
    assert f"CPU: {cpu['model']}" in result.stdout
    profile = figures["extra"]["op_profile"]
    convs = sum(row["nodes"] for row in profile["ops"] if "Conv2D" in row["op"])
    assert convs == 9  # 8 7x7 convs and the 1x1 classifier, each traced once
    assert "op profile" in result.stdout
    if with_torch:
        torch_figures = figures["extra"]["pytorch_reference"]
        for precision in ("float32", "bfloat16_channels_last"):
            assert torch_figures[precision]["images_per_s_batch1"] > 0
            assert torch_figures[precision]["mc_seconds"] > 0
        assert set(figures["extra"]["versus_pytorch"]) == {
            "float32_images_per_s_batch1", "mixed_bfloat16_images_per_s_batch1",
            "mc_fastest_seconds_over_pytorch_bf16"}
