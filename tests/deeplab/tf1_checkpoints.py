"""Writing TF1 checkpoints with official variable names, without the official code."""

import functools
import importlib.util
import json
import pathlib
import types

import tensorflow as tf
from absl import flags as absl_flags

from tools.golden.weights import draw_tf1


def write_tf1_checkpoint(prefix, values):
    """Writes `values` (name -> array) as a TF1 checkpoint (the tensor bundle
    `tf.compat.v1.train.Saver` writes, no `checkpoint` state file).

    Returns:
        `prefix` as a str.
    """
    names = sorted(values)
    tf.raw_ops.SaveV2(prefix=str(prefix), tensor_names=names,
                      shape_and_slices=[""] * len(names),
                      tensors=[values[n] for n in names])
    return str(prefix)


def golden_values(golden):
    """name -> the drawn weights of every variable in a golden file's manifest."""
    manifest = json.loads(str(golden["manifest"]))
    seed = int(golden["seed"])
    return {name: draw_tf1(name, shape, seed)
            for name, shape in zip(manifest["names"], manifest["shapes"])}


@functools.lru_cache(maxsize=None)
def converter_tool():
    """`tools/convert_tf1_deeplab_checkpoint.py` as a module (its `run` takes
    a flags namespace, see `tool_flags`). The absl flags it defines are
    removed again, so scripts run in-process later can define theirs."""
    path = (pathlib.Path(__file__).parents[2]
            / "tools/convert_tf1_deeplab_checkpoint.py")
    spec = importlib.util.spec_from_file_location("convert_tool", path)
    module = importlib.util.module_from_spec(spec)
    before = set(absl_flags.FLAGS)
    try:
        spec.loader.exec_module(module)
    finally:
        for name in set(absl_flags.FLAGS) - before:
            delattr(absl_flags.FLAGS, name)
    return module


def tool_flags(checkpoint, output, **changes):
    """The converter's flag values for `run` (defaults as on the command
    line, `preset="tiny"`)."""
    base = dict(checkpoint=str(checkpoint), output=str(output), preset="tiny",
                override=[], skip_logits=False, allow_missing=False,
                backbone_only=False, overwrite=False)
    return types.SimpleNamespace(**{**base, **changes})
