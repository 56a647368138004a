"""Atrous rates of a TF1 DeepLab graph, checked against a `build_model` model.

A TF1 checkpoint stores no training flags, and output stride, ASPP rates and
multi-grid change no variable shape. The graph beside a checkpoint does show
them: `frozen_inference_graph.pb` in the released tarballs, `graph.pbtxt` in
the train directory of the official `train.py`. TF1 runs a dilated
convolution of rate r as SpaceToBatchND (block shape [r, r]) -> convolution
-> BatchToSpaceND; a later TF may also give the convolution a `dilations`
attribute. Either way the scope of the convolution names the layer
(`aspp1_depthwise/depthwise/SpaceToBatchND` -> `aspp1_depthwise`,
`resnet_v1_101/block4/unit_3/bottleneck_v1/conv2/Conv2D/SpaceToBatchND`).
"""

import os

import tensorflow as tf
from google.protobuf import text_format

from deeplab_tf.tf1_checkpoint import tf1_layers

GRAPH_FILES = ("frozen_inference_graph.pb", "graph.pbtxt")
_CONVOLUTIONS = ("Conv2D", "DepthwiseConv2dNative")


def find_graph(prefix):
    """The graph file beside checkpoint `prefix` (`GRAPH_FILES`), or None."""
    for name in GRAPH_FILES:
        path = os.path.join(os.path.dirname(prefix), name)
        if os.path.isfile(path):
            return path
    return None


def read_graph(path):
    """The GraphDef in `path` (binary, or text for `.pbtxt`)."""
    graph_def = tf.compat.v1.GraphDef()
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".pbtxt"):
        text_format.Parse(data.decode("utf-8"), graph_def)
    else:
        graph_def.ParseFromString(data)
    return graph_def


def graph_rates(graph_def):
    """The atrous rate of every convolution scope of `graph_def`.

    Returns:
        dict scope -> rate (1 for an undilated convolution).
    """
    nodes = {node.name: node for node in graph_def.node}
    rates = {}
    for node in graph_def.node:
        if node.op == "SpaceToBatchND":
            block = nodes.get(node.input[1].split(":")[0])
            if block is None or block.op != "Const":
                continue
            rate = int(tf.make_ndarray(block.attr["value"].tensor).flat[0])
            name = node.name.rsplit("/", 1)[0]   # the convolution's name
        elif node.op in _CONVOLUTIONS:
            dilations = node.attr["dilations"].list.i
            rate, name = (int(dilations[1]) if dilations else 1), node.name
        else:
            continue
        scope = name.rsplit("/", 1)[0]
        rates[scope] = max(rates.get(scope, 1), rate)
    return rates


def model_rates(model, config):
    """Scope -> atrous rate of every convolution of `model` (TF1 scopes)."""
    rates = {}
    for scope, layer in tf1_layers(model, config):
        rate = getattr(layer, "dilation_rate", None)
        if rate is None:
            continue
        rate = rate[0] if isinstance(rate, (tuple, list)) else rate
        depthwise = hasattr(layer, "depthwise")   # AtrousSeparableConv2D
        rates[scope + "_depthwise" if depthwise else scope] = int(rate)
    return rates


def rate_mismatches(graph_def, model, config):
    """`[(scope, graph rate, model rate)]` where both have the convolution
    and the rates differ, sorted by scope."""
    graph, ours = graph_rates(graph_def), model_rates(model, config)
    return [(s, graph[s], ours[s]) for s in sorted(set(graph) & set(ours))
            if graph[s] != ours[s]]
