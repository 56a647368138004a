"""Golden outputs of PyTorch-Encoding's EncNet and ResNet-50s (tests/golden/).

Run by hand against the official sources, with their CPU extension built in
place (`cd $OFFICIAL && python setup.py build_ext --inplace`; torchvision is
not needed, the dataset modules it feeds are stubbed):

    python tools/golden/encnet_pytorch_encoding.py \
        --official_source=$OFFICIAL --output_dir=tests/golden

For each configuration of `CONFIGS` it builds the official model from
`$OFFICIAL` (nothing of it is copied here), sets every state-dict entry to
`tools.golden.torch_weights.draw_torch(key, shape, SEED)` (batch-norm
statistics included), runs seeded images in eval mode once in float32 and
once in float64, and writes `<output_dir>/<name>.npz` with:

- `images` (B, H, W, 3) float32 RGB in 0..255, the project's input; the
  official model gets `(x / 255 - mean) / std` in NCHW;
- `manifest`: JSON `[[key, shape], ...]` of the official state dict, in order;
- `seed`, `weights_sha256` (`torch_weights.fingerprint` of the drawn state
  dict), `num_classes`, `lateral` (EncNet) and `official_revision`;
- one array per output, from the float64 run, stored as float32, in the
  project's layout: EncNet `logits`, `aux_logits` (B, H, W, C),
  `se_logits_stage4` (B, C); ResNet-50s `c1`..`c4` (B, h, w, C) at output
  stride 32 (the ImageNet network, `dilated=False`);
- `float32_error_<output>`: max |float32 run - float64 run| of the official
  model, the scale of the tests' tolerances.

`encnet_resnet101s_manifests.npz` holds only the state-dict manifests (JSON,
one entry per model) of the ResNet-101s EncNets and of `resnet101s`.
"""

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import types

from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from tools.golden.torch_weights import (  # noqa: E402
    draw_state, fingerprint)

FLAGS = flags.FLAGS
flags.DEFINE_string("official_source", None,
                    "Root of a PyTorch-Encoding checkout (holds encoding/).")
flags.DEFINE_string("output_dir", "tests/golden", "Where the .npz files go.")
flags.DEFINE_string("official_revision", "unknown",
                    "The checkout's git commit, recorded in the files.")
flags.mark_flag_as_required("official_source")

SEED = 20180318
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406])
IMAGENET_STD = np.array([0.229, 0.224, 0.225])
# name -> official factory (model_zoo name or "resnet50s") and input (B, H, W).
# Odd, non-square sizes: every padding and the H/W order matter.
CONFIGS = {
    "encnet_resnet50s_pcontext": ("encnet_resnet50s_pcontext", (2, 33, 41)),
    "encnet_resnet50s_ade": ("encnet_resnet50s_ade", (2, 21, 33)),
    "encnet_resnet50s_imagenet": ("resnet50s", (2, 65, 57)),
}
# Models whose state-dict manifests only are stored (in MANIFESTS.npz): the
# converter's key mapping for ResNet-101s is checked against them.
MANIFEST_ONLY = ("encnet_resnet101s_pcontext", "encnet_resnet101s_ade",
                 "resnet101s")
MANIFESTS = "encnet_resnet101s_manifests"
# Modules the official package imports for its datasets only.
_STUBBED = ("torchvision", "portalocker", "nose")
# Names the official package takes from `from <stub> import *`.
_STAR_IMPORTED = {"torchvision.datasets": ("CIFAR10",)}


def _placeholder(attr):
    if attr.startswith("__"):
        raise AttributeError(attr)
    return type(attr, (), {"__init__": lambda self, *args, **kwargs: None})


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports any `_STUBBED` module (and submodule) as an empty module whose
    attributes are placeholder classes taking any arguments."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in _STUBBED:
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__path__ = []
        module.__getattr__ = _placeholder
        module.__all__ = list(_STAR_IMPORTED.get(spec.name, ()))
        return module

    def exec_module(self, module):
        pass


def import_official(source):
    """Imports `encoding` from `source`, off-line: no pretrained downloads."""
    missing = [m for m in _STUBBED if importlib.util.find_spec(m) is None]
    if missing:
        sys.meta_path.insert(0, _StubFinder())
    sys.path.insert(0, os.path.abspath(source))
    encoding = importlib.import_module("encoding")
    base = importlib.import_module("encoding.models.sseg.base")
    get_backbone = base.get_backbone
    # BaseNet always asks for the ImageNet backbone; the weights are drawn.
    base.get_backbone = lambda name, pretrained, **kwargs: get_backbone(
        name, pretrained=False, **kwargs)
    return encoding


def official_manifest(model):
    """`[(key, shape), ...]` of an official model's state dict, in order."""
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


def build_official(encoding, factory):
    """The official model (eval mode) and `official_manifest` of it.

    Args:
        encoding: the official package.
        factory: an `encoding.models.get_model` name, or `"resnet50s"` /
            `"resnet101s"` (the ImageNet networks).
    """
    if factory.startswith("resnet"):
        model = getattr(encoding.models.backbone, factory)(pretrained=False)
    else:
        model = encoding.models.get_model(factory, pretrained=False)
    return model.eval(), official_manifest(model)


def assign_draws(model, manifest):
    """Sets every state-dict entry to `draw_state(manifest, SEED)`.

    Returns:
        The `fingerprint` of the drawn state dict.
    """
    state = draw_state(manifest, SEED)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()},
                          strict=True)
    return fingerprint(state)


def resnet_features(net, x):
    """c1..c4 of an official ResNet (its `forward` ends in the classifier)."""
    x = net.maxpool(net.relu(net.bn1(net.conv1(x))))
    features = {}
    for i in range(1, 5):
        x = getattr(net, f"layer{i}")(x)
        features[f"c{i}"] = x
    return features


def run(model, x, factory):
    """Official outputs in the project's names and NHWC layout, as numpy."""
    with torch.no_grad():
        if factory.startswith("resnet"):
            outputs = resnet_features(model, x)
        else:
            logits, se_logits, aux_logits = model(x)
            outputs = {"logits": logits, "se_logits_stage4": se_logits,
                       "aux_logits": aux_logits}
    return {k: (v.permute(0, 2, 3, 1) if v.dim() == 4 else v).numpy()
            for k, v in outputs.items()}


def golden(encoding, factory, shape):
    """The arrays of one golden file (see the module docstring)."""
    model, manifest = build_official(encoding, factory)
    weights_sha256 = assign_draws(model, manifest)
    images = np.random.default_rng(SEED).uniform(
        0.0, 255.0, shape + (3,)).astype(np.float32)
    normalised = (images / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
    x64 = torch.from_numpy(normalised.transpose(0, 3, 1, 2).copy())
    out32 = run(model, x64.float(), factory)
    out64 = run(model.double(), x64, factory)
    arrays = {"images": images, "seed": np.int64(SEED),
              "manifest": json.dumps(manifest),
              "weights_sha256": weights_sha256,
              "official_revision": FLAGS.official_revision}
    if not factory.startswith("resnet"):
        arrays["num_classes"] = np.int64(model.nclass)
        arrays["lateral"] = np.bool_(model.head.lateral)
    for name, value in out64.items():
        arrays[name] = value.astype(np.float32)
        arrays[f"float32_error_{name}"] = np.float64(
            np.abs(out32[name] - value).max())
        print(f"{factory} {name}: shape {value.shape}, max |y| "
              f"{np.abs(value).max():.3g}, float32 error "
              f"{arrays[f'float32_error_{name}']:.3g}")
    return arrays


def main(argv):
    del argv
    torch.manual_seed(SEED)
    encoding = import_official(FLAGS.official_source)
    os.makedirs(FLAGS.output_dir, exist_ok=True)
    for name, (factory, shape) in CONFIGS.items():
        path = os.path.join(FLAGS.output_dir, f"{name}.npz")
        np.savez_compressed(path, **golden(encoding, factory, shape))
        print(f"wrote {path} ({os.path.getsize(path) / 1e6:.2f} MB)")
    path = os.path.join(FLAGS.output_dir, f"{MANIFESTS}.npz")
    np.savez_compressed(path, **{
        factory: json.dumps(build_official(encoding, factory)[1])
        for factory in MANIFEST_ONLY})
    print(f"wrote {path}")


if __name__ == "__main__":
    app.run(main)
