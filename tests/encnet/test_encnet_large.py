"""Full-size EncNet checks: parameter counts (expected values) and Encoding memory."""

import pathlib
import subprocess
import sys

import numpy as np
import pytest

import encnet_tf
from seg_common import profiling

# Expected trainable parameters (incl. BN gamma/beta), millions.
SPEC_PARAMS = {
    ("pascal_context", "resnet_50"): 33.98,
    ("pascal_context", "resnet_101"): 52.97,
    ("pascal_context_reference", "resnet_50"): 43.92,
    ("pascal_context_reference", "resnet_101"): 62.91,
    ("ade20k_reference", "resnet_50"): 36.16,
    ("ade20k_reference", "resnet_101"): 55.16,
}


@pytest.mark.large
@pytest.mark.parametrize("preset, backbone", sorted(SPEC_PARAMS))
def test_parameter_count_matches_spec(preset, backbone):
    model = encnet_tf.build_model(encnet_tf.PRESETS[preset], backbone=backbone)
    params = sum(int(np.prod(w.shape)) for w in model.trainable_weights) / 1e6
    want = SPEC_PARAMS[(preset, backbone)]
    print(f"{preset} {backbone}: {params:.3f} M (expected {want} M)")
    assert abs(params - want) / want < 0.02


@pytest.mark.large
def test_backbone_is_the_dilated_resnet_50s_of_spec_1_1():
    """Deep 3x3 stem 64-64-128; stride on the 3x3 conv of unit 1 of stage 2;
    stage 3 dilation 2 (unit 1: 1), stage 4 dilation 4 (unit 1: 2); BN 0.9 /
    1e-5."""
    model = encnet_tf.build_model(encnet_tf.PRESETS["pascal_context"])
    backbone = model.get_layer("resnet_50_s")
    convs = {l.name: l for l in backbone.layers
             if getattr(l, "kernel_size", None) == 3}
    assert [convs[f"conv1_{i}"].filters for i in (1, 2, 3)] == [64, 64, 128]
    assert convs["conv1_1"].strides == 2
    assert convs["block2_unit_1_conv2"].strides == 2
    rates = {block: [convs[f"block{block}_unit_{u}_conv2"].dilation_rate
                     for u in range(1, n + 1)]
             for block, n in ((3, 6), (4, 3))}
    assert rates == {3: [1, 2, 2, 2, 2, 2], 4: [2, 4, 4]}
    assert (convs["conv1_1"].momentum, convs["conv1_1"].epsilon) == (0.9, 1e-5)


@pytest.mark.large
def test_resnet_50_forward_at_the_paper_crop():
    """480x480 in, 60x60 features (OS8), logits back at 480x480."""
    model = encnet_tf.build_model(encnet_tf.PRESETS["pascal_context"])
    images = np.random.default_rng(0).uniform(0, 255, (1, 480, 480, 3))
    out = model(images.astype(np.float32), training=False)
    assert tuple(out["logits"].shape) == (1, 480, 480, 59)
    assert tuple(out["se_logits_stage4"].shape) == (1, 59)
    assert tuple(out["se_logits_stage3"].shape) == (1, 59)
    assert np.all(np.isfinite(np.asarray(out["logits"])))


@pytest.mark.large
def test_multiply_adds_match_spec_at_480():
    """The default EncNet-50: 130.0 GMAC expected (conv and dense)."""
    model = encnet_tf.build_model(encnet_tf.PRESETS["pascal_context"])
    gmac = profiling.multiply_adds(model, (1, 480, 480, 3), conv_only=True)
    print(f"EncNet-50 at 480x480: {gmac / 1e9:.2f} GMAC (expected 130.0)")
    assert abs(gmac / 1e9 - 130.0) / 130.0 < 0.02


@pytest.mark.large
def test_fcn_baseline_is_the_backbone_plus_conv5_and_classifier():
    """Expected: backbone 23.63 M, conv5 9.44 M; classifier 512*59 + 59."""
    model = encnet_tf.build_model(encnet_tf.PRESETS["fcn_pascal_context"])
    params = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    want = 23.63e6 + 9.44e6 + 512 * 59 + 59
    assert abs(params - want) / want < 0.005
    assert set(model.output) == {"logits"}


@pytest.mark.large
def test_encoding_memory_at_batch_16_crop_480():
    """B=16, N=60*60, D=512, K=32: far below the 3.6 GiB naive residual."""
    out = subprocess.run(
        [sys.executable, "-m", "tests.encnet.encoding_memory"],
        capture_output=True, text=True, check=True, timeout=300,
        cwd=pathlib.Path(__file__).resolve().parents[2])
    figures = {line.split(":")[0]: float(line.split()[1])
               for line in out.stdout.splitlines() if line.endswith("MiB")}
    print(figures)
    assert figures["naive_residual"] == 3600.0
    # No graph tensor is larger than the (B, N, D) input itself.
    assert figures["largest_graph_tensor"] <= figures["input"]
    # Measured ~600 MiB: input gradient, saved activations, allocator slack.
    assert figures["peak_rss_growth"] < 0.25 * figures["naive_residual"]
