"""The project against golden outputs of the official TF1 DeepLab.

`tests/golden/deeplab_<name>.npz` hold what the official `research/deeplab`
computed (`tools/golden/deeplab_tf1.py`) with weights drawn from the seed and
each official variable name (`tools.golden.weights.draw_tf1`). Each test
draws the same weights, writes them as a TF1 checkpoint under the official
names (the official graph's convolutions beside it), converts it with
`tools/convert_tf1_deeplab_checkpoint.py` (which checks the atrous rates
against that graph), builds the project's model from the preset and
overrides and compares. Tolerance: `TOLERANCE` times the
official model's own float32 rounding of each compared tensor (its float32
output against float64, stored in the file); argmax agreement at full
resolution >= 99.9 %.
"""

import pathlib

import keras
import numpy as np
import pytest

import deeplab_tf
from tests.deeplab.tf1_checkpoints import (converter_tool, golden_values,
                                          tool_flags, write_tf1_checkpoint)

_ROOT = pathlib.Path(__file__).parents[2]
TOLERANCE = 10   # x the official float32-vs-float64 relative L2 error
MIN_AGREEMENT = 0.999

# Golden file -> the project preset and --override values claimed to be the
# same model.
DEEPLAB = {
    "xception_65_os16": ("xception_65_voc", []),
    "xception_65_os8": ("xception_65_voc", ["output_stride=8"]),
    "xception_65_plain": ("xception_65_voc", ["separable=false"]),
    "xception_65_v3": ("xception_65_voc", ["decoder=false"]),
    "xception_71_os16": ("xception_71_cityscapes", []),
    "resnet_101_beta_os16": ("resnet_101_voc", []),
    "resnet_101_beta_os8": ("resnet_101_voc", ["output_stride=8"]),
    "resnet_50_beta_os16": ("resnet_101_voc", ["backbone=resnet_50"]),
}
# ImageNet classifiers (output stride 32, multi-grid (1, 1, 1)): preset,
# backbone, key of its last features.
BACKBONES = {
    "xception_65_imagenet": ("xception_65_voc", "xception_65", "exit_flow"),
    "resnet_101_beta_imagenet": ("resnet_101_voc", "resnet_101", "c4"),
}


def _golden(name):
    return dict(np.load(_ROOT / f"tests/golden/deeplab_{name}.npz"))


def _convert(golden, tmp_path, preset, override, **options):
    """The golden weights as a TF1 checkpoint (with the official graph beside
    it, as in the released tarballs), through the converter's `run`.

    Returns:
        `(converted .weights.h5 path, the Config converted for)`.
    """
    directory = tmp_path / "official"
    directory.mkdir()
    prefix = write_tf1_checkpoint(directory / "model.ckpt",
                                  golden_values(golden))
    (directory / "frozen_inference_graph.pb").write_bytes(
        golden["graph"].tobytes())
    output = tmp_path / "converted.weights.h5"
    tool = converter_tool()
    flags = tool_flags(prefix, output, preset=preset, override=override,
                       **options)
    report = tool.run(flags)
    assert not (report["unmapped"] or report["missing"]
                or report["shape_mismatch"])
    return str(output), tool.config_from_flags(flags)[0]


def relative_error(value, reference):
    """||value - reference|| / ||reference|| (L2 over all elements)."""
    diff = np.asarray(value, np.float64) - reference
    return float(np.linalg.norm(diff) / np.linalg.norm(reference))


def assert_close(value, golden, key, what):
    """`value` within `TOLERANCE` x the official float32 rounding of
    `golden[key]` (relative L2; printed, for `pytest -s`)."""
    error = relative_error(value, golden[key])
    official = float(golden[f"{key}_float32_error"][0])
    print(f"\n{what} {key}: relative L2 {error:.2e}, "
          f"official float32 {official:.2e}")
    assert error <= TOLERANCE * official, (error, official)


@pytest.mark.large
@pytest.mark.parametrize("name", sorted(DEEPLAB))
def test_deeplab_matches_official(name, tmp_path):
    golden = _golden(name)
    weights, config = _convert(golden, tmp_path, *DEEPLAB[name])
    model = deeplab_tf.build_model(config)
    model.load_weights(weights)
    aspp = keras.Model(model.inputs, [model.get_layer("concat_projection")
                                      .output, model.outputs[0]])
    features, logits = aspp([golden["images"].astype(np.float32)])
    assert_close(features, golden, "aspp", name)
    assert_close(np.asarray(logits)[:, ::3, ::3], golden, "logits", name)
    agreement = np.mean(np.argmax(logits, -1) == golden["labels"])
    print(f"{name}: argmax agreement {agreement:.5f}")
    assert agreement >= MIN_AGREEMENT, agreement


@pytest.mark.large
@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_imagenet_backbone_matches_official(name, tmp_path):
    """An ImageNet classifier checkpoint (`<scope>/logits` head and all) ->
    `--backbone_only` -> `Config(backbone_weights=...)`: the backbone's last
    features equal the official classifier's before its global pooling."""
    golden = _golden(name)
    preset, backbone, key = BACKBONES[name]
    weights, config = _convert(
        golden, tmp_path, preset, ["output_stride=32", "multi_grid=[1,1,1]"],
        backbone_only=True)
    model = deeplab_tf.build_model(config, backbone_weights=weights)
    images = golden["images"].astype(np.float32) / 127.5 - 1.0
    features = model.get_layer(backbone)(images)[key]
    assert_close(features, golden, "features", name)


@pytest.mark.large
def test_graph_at_another_output_stride_is_refused(tmp_path):
    """The official OS16 graph beside the checkpoint: converting for OS8
    (middle flow, exit flow and ASPP rates doubled) is refused."""
    golden = _golden("xception_65_os16")
    (tmp_path / "frozen_inference_graph.pb").write_bytes(
        golden["graph"].tobytes())
    prefix = write_tf1_checkpoint(tmp_path / "model.ckpt", {
        "xception_65/entry_flow/conv1_1/weights": np.zeros((3, 3, 3, 32))})
    tool = converter_tool()
    with pytest.raises(tool.ConversionError, match="aspp1_depthwise at rate "
                       "6, the config at 12"):
        tool.run(tool_flags(prefix, tmp_path / "x.weights.h5",
                            preset="xception_65_voc",
                            override=["output_stride=8"]))
