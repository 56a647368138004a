"""Imports the official TF1 DeepLab (`research/deeplab`) under TensorFlow 2.x.

The official code imports `tensorflow.contrib` (gone since TF 2.0) and, in
`common.py` and `model.py`, `import tensorflow as tf` with TF1 calls. Without
editing its files, this module registers import-time aliases: the contrib
modules it uses point to their `tf_slim` successors, and `tensorflow` is
`tensorflow.compat.v1` while the official modules are imported; `np.int`
(removed from NumPy) is `int` again; `tf_keras.legacy_tf_layers` points to
`tf_keras.src.legacy_tf_layers`; the official ResNets' `Conv2D._convolution_op`
is tf_keras's `convolution_op`. Graph mode
(`disable_v2_behavior`) is switched on for the whole process.

Needs `tf_slim` and `tf_keras` (with `TF_USE_LEGACY_KERAS=1`) installed.
"""

import contextlib
import sys
import types


def _contrib_modules(tf_slim):
    """`tensorflow.contrib...` module name -> the tf_slim module standing in."""
    import tf_slim.layers.layers
    import tf_slim.layers.utils
    import tf_slim.nets.resnet_utils

    contrib = types.ModuleType("tensorflow.contrib")
    contrib.slim = tf_slim
    contrib.framework = tf_slim         # add_arg_scope, arg_scope
    contrib.layers = tf_slim            # l2_regularizer, initializers
    contrib.training = types.ModuleType("tensorflow.contrib.training")
    layers = types.ModuleType("tensorflow.contrib.layers.python.layers")
    layers.layers = sys.modules["tf_slim.layers.layers"]
    layers.utils = sys.modules["tf_slim.layers.utils"]
    layers_python = types.ModuleType("tensorflow.contrib.layers.python")
    layers_python.layers = layers
    return {"tensorflow.contrib": contrib,
            "tensorflow.contrib.slim": tf_slim,
            "tensorflow.contrib.slim.nets": tf_slim.nets,
            "tensorflow.contrib.training": contrib.training,
            "tensorflow.contrib.layers": tf_slim,
            "tensorflow.contrib.layers.python": layers_python,
            "tensorflow.contrib.layers.python.layers": layers}


def _legacy_layers_modules():
    """`tf_keras.legacy_tf_layers.*` (where TF's tf.compat.v1.layers looks)
    -> `tf_keras.src.legacy_tf_layers.*` (where tf_keras 2.20 keeps them)."""
    import importlib

    modules = {}
    for name in ("", ".base", ".convolutional", ".core", ".normalization",
                 ".pooling"):
        modules[f"tf_keras.legacy_tf_layers{name}"] = importlib.import_module(
            f"tf_keras.src.legacy_tf_layers{name}")
    return modules


@contextlib.contextmanager
def _tensorflow_is_v1(tf_v1):
    real = sys.modules["tensorflow"]
    sys.modules["tensorflow"] = tf_v1
    try:
        yield
    finally:
        sys.modules["tensorflow"] = real


def import_official(research_dir):
    """Imports the official modules from `research_dir` (holding deeplab/, slim/).

    Returns:
        A namespace: `tf` (tensorflow.compat.v1), `slim` (tf_slim), `common`,
        `model`, `feature_extractor` (the official modules).
    """
    import numpy as np
    import tensorflow.compat.v1 as tf_v1
    import tf_slim

    np.int = int   # removed in NumPy 1.24; slim's mobilenet_v3 calls it
    tf_v1.disable_v2_behavior()
    sys.modules.update(_contrib_modules(tf_slim))
    sys.modules.update(_legacy_layers_modules())
    sys.path[:0] = [research_dir, f"{research_dir}/slim"]
    with _tensorflow_is_v1(tf_v1):
        from deeplab import common, model
        from deeplab.core import conv2d_ws, feature_extractor
    # Keras 2.6 renamed the convolution the ResNets' Conv2D subclass calls.
    conv2d_ws.Conv2D._convolution_op = conv2d_ws.Conv2D.convolution_op
    common.FLAGS.mark_as_parsed()
    return types.SimpleNamespace(tf=tf_v1, slim=tf_slim, common=common,
                                 model=model,
                                 feature_extractor=feature_extractor)
