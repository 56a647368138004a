"""Multiply-adds of a Keras model, counted by the TF profiler on a frozen inference graph."""

import collections

import tensorflow as tf
from tensorflow.python.framework import convert_to_constants

# Ops whose profiler float operations are convolution / matmul multiply-adds.
CONV_OPS = ("Conv2D", "DepthwiseConv2dNative", "MatMul", "BatchMatMulV2")


def frozen_graph(model, input_shape):
    """The inference graph of `model` with its variables folded into constants.

    Args:
        model: a `keras.Model` taking one image tensor.
        input_shape: the full input shape, e.g. (1, 513, 513, 3).

    Returns:
        A `tf.Graph`.
    """
    function = tf.function(lambda x: model(x, training=False), autograph=False)
    concrete = function.get_concrete_function(
        tf.TensorSpec(input_shape, tf.float32))
    return convert_to_constants.convert_variables_to_constants_v2(
        concrete).graph


def float_ops_by_op(graph):
    """TF profiler float operations of every op of `graph` (2 per multiply-add).

    Args:
        graph: a `tf.Graph` with static shapes.

    Returns:
        dict op name -> float operations (ops without a count are left out).
    """
    options = tf.compat.v1.profiler.ProfileOptionBuilder(
        tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    ).with_empty_output().build()
    profile = tf.compat.v1.profiler.profile(graph, cmd="scope",
                                            options=options)
    counts, stack = {}, list(profile.children)
    while stack:
        node = stack.pop()
        if node.float_ops:
            counts[node.name] = node.float_ops
        stack.extend(node.children)
    return counts


def float_ops_by_type(graph):
    """TF profiler float operations summed per op type, e.g. `{"Conv2D": ...}`."""
    counts = collections.Counter()
    for name, flops in float_ops_by_op(graph).items():
        counts[graph.get_operation_by_name(name).type] += flops
    return dict(counts)


def multiply_adds(model, input_shape=(1, 513, 513, 3), conv_only=False):
    """Multiply-adds of one forward pass: TF profiler float operations / 2.

    The TF profiler counts convolutions and matmuls at 2 flops per
    multiply-add (atrous convs over their space-to-batch padded grid) and
    element-wise ops at 1 per element (BiasAdd, Add, Mul, Mean, ...). Keras
    batch norm lowers to a multiply and an add per element, whereas TF1's
    fused batch norm, on whose graphs the DeepLab paper measured, has no
    profiler statistic (in an inference graph it folds into the conv): ops
    under a `batchnorm` name scope are therefore left out. `conv_only=True`
    also leaves out every other element-wise op.

    Args:
        model: a `keras.Model` taking one image tensor.
        input_shape: the full input shape, batch included.
        conv_only: count convolution/matmul multiply-adds only.

    Returns:
        float multiply-adds.

    Example:
    >>> multiply_adds(deeplab_tf.build_model()) / 1e9   # paper: 54.17
    """
    graph = frozen_graph(model, input_shape)
    total = 0
    for name, flops in float_ops_by_op(graph).items():
        if "/batchnorm/" in name:
            continue
        if conv_only and graph.get_operation_by_name(name).type not in CONV_OPS:
            continue
        total += flops
    return total / 2
