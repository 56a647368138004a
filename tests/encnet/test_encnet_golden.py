"""EncNet and ResNet-50s against PyTorch-Encoding's own outputs.

Oracle: `tests/golden/encnet_*.npz`, written by running the official code
(`tools/golden/encnet_pytorch_encoding.py`). Each test redraws the weights
the official model ran with, saves them as a PyTorch `.pth` under the
official keys, converts it with `tools/convert_pytorch_encoding_checkpoint.py`,
loads the result into the project's model and runs the stored images.

Tolerance: the golden outputs come from a float64 run of the official model;
the file also stores how far the official float32 run is from it. The
project (float32) may be `TOLERANCE_FACTOR` times as far.
"""

import numpy as np
import pytest

import encnet_tf
from encnet_tf.layers import image_normalization
from seg_common.backbones import build_resnet
from tests.encnet import pytorch_golden

TOLERANCE_FACTOR = 8.0
MIN_ARGMAX_AGREEMENT = 0.999
ENCNET_GOLDEN = {"encnet_resnet50s_pcontext": "pascal_context_reference",
                 "encnet_resnet50s_ade": "ade20k_reference"}


@pytest.mark.parametrize("name", sorted(ENCNET_GOLDEN) + [
    "encnet_resnet50s_imagenet"])
def test_golden_weights_are_redrawn_exactly(name):
    """The fast tier's warning that the golden files need regenerating."""
    golden = pytorch_golden.load(name)
    assert len(pytorch_golden.state_dict(golden)) == len(golden["manifest"])


def _converted(golden, tmp_path, *flags):
    checkpoint = pytorch_golden.save_pth(pytorch_golden.state_dict(golden),
                                         tmp_path / "official.pth")
    output = tmp_path / "converted.weights.h5"
    result = pytorch_golden.run_converter(
        f"--checkpoint={checkpoint}", f"--output={output}", *flags)
    assert result.returncode == 0, result.stderr
    return str(output)


def _assert_close(name, got, golden):
    want = golden[name]
    limit = TOLERANCE_FACTOR * float(golden[f"float32_error_{name}"])
    error = float(np.abs(np.asarray(got) - want).max())
    print(f"{name}: max |project - official float64| {error:.3g}, official "
          f"float32 {float(golden[f'float32_error_{name}']):.3g}, max |y| "
          f"{np.abs(want).max():.3g}")
    assert np.shape(got) == want.shape
    assert error <= limit, f"{name}: {error:.3g} > {limit:.3g}"


def _argmax_agreement(got, want):
    return float(np.mean(np.argmax(got, -1) == np.argmax(want, -1)))


@pytest.mark.large
@pytest.mark.parametrize("name", sorted(ENCNET_GOLDEN))
def test_encnet_matches_pytorch_encoding(name, tmp_path):
    golden = pytorch_golden.load(name)
    preset = ENCNET_GOLDEN[name]
    config = encnet_tf.PRESETS[preset]
    assert (config.num_classes, config.lateral) == (
        int(golden["num_classes"]), bool(golden["lateral"]))
    weights = _converted(golden, tmp_path, f"--preset={preset}")
    model = encnet_tf.build_model(config)
    model.load_weights(weights)
    outputs = model(golden["images"], training=False)
    for key in ("logits", "aux_logits", "se_logits_stage4"):
        _assert_close(key, outputs[key], golden)
    for key in ("logits", "aux_logits"):
        agreement = _argmax_agreement(outputs[key], golden[key])
        print(f"{key}: argmax agreement {agreement:.5f}")
        assert agreement >= MIN_ARGMAX_AGREEMENT


@pytest.mark.large
def test_resnet50s_backbone_weights_match_pytorch_encoding(tmp_path):
    """An ImageNet `resnet50s` checkpoint as `Config.backbone_weights`
    (loaded through `build_resnet(weights=...)`, as EncNet does), compared
    at output stride 32, the ImageNet network's own layout."""
    golden = pytorch_golden.load("encnet_resnet50s_imagenet")
    weights = _converted(golden, tmp_path, "--backbone_only")
    backbone = build_resnet(50, style="s", output_stride=32, weights=weights)
    features = backbone(image_normalization()(golden["images"]),
                        training=False)
    for key in ("c1", "c2", "c3", "c4"):
        _assert_close(key, features[key], golden)
