"""Helpers for the PyTorch-Encoding golden files `tests/golden/encnet_*.npz`.

A golden file (written by `tools/golden/encnet_pytorch_encoding.py`) holds
the official model's outputs and its state-dict manifest; `state_dict`
redraws the weights it ran with (`tools.golden.torch_weights`).
"""

import json
import pathlib
import re
import subprocess
import sys

import numpy as np

from tools.golden.torch_weights import draw_state, fingerprint

GOLDEN_DIR = pathlib.Path(__file__).parents[1] / "golden"
TOOL = (pathlib.Path(__file__).parents[2]
        / "tools/convert_pytorch_encoding_checkpoint.py")
# TensorFlow's native log lines (e.g. a CUDA build's cuInit error on a
# machine without a GPU): printed by TF at start-up, not by the converter.
_TF_NATIVE_LOG = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] ")


def load(name):
    """The arrays of `tests/golden/<name>.npz`; "manifest": [(key, shape)]."""
    with np.load(GOLDEN_DIR / f"{name}.npz") as data:
        golden = {key: data[key] for key in data.files}
    golden["manifest"] = [(key, tuple(shape)) for key, shape
                          in json.loads(str(golden["manifest"]))]
    return golden


def load_manifests():
    """`{official model: [(key, shape)]}` of the ResNet-101s models."""
    with np.load(GOLDEN_DIR / "encnet_resnet101s_manifests.npz") as data:
        return {name: [(key, tuple(shape))
                       for key, shape in json.loads(str(data[name]))]
                for name in data.files}


def state_dict(golden):
    """`{key: numpy array}`: the weights the official model ran with.

    Raises:
        AssertionError: the draws no longer give them (tools/golden/
            weights.py changed): the golden files must be regenerated.
    """
    state = draw_state(golden["manifest"], int(golden["seed"]))
    assert fingerprint(state) == str(golden["weights_sha256"]), (
        "tools/golden/weights.py no longer draws the weights of the golden "
        "files; rerun tools/golden/encnet_pytorch_encoding.py")
    return state


def save_pth(state, path):
    """Writes `{key: array}` as a PyTorch state dict `.pth` file."""
    import torch

    torch.save({k: torch.from_numpy(np.ascontiguousarray(v))
                for k, v in state.items()}, str(path))
    return path


def run_converter(*args):
    """Runs the converter script; returns the `CompletedProcess`."""
    return subprocess.run([sys.executable, str(TOOL), *args],
                          capture_output=True, text=True, check=False)


def error_lines(result):
    """The converter's own non-empty stderr lines (TF's native log dropped)."""
    return [line for line in result.stderr.splitlines()
            if line.strip() and not _TF_NATIVE_LOG.match(line)]
