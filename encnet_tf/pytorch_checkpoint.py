"""PyTorch-Encoding state dicts -> the variables of `encnet_tf` models.

Maps every variable of an EncNet built from a `*_reference` preset (or of a
bare `seg_common.backbones.build_resnet(style="s")`) to its key in the
state dicts of PyTorch-Encoding's `EncNet` / `resnet50s` / `resnet101s`,
checks a state dict against the model (missing, unexpected, mis-shaped
keys; the class count) and copies it in. Works on numpy arrays; only
`read_state_dict` needs torch.

Key layout (EncNet; the ImageNet backbones drop the `pretrained.` prefix
and add the unused `fc.weight` / `fc.bias`):

| project layer | PyTorch-Encoding module |
|---|---|
| `conv1_1`, `conv1_2`, `conv1_3` | `pretrained.conv1.{0,1}`, `.{3,4}`, `.6` + `pretrained.bn1` |
| `block{b}_unit_{u}_conv{i}` | `pretrained.layer{b}.{u-1}.conv{i}` / `.bn{i}` |
| `block{b}_unit_1_shortcut` | `pretrained.layer{b}.0.downsample.{0,1}` |
| `head_conv5` | `head.conv5.{0,1}` |
| `head_lateral_c2`, `_c3`, `_fusion` | `head.connect.{0,1}.{0,1}`, `head.fusion.{0,1}` |
| `head_encoding_projection` | `head.encmodule.encoding.{0,1}` |
| `head_context_encoding` | `head.encmodule.encoding.3` (Encoding), `.4` (BN over K) |
| `head_attention_fc`, `head_se_stage4` | `head.encmodule.fc.0`, `head.encmodule.selayer` |
| `head_classifier` | `head.conv6.1` |
| `head_aux_conv`, `head_aux_classifier` | `auxlayer.conv5.{0,1}`, `auxlayer.conv5.4` |

Kernels are transposed: conv OIHW -> HWIO, linear (out, in) -> (in, out).
"""

import dataclasses
import re

import numpy as np

from encnet_tf.backbone import RESNET_DEPTHS
from encnet_tf.model import build_model
from seg_common.backbones import build_resnet

ENCNET_PREFIX = "pretrained."
CLASSIFIER = "head.conv6.1.weight"
_BN = {"gamma": "weight", "beta": "bias", "moving_mean": "running_mean",
       "moving_variance": "running_var"}
# ConvBNAct layers: (torch conv module, torch batch-norm module).
_STEM = {"conv1_1": ("conv1.0", "conv1.1"), "conv1_2": ("conv1.3", "conv1.4"),
         "conv1_3": ("conv1.6", "bn1")}
_HEAD_CONV_BN = {
    "head_conv5": "head.conv5", "head_lateral_c2": "head.connect.0",
    "head_lateral_c3": "head.connect.1", "head_lateral_fusion": "head.fusion",
    "head_encoding_projection": "head.encmodule.encoding",
    "head_aux_conv": "auxlayer.conv5"}
# Layers (or sub-layers) with one torch module each.
_HEAD_SINGLE = {
    "head_context_encoding/encoding": "head.encmodule.encoding.3",
    "head_context_encoding/codeword_bn": "head.encmodule.encoding.4",
    "head_attention_fc": "head.encmodule.fc.0",
    "head_se_stage4": "head.encmodule.selayer",
    "head_classifier": "head.conv6.1",
    "head_aux_classifier": "auxlayer.conv5.4"}
_CLASS_LAYERS = ("head_classifier", "head_aux_classifier", "head_se_stage4")
_UNIT = re.compile(r"block(\d)_unit_(\d+)_(conv[123]|shortcut)$")
_LAYER3_UNITS = {6: "resnet_50", 23: "resnet_101"}
# Entries the project has no variable for and never needs.
_IGNORED = re.compile(r"(^|\.)num_batches_tracked$")
_IMAGENET_CLASSIFIER = ("fc.weight", "fc.bias")
# The head of PyTorch-Encoding's `EncNet` (every released model); `lateral`
# (PASCAL datasets) and `num_classes` follow the dataset.
RELEASED_HEAD = dict(
    encoding=True, encoding_projection=True, aggregation="mean",
    attention="residual", se_loss=True, stage3_encoding=False, aux_head=True,
    head_channels=512, num_codes=32, aux_channels=256, align_corners=True,
    bn_epsilon=1e-5)


def _module_of(layer, sub):
    """The torch module of Keras layer `layer` / sub-layer `sub`, or None."""
    if f"{layer}/{sub}" in _HEAD_SINGLE:
        return _HEAD_SINGLE[f"{layer}/{sub}"]
    if layer in _HEAD_SINGLE and not sub:
        return _HEAD_SINGLE[layer]
    pair = _STEM.get(layer)
    if layer in _HEAD_CONV_BN:
        pair = (f"{_HEAD_CONV_BN[layer]}.0", f"{_HEAD_CONV_BN[layer]}.1")
    match = _UNIT.match(layer)
    if match:
        block, unit, kind = match.groups()
        base = f"layer{block}.{int(unit) - 1}"
        pair = ((f"{base}.downsample.0", f"{base}.downsample.1")
                if kind == "shortcut" else
                (f"{base}.{kind}", f"{base}.bn{kind[-1]}"))
    if pair is None or sub not in ("conv", "bn"):
        return None
    return pair[0] if sub == "conv" else pair[1]


def torch_key(path, backbone_prefix=ENCNET_PREFIX):
    """The state-dict key of the Keras variable at `path`, or None.

    Args:
        path: `keras.Variable.path`, e.g. `"block2_unit_1_conv2/bn/gamma"`.
        backbone_prefix: prepended to backbone keys (`"pretrained."` in an
            EncNet state dict, `""` in an ImageNet `resnet50s` one).

    Returns:
        e.g. `"pretrained.layer2.0.bn2.weight"`; None for a variable with no
        PyTorch-Encoding counterpart (e.g. the paper's stage-3 branch).
    """
    layer, *subs, leaf = path.split("/")
    module = _module_of(layer, "/".join(subs))
    if module is None:
        return None
    name = _BN.get(leaf, "weight" if leaf == "kernel" else leaf)
    prefix = "" if layer.startswith("head") else backbone_prefix
    return f"{prefix}{module}.{name}"


def to_keras(value, path):
    """A state-dict array in the layout of the Keras variable at `path`.

    Kernels: conv OIHW -> HWIO, linear (out, in) -> (in, out); everything
    else (batch norm, biases, the Encoding codewords (K, D)) is unchanged.
    """
    value = np.asarray(value)
    if not path.endswith("/kernel"):
        return value
    return value.transpose(2, 3, 1, 0) if value.ndim == 4 else value.T


def torch_shape(variable):
    """The state-dict shape of a Keras variable (inverse of `to_keras`)."""
    shape = tuple(variable.shape)
    if not variable.path.endswith("/kernel"):
        return shape
    if len(shape) == 4:
        return (shape[3], shape[2], shape[0], shape[1])
    return shape[::-1]


def key_map(model, backbone_prefix=ENCNET_PREFIX):
    """`{state-dict key: keras.Variable}` for every variable of `model`.

    Raises:
        ValueError: a variable has no PyTorch-Encoding counterpart (a model
            that no released checkpoint fits, e.g. a paper preset).
    """
    keys = {}
    for variable in model.weights:
        key = torch_key(variable.path, backbone_prefix)
        if key is None:
            raise ValueError(f"model variable {variable.path} has no "
                             "PyTorch-Encoding counterpart")
        keys[key] = variable
    return keys


def _class_count_problem(state, keys):
    if CLASSIFIER not in keys or CLASSIFIER not in state:
        return None
    have, want = np.shape(state[CLASSIFIER])[0], keys[CLASSIFIER].shape[-1]
    if have == want:
        return None
    return (f"class count: the checkpoint has {have} classes "
            f"({CLASSIFIER}), the model {want}")


def _optional(key, backbone_prefix):
    return bool(_IGNORED.search(key)) or (
        not backbone_prefix and key in _IMAGENET_CLASSIFIER)


def check_state_dict(state, model, backbone_prefix=ENCNET_PREFIX):
    """What keeps `state` from loading into `model`, one line per problem.

    Args:
        state: `{key: array}`, a PyTorch-Encoding state dict as numpy.
        model: an EncNet of a `*_reference` preset, or a `build_resnet`
            style "s" backbone (then `backbone_prefix=""`).
        backbone_prefix: see `torch_key`.

    Returns:
        A list of strings: a differing class count (once, instead of the
        shape mismatches it causes), missing keys, mis-shaped keys,
        unexpected keys. `num_batches_tracked` entries and, for a bare
        backbone, the ImageNet `fc.*` classifier are never unexpected.
    """
    keys = key_map(model, backbone_prefix)
    class_problem = _class_count_problem(state, keys)
    problems = [class_problem] if class_problem else []
    for key, variable in keys.items():
        if key not in state:
            problems.append(f"missing key {key} (model variable "
                            f"{variable.path})")
        elif class_problem and variable.path.split("/")[0] in _CLASS_LAYERS:
            continue
        elif tuple(np.shape(state[key])) != torch_shape(variable):
            problems.append(
                f"shape mismatch {key}: checkpoint {np.shape(state[key])}, "
                f"model {torch_shape(variable)}")
    problems += [f"unexpected key {key}" for key in state
                 if key not in keys and not _optional(key, backbone_prefix)]
    return problems


def load_state_dict(model, state, backbone_prefix=ENCNET_PREFIX):
    """Copies `state` into `model` if `check_state_dict` finds no problem.

    Returns:
        The problems; the model is left untouched unless the list is empty.
    """
    problems = check_state_dict(state, model, backbone_prefix)
    if not problems:
        for key, variable in key_map(model, backbone_prefix).items():
            variable.assign(to_keras(state[key], variable.path))
    return problems


def infer_backbone(state, backbone_prefix=ENCNET_PREFIX):
    """`"resnet_50"` or `"resnet_101"` from the units of `layer3` in `state`.

    Raises:
        ValueError: neither 6 (ResNet-50s) nor 23 (ResNet-101s) units.
    """
    pattern = re.compile(re.escape(backbone_prefix) + r"layer3\.(\d+)\.")
    units = {m.group(1) for m in map(pattern.match, state) if m}
    if len(units) not in _LAYER3_UNITS:
        raise ValueError(
            f"{backbone_prefix}layer3 has {len(units)} units; expected 6 "
            "(ResNet-50s) or 23 (ResNet-101s)")
    return _LAYER3_UNITS[len(units)]


def read_state_dict(path):
    """The state dict of a `.pth` file as `{key: numpy array}` (needs torch).

    Accepts a bare state dict (the released models) or a training
    checkpoint holding one under `"state_dict"`.

    Raises:
        ImportError: torch is not installed.
        ValueError: the file holds no state dict of tensors.
    """
    import torch  # optional dependency, only for reading .pth files

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a bad file
        raise ValueError(f"not a PyTorch checkpoint ({error})".splitlines()[0]
                         ) from error
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(
            torch.is_tensor(v) for v in state.values()):
        raise ValueError("holds no state dict of tensors")
    return {key: value.numpy() for key, value in state.items()}


def config_problem(config):
    """Why `config` cannot run PyTorch-Encoding's EncNet weights, or None.

    The `*_reference` presets fit; the paper presets differ (stage-3 SE
    branch, no projection, sum aggregation, scaling attention).
    """
    differ = [f"{name}={getattr(config, name)!r}"
              for name, value in RELEASED_HEAD.items()
              if getattr(config, name) != value]
    if not differ:
        return None
    return ("differs from PyTorch-Encoding's EncNet in " + ", ".join(differ)
            + "; use pascal_context_reference or ade20k_reference")


def build_target(state, config=None):
    """The model `state` loads into, with the checkpoint's ResNet depth.

    Args:
        state: `{key: array}`.
        config: an `encnet_tf.Config` for an EncNet checkpoint; None for an
            ImageNet `resnet50s` / `resnet101s` checkpoint (a bare backbone,
            whose `.weights.h5` serves as `Config.backbone_weights`).

    Returns:
        `(model, backbone_prefix)` for `load_state_dict`.

    Raises:
        ValueError: see `infer_backbone`.
    """
    if config is None:
        depth = RESNET_DEPTHS[infer_backbone(state, "")]
        return build_resnet(depth, style="s"), ""
    config = dataclasses.replace(config, backbone=infer_backbone(state),
                                 backbone_weights=None)
    return build_model(config), ENCNET_PREFIX
