"""Writing TF1 checkpoints with official variable names, without the official code."""

import json
import types

import tensorflow as tf

from tests.tool_modules import load_tool
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


def converter_tool():
    """`tools/convert_tf1_deeplab_checkpoint.py` as a module (its `run` takes
    a flags namespace, see `tool_flags`)."""
    return load_tool("tools/convert_tf1_deeplab_checkpoint.py")


def tool_flags(checkpoint, output, **changes):
    """The converter's flag values for `run` (defaults as on the command
    line, `preset="tiny"`)."""
    base = dict(checkpoint=str(checkpoint), output=str(output), preset="tiny",
                override=[], skip_logits=False, allow_missing=False,
                backbone_only=False, overwrite=False)
    return types.SimpleNamespace(**{**base, **changes})
