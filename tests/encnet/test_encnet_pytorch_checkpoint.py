"""PyTorch-Encoding checkpoint conversion: the key mapping and bad checkpoints.

Known answers: the state-dict manifests of the official models stored in
`tests/golden/encnet_*.npz` (keys and shapes as PyTorch-Encoding writes them).
"""

import numpy as np
import pytest

import encnet_tf
from encnet_tf import pytorch_checkpoint
from seg_common.data import datasets, label_maps
from tests.encnet import pytorch_golden

PCONTEXT = "encnet_resnet50s_pcontext"
# PyTorch-Encoding `ContextSegmentation._mapping`: the 459-label ids of
# background and the 59 classes; a label becomes its rank in the sorted ids,
# minus one (background -> ignored).
OFFICIAL_CONTEXT_IDS = (
    0, 2, 259, 260, 415, 324, 9, 258, 144, 18, 19, 22, 23, 397, 25, 284, 158,
    159, 416, 33, 162, 420, 454, 295, 296, 427, 44, 45, 46, 308, 59, 440, 445,
    31, 232, 65, 354, 424, 68, 326, 72, 458, 34, 207, 80, 355, 85, 347, 220,
    349, 360, 98, 187, 104, 105, 366, 189, 368, 113, 115)
# Names of those ids in PASCAL-Context's 459-label list (labels.txt).
CONTEXT_LABELS_459 = {
    2: "aeroplane", 9: "bag", 18: "bed", 19: "bedclothes", 22: "bench",
    23: "bicycle", 25: "bird", 31: "boat", 33: "book", 34: "bottle",
    44: "building", 45: "bus", 46: "cabinet", 59: "car", 65: "cat",
    68: "ceiling", 72: "chair", 80: "cloth", 85: "computer", 98: "cow",
    104: "cup", 105: "curtain", 113: "dog", 115: "door", 144: "fence",
    158: "floor", 159: "flower", 162: "food", 187: "grass", 189: "ground",
    207: "horse", 220: "keyboard", 232: "light", 258: "motorbike",
    259: "mountain", 260: "mouse", 284: "person", 295: "plate",
    296: "platform", 308: "pottedplant", 324: "road", 326: "rock",
    347: "sheep", 349: "shelves", 354: "sidewalk", 355: "sign", 360: "sky",
    366: "snow", 368: "sofa", 397: "table", 415: "track", 416: "train",
    420: "tree", 424: "truck", 427: "tvmonitor", 440: "wall", 445: "water",
    454: "window", 458: "wood"}


def test_pascal_context_class_order_is_the_released_models():
    """Class c of the project is output c of the released models: the same
    names in the same order, and the same label shift (official
    `_mask_transform`: label - 1, background -> -1, ignored)."""
    official = [CONTEXT_LABELS_459[i]
                for i in sorted(OFFICIAL_CONTEXT_IDS)[1:]]
    info = datasets.get_dataset_info("pascal_context")
    assert list(info.class_names) == official
    table = label_maps.shift_map(len(official))
    assert table[0] == info.ignore_label
    np.testing.assert_array_equal(table[1:60], np.arange(59))


@pytest.mark.parametrize("path, key", [
    ("conv1_1/conv/kernel", "pretrained.conv1.0.weight"),
    ("conv1_3/bn/moving_variance", "pretrained.bn1.running_var"),
    ("block3_unit_6_conv2/bn/beta", "pretrained.layer3.5.bn2.bias"),
    ("block4_unit_1_shortcut/conv/kernel",
     "pretrained.layer4.0.downsample.0.weight"),
    ("head_lateral_c3/bn/gamma", "head.connect.1.1.weight"),
    ("head_context_encoding/encoding/codewords",
     "head.encmodule.encoding.3.codewords"),
    ("head_context_encoding/codeword_bn/moving_mean",
     "head.encmodule.encoding.4.running_mean"),
    ("head_aux_classifier/bias", "auxlayer.conv5.4.bias"),
    ("head_stage3_conv/conv/kernel", None),
])
def test_torch_key(path, key):
    assert pytorch_checkpoint.torch_key(path) == key


def test_torch_key_of_a_bare_backbone_has_no_prefix():
    assert pytorch_checkpoint.torch_key(
        "block2_unit_1_conv2/conv/kernel", backbone_prefix="") == (
        "layer2.0.conv2.weight")


def test_to_keras_transposes_kernels_only():
    conv = np.arange(24.0).reshape(4, 3, 2, 1)             # O, I, H, W
    assert pytorch_checkpoint.to_keras(conv, "a/conv/kernel").shape == (
        2, 1, 3, 4)
    assert pytorch_checkpoint.to_keras(
        conv, "a/conv/kernel")[1, 0, 2, 3] == conv[3, 2, 1, 0]
    dense = np.arange(6.0).reshape(2, 3)                    # out, in
    np.testing.assert_array_equal(
        pytorch_checkpoint.to_keras(dense, "fc/kernel"), dense.T)
    np.testing.assert_array_equal(
        pytorch_checkpoint.to_keras(dense, "e/encoding/codewords"), dense)


def test_released_models_fit_the_reference_presets_only():
    for preset in ("pascal_context_reference", "ade20k_reference"):
        assert pytorch_checkpoint.config_problem(
            encnet_tf.PRESETS[preset]) is None
    problem = pytorch_checkpoint.config_problem(
        encnet_tf.PRESETS["pascal_context"])
    assert "stage3_encoding=True" in problem
    assert "encoding_projection=False" in problem


def test_infer_backbone_counts_layer3_units():
    state = {f"pretrained.layer3.{u}.conv1.weight": 0 for u in range(23)}
    assert pytorch_checkpoint.infer_backbone(state) == "resnet_101"
    with pytest.raises(ValueError, match="layer3 has 0 units"):
        pytorch_checkpoint.infer_backbone(state, backbone_prefix="")


@pytest.fixture(scope="module")
def pcontext():
    """(golden, state dict, reference ResNet-50s EncNet)."""
    golden = pytorch_golden.load(PCONTEXT)
    model = encnet_tf.build_model(
        encnet_tf.PRESETS["pascal_context_reference"])
    return golden, pytorch_golden.state_dict(golden), model


FAULTS = ("missing", "unexpected", "shape", "classes")


def _corrupt(state, fault):
    """A copy of `state` with one fault; returns (state, the key named)."""
    state = dict(state)
    if fault == "missing":
        del state["head.conv5.1.running_mean"]
        return state, "head.conv5.1.running_mean"
    if fault == "unexpected":
        state["head.extra.weight"] = np.zeros(3, np.float32)
        return state, "head.extra.weight"
    if fault == "shape":
        state["head.encmodule.encoding.3.codewords"] = np.zeros(
            (16, 512), np.float32)
        return state, "head.encmodule.encoding.3.codewords"
    for key in ("head.conv6.1", "auxlayer.conv5.4", "head.encmodule.selayer"):
        state[f"{key}.weight"] = state[f"{key}.weight"][:21]
        state[f"{key}.bias"] = state[f"{key}.bias"][:21]
    return state, "class count"


@pytest.mark.large
def test_mapping_covers_the_official_manifest(pcontext):
    golden, state, model = pcontext
    keys = set(pytorch_checkpoint.key_map(model))
    official = {k for k, _ in golden["manifest"]
                if not k.endswith("num_batches_tracked")}
    assert keys == official
    assert pytorch_checkpoint.check_state_dict(state, model) == []


@pytest.mark.large
@pytest.mark.parametrize("fault", FAULTS)
def test_bad_state_dict_gives_one_problem(pcontext, fault):
    _, state, model = pcontext
    bad, named = _corrupt(state, fault)
    before = model.get_layer("head_conv5").get_weights()[0].copy()
    problems = pytorch_checkpoint.load_state_dict(model, bad)
    assert len(problems) == 1 and named in problems[0], problems
    np.testing.assert_array_equal(
        model.get_layer("head_conv5").get_weights()[0], before)


@pytest.mark.large
@pytest.mark.parametrize("fault", FAULTS)
def test_converter_script_rejects_bad_checkpoint(pcontext, fault, tmp_path):
    """One line on stderr naming the key, exit 1, the existing output kept."""
    _, state, _ = pcontext
    bad, named = _corrupt(state, fault)
    checkpoint = pytorch_golden.save_pth(bad, tmp_path / "bad.pth")
    output = tmp_path / "mine.weights.h5"
    output.write_text("the user's file")
    result = pytorch_golden.run_converter(
        f"--checkpoint={checkpoint}", f"--output={output}",
        "--preset=pascal_context_reference", "--overwrite")
    lines = pytorch_golden.error_lines(result)
    assert result.returncode == 1
    assert len(lines) == 1 and named in lines[0], result.stderr
    assert output.read_text() == "the user's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bad.pth", "mine.weights.h5"]


@pytest.mark.large
@pytest.mark.parametrize("name, preset", [
    ("encnet_resnet101s_pcontext", "pascal_context_reference"),
    ("encnet_resnet101s_ade", "ade20k_reference"),
    ("resnet101s", None)])
def test_resnet101s_checkpoints_fit(name, preset):
    """The official ResNet-101s keys and shapes (zeros stand in for values)
    load into the model `build_target` picks: a ResNet-101 backbone."""
    manifest = pytorch_golden.load_manifests()[name]
    state = {key: np.broadcast_to(np.float32(0), shape)
             for key, shape in manifest}
    config = encnet_tf.PRESETS[preset] if preset else None
    model, prefix = pytorch_checkpoint.build_target(state, config)
    assert "block3_unit_23_conv3/conv/kernel" in {
        v.path for v in model.weights}
    assert pytorch_checkpoint.check_state_dict(state, model, prefix) == []


@pytest.mark.parametrize("flags, flag", [
    (["--bogus=1"], "bogus"),
    (["--preset=pascal_context"], "--preset=pascal_context"),
    (["--preset=nope"], "--preset=nope"),
    (["--backbone_only", "--output=x.h5"], "--output=x.h5"),
])
def test_converter_script_rejects_bad_flags(flags, flag, tmp_path):
    checkpoint = tmp_path / "c.pth"
    checkpoint.write_bytes(b"not read")
    result = pytorch_golden.run_converter(
        f"--checkpoint={checkpoint}", f"--output={tmp_path / 'o.weights.h5'}",
        *flags)
    lines = pytorch_golden.error_lines(result)
    assert result.returncode == 1
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and flag in lines[0]


def test_converter_script_rejects_a_file_that_is_no_checkpoint(tmp_path):
    checkpoint = tmp_path / "c.pth"
    checkpoint.write_bytes(b"not a checkpoint")
    result = pytorch_golden.run_converter(
        f"--checkpoint={checkpoint}", f"--output={tmp_path / 'o.weights.h5'}",
        "--backbone_only")
    lines = pytorch_golden.error_lines(result)
    assert result.returncode == 1
    assert len(lines) == 1 and "not a PyTorch checkpoint" in lines[0]
    assert not (tmp_path / "o.weights.h5").exists()
