"""Trained weights shipped inside a package, loadable by name.

A shipped file is a NumPy `.npz` of every model variable by its Keras path
(`conv1/kernel`, `conv1_bn/moving_mean`, ...): kernels and biases in float16
(half the size; the loaded model computes in float32), batch-norm
statistics in float32. A registry entry pins the file's SHA-256, so a
truncated or replaced file is refused by name instead of loading silently.

Example:
>>> entry = Pretrained("camvid_central.npz", "ab12...",
...                    {"arch": "segnet_basic"}, "camvid", "Bayesian SegNet-Basic")
>>> load_pretrained(model, entry, weights_dir)
"""

import dataclasses
import hashlib
import os

import numpy as np

from seg_common import files

# Variables kept in float32: batch-norm statistics (small, and float16
# would round the variances the normalisation divides by).
_FLOAT32_SUFFIXES = ("moving_mean", "moving_variance")


@dataclasses.dataclass(frozen=True)
class Pretrained:
    """One shipped weights file.

    Attributes:
        file: the `.npz` name inside the package's `weights/` folder.
        sha256: its hex digest.
        config: the Config overrides the weights were trained with.
        dataset: the `seg_common.data.datasets` name of their classes.
        description: what the weights are and how they were trained.
    """
    file: str
    sha256: str
    config: dict
    dataset: str
    description: str


def _keep_float32(path):
    return path.endswith(_FLOAT32_SUFFIXES)


def save_weights(model, path):
    """Writes `model.weights` (not its random-seed state) as a shipped `.npz`,
    atomically.

    Returns:
        (sha256 hex digest, size in bytes) of the written file.
    """
    arrays = {}
    for variable in model.weights:
        value = np.asarray(variable.numpy())
        if value.dtype.kind == "f" and not _keep_float32(variable.path):
            value = value.astype(np.float16)
        arrays[variable.path] = value
    with files.atomic_file(path) as tmp:
        np.savez_compressed(tmp, **arrays)
    return _sha256(path), os.path.getsize(path)


def load_pretrained(model, entry, weights_dir):
    """Assigns the shipped weights of `entry` to `model`.

    Args:
        model: a model built with `entry.config`.
        entry: a `Pretrained`.
        weights_dir: the folder holding `entry.file`.

    Raises:
        ValueError: the file is missing or its SHA-256 differs from the
            entry's, or a model variable is absent from the file or has
            another shape (each message names the file or variable).
    """
    path = os.path.join(weights_dir, entry.file)
    if not os.path.isfile(path):
        raise ValueError(f"{path} is missing: reinstall the package (the "
                         "weights ship inside it).")
    digest = _sha256(path)
    if digest != entry.sha256:
        raise ValueError(f"{path} has SHA-256 {digest[:12]}..., expected "
                         f"{entry.sha256[:12]}...: the file is damaged or "
                         "replaced; reinstall the package.")
    with np.load(path) as stored:
        for variable in model.weights:
            if variable.path not in stored:
                raise ValueError(f"{path} holds no {variable.path}: it was "
                                 "saved from another architecture.")
            value = stored[variable.path]
            if tuple(value.shape) != tuple(variable.shape):
                raise ValueError(
                    f"{path}: {variable.path} has shape {value.shape}, the "
                    f"model {tuple(variable.shape)}.")
            variable.assign(value.astype(variable.dtype))


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
