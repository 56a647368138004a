"""Inference graphs with batch norm folded into the convolutions.

Keras' batch normalisation at inference is `x * s + b` with per-channel
constants `s = gamma / sqrt(var + eps)` and `b = beta - mean * s`, two
memory-bound passes over every feature map (four with the float32 casts
Keras adds around batch norm under a bfloat16 policy). On a frozen graph the
scale can be folded into the filter of the convolution that produces the
feature map (`conv(x, W) * s == conv(x, W * s)` channel-wise) and the shift
(plus the conv's own bias times the scale) becomes a `BiasAdd`, which TensorFlow's graph optimiser fuses with the
convolution and a following ReLU into one oneDNN kernel (`_FusedConv2D`).

The rewrite is exact in real arithmetic; in floating point it changes the
rounding only (the tests bound it). It applies where the graph holds

    Conv2D | DepthwiseConv2dNative  (constant filter, single consumer)
      [-> BatchToSpaceND]            (dilated depthwise convolution)
      [-> BiasAdd(., c)]             (the conv's own bias, constant)
      [-> Cast]                      (bfloat16 conv, float32 batch norm)
      -> Mul(., s) -> AddV2(., b)    (s, b constant per-channel vectors)
      [-> Cast back to the conv's dtype]

and leaves any other node alone, so it is safe on every model of this
project (and on any frozen Keras graph in NHWC).
"""

import numpy as np
import tensorflow as tf
from tensorflow.python.framework import convert_to_constants

_CONVOLUTIONS = ("Conv2D", "DepthwiseConv2dNative")
_CHANNEL_PRESERVING = ("BatchToSpaceND",)
# The ops whose constant operands `_match` reads.
_FOLD_OPERAND_OPS = _CONVOLUTIONS + ("Mul", "Add", "AddV2", "BiasAdd")


def _name(tensor_name):
    """Node name of an input reference ("^a", "a:1" -> "a")."""
    return tensor_name.lstrip("^").split(":")[0]


def _tensor(ref):
    """Tensor name of an input reference ("a" -> "a:0")."""
    return ref if ":" in ref else ref + ":0"


class _Graph:
    """Index of a GraphDef: nodes by name, consumers, constant evaluation."""

    def __init__(self, graph_def):
        self.graph_def = graph_def
        self.nodes = {node.name: node for node in graph_def.node}
        self.consumers = {name: [] for name in self.nodes}
        for node in graph_def.node:
            for ref in node.input:
                self.consumers[_name(ref)].append(node.name)
        self._constant = {}
        self._values = None

    def is_constant(self, name):
        """Whether the node's value depends on no placeholder."""
        if name not in self._constant:
            node = self.nodes[name]
            self._constant[name] = node.op != "Placeholder" and all(
                self.is_constant(_name(ref)) for ref in node.input)
        return self._constant[name]

    def value(self, ref):
        """The numpy value of a constant input of a conv, Mul, Add or BiasAdd.

        The first call computes every such input in one session run: a run
        per value would prune and copy the whole graph (all the model's
        weights) each time.
        """
        if self._values is None:
            wanted = sorted({
                _tensor(input_ref) for node in self.graph_def.node
                if node.op in _FOLD_OPERAND_OPS
                and not self.is_constant(node.name)
                for input_ref in node.input
                if not input_ref.startswith("^")
                and self.is_constant(_name(input_ref))})
            graph = tf.Graph()
            with graph.as_default():
                tf.graph_util.import_graph_def(self.graph_def, name="")
            with tf.compat.v1.Session(graph=graph) as session:
                self._values = dict(zip(wanted, session.run(wanted)))
        return self._values[_tensor(ref)]

    def single_consumer(self, name):
        consumers = self.consumers[name]
        return self.nodes[consumers[0]] if len(consumers) == 1 else None


def _constant_operand(graph, node):
    """(other input, constant input) of a binary op, or None."""
    first, second = node.input[:2]
    if graph.is_constant(_name(second)) and not graph.is_constant(
            _name(first)):
        return first, second
    if graph.is_constant(_name(first)) and not graph.is_constant(
            _name(second)):
        return second, first
    return None


def _channel_vector(value, channels):
    """A per-channel (last axis) vector of a broadcastable value, or None."""
    value = np.asarray(value)
    if value.size not in (1, channels) or (
            value.ndim and value.shape[-1] != value.size):
        return None
    return np.broadcast_to(value.reshape(-1), (channels,))


def _scaled_filter(conv, kernel, scale):
    """The filter of `conv` with its output channel c multiplied by scale[c].

    Conv2D filters are (kh, kw, in, out); depthwise filters are
    (kh, kw, in, multiplier) with output channel in * multiplier + m.
    """
    if conv.op == "Conv2D":
        return kernel * scale.astype(np.float32)
    return kernel * scale.reshape(kernel.shape[2:]).astype(np.float32)


def _match(graph, mul):
    """The fold pattern ending in `mul` (see the module docstring), or None.

    Returns:
        dict with the conv, the channel-preserving nodes after it (in
        order), the conv's own bias add, the cast to float32 and the
        closing cast back (each or None), the add, the conv's filter and
        the per-channel scale and shift (the conv bias folded into the
        shift).
    """
    operands = _constant_operand(graph, mul)
    add = graph.single_consumer(mul.name)
    if operands is None or add is None or add.op not in ("AddV2", "Add"):
        return None
    shift_operands = _constant_operand(graph, add)
    if shift_operands is None or _name(shift_operands[0]) != mul.name:
        return None
    feature, scale_ref = operands
    chain = [mul]  # from mul back to the conv
    node = graph.nodes[_name(feature)]
    cast = bias_add = None
    if node.op == "Cast":
        cast, node = node, graph.nodes[_name(node.input[0])]
        chain.append(cast)
    if node.op == "BiasAdd" and graph.is_constant(_name(node.input[1])):
        bias_add, node = node, graph.nodes[_name(node.input[0])]
        chain.append(bias_add)
    channel_nodes = []
    while node.op in _CHANNEL_PRESERVING:
        channel_nodes.insert(0, node)
        chain.append(node)
        node = graph.nodes[_name(node.input[0])]
    conv = node
    chain.append(conv)
    if (conv.op not in _CONVOLUTIONS or conv.attr["data_format"].s not in (
            b"", b"NHWC") or not graph.is_constant(_name(conv.input[1]))):
        return None
    if any(graph.single_consumer(n.name) is not chain[i]
           for i, n in enumerate(chain[1:])):
        return None
    kernel = graph.value(conv.input[1])
    channels = (kernel.shape[3] if conv.op == "Conv2D"
                else kernel.shape[2] * kernel.shape[3])
    scale = _channel_vector(graph.value(scale_ref), channels)
    shift = _channel_vector(graph.value(shift_operands[1]), channels)
    if scale is None or shift is None:
        return None
    if bias_add is not None:
        bias = _channel_vector(graph.value(bias_add.input[1]), channels)
        if bias is None:
            return None
        shift = bias.astype(np.float32) * scale + shift
    close = graph.single_consumer(add.name)
    if cast is None or close is None or close.op != "Cast" or (
            close.attr["DstT"].type != cast.attr["SrcT"].type):
        close = None
    return {"conv": conv, "channel_nodes": channel_nodes,
            "bias_add": bias_add, "cast": cast, "add": add,
            "closing_cast": close, "kernel": kernel, "scale": scale,
            "shift": shift}


def _const_node(name, value, dtype):
    node = tf.compat.v1.NodeDef(name=name, op="Const")
    node.attr["dtype"].type = dtype.as_datatype_enum
    node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(
        tf.cast(value, dtype).numpy()))
    return node


def _bias_add(name, feature, bias, dtype, op="BiasAdd"):
    node = tf.compat.v1.NodeDef(name=name, op=op, input=[feature, bias])
    node.attr["T"].type = dtype.as_datatype_enum
    if op == "BiasAdd":
        node.attr["data_format"].s = b"NHWC"
    return node


def fold_batch_norm(graph_def):
    """Folds inference batch norm into the preceding convolutions.

    Args:
        graph_def: a frozen GraphDef (variables converted to constants).

    Returns:
        (new GraphDef, number of batch norms folded). Node names of every
        tensor consumed outside a folded pattern are kept, so fetches stay
        valid.
    """
    graph = _Graph(graph_def)
    replaced, added, removed = {}, [], set()
    for mul in [n for n in graph_def.node if n.op == "Mul"]:
        found = _match(graph, mul)
        if found is None or found["conv"].name in replaced:
            continue
        conv = found["conv"]
        conv_dtype = tf.as_dtype(conv.attr["T"].type)
        new_conv = tf.compat.v1.NodeDef()
        new_conv.CopyFrom(conv)
        new_conv.input[1] = conv.name + "/folded_kernel"
        added.append(_const_node(new_conv.input[1], _scaled_filter(
            conv, found["kernel"].astype(np.float32), found["scale"]),
            conv_dtype))
        replaced[conv.name] = new_conv
        removed.add(mul.name)
        if found["bias_add"] is not None:
            removed.add(found["bias_add"].name)
        channel_nodes = found["channel_nodes"]
        last = channel_nodes[-1].name if channel_nodes else conv.name
        cast = found["cast"]
        if found["closing_cast"] is not None:
            # cast -> mul -> add -> cast back: the bias goes in the conv's
            # dtype and both casts go.
            removed.update((cast.name, found["add"].name))
            bias_dtype, output = conv_dtype, found["closing_cast"]
        else:
            if cast is not None:
                new_cast = tf.compat.v1.NodeDef()
                new_cast.CopyFrom(cast)
                new_cast.input[0] = last
                replaced[cast.name], last = new_cast, cast.name
            output = found["add"]
            bias_dtype = tf.as_dtype(output.attr["T"].type)
        bias_name = output.name + "/folded_bias"
        added.append(_const_node(bias_name, found["shift"], bias_dtype))
        # A BiasAdd feeding an Add trips grappler's remapper ("fanout
        # exist for missing node"); the equivalent AddV2 does not.
        into_sum = any(graph.nodes[c].op in ("Add", "AddV2")
                       for c in graph.consumers[output.name])
        replaced[output.name] = _bias_add(
            output.name, last, bias_name, bias_dtype,
            "AddV2" if into_sum else "BiasAdd")
    # Constants first, each replacement where its node was: the node order
    # stays topological.
    result = tf.compat.v1.GraphDef()
    result.versions.CopyFrom(graph_def.versions)
    result.library.CopyFrom(graph_def.library)
    result.node.extend(added)
    for node in graph_def.node:
        if node.name not in removed or node.name in replaced:
            result.node.append(replaced.get(node.name, node))
    return result, len(added) // 2


def frozen_inference_function(model, input_shape, *, output_keys=("logits",),
                              fold=True):
    """A constant-folded graph function of `model(images, training=False)`.

    Args:
        model: a Keras model taking float32 (B, H, W, 3) images and
            returning a dict.
        input_shape: (B, H, W, 3); entries may be None.
        output_keys: the model outputs to keep.
        fold: fold batch norm into the convolutions (`fold_batch_norm`).

    Returns:
        (fn, folded): fn(images (B,H,W,3), array or tensor) -> dict of
        output tensors (in the model's compute dtype; `fn.graph` is the
        graph it runs), and the number of batch norms folded.
    """
    @tf.function
    def forward(images):
        outputs = model(images, training=False)
        return {key: tf.identity(outputs[key], name=key)
                for key in output_keys}

    concrete = forward.get_concrete_function(
        tf.TensorSpec(input_shape, tf.float32, name="images"))
    frozen = convert_to_constants.convert_variables_to_constants_v2(concrete)
    graph_def = frozen.graph.as_graph_def()
    folded = 0
    if fold:
        graph_def, folded = fold_batch_norm(graph_def)
    inputs = [t.name for t in frozen.inputs]
    # tf.nest flattens the output dict in sorted key order.
    outputs = {key: tensor.name
               for key, tensor in zip(sorted(output_keys), frozen.outputs)}

    def import_graph():
        tf.graph_util.import_graph_def(graph_def, name="")

    wrapped = tf.compat.v1.wrap_function(import_graph, [])
    pruned = wrapped.prune(
        [wrapped.graph.get_tensor_by_name(t) for t in inputs],
        {key: wrapped.graph.get_tensor_by_name(t)
         for key, t in outputs.items()})

    def fn(images):
        # A pruned graph function takes tensors only.
        return pruned(tf.convert_to_tensor(images, tf.float32))

    fn.graph = pruned.graph
    return fn, folded


class FoldedModel:
    """A segmentation model as a frozen graph with batch norm folded in.

    The inference path users run (evaluation, prediction, the exported
    SavedModel): the same outputs as `model(images, training=False)` up to
    rounding, from constants instead of variables, with every foldable
    batch norm folded (`fold_batch_norm`), for any batch size and image
    size. It is called like the Keras model, so `softmax_predictor`,
    `predict_multiscale` and `seg_common.export` take it unchanged. The
    weights are a snapshot: fold again after training further.

    Args:
        model: a Keras model taking float32 (B, H, W, 3) and returning a
            dict; built under the dtype policy wanted (e.g. "mixed_bfloat16"
            for bfloat16 inference).
        output_keys: the outputs kept (default "logits").

    Call: `folded(images, training=False)` -> dict key -> tensor
    (B, H, W, C), in the model's compute dtype.

    Example:
    >>> folded = FoldedModel(model)
    >>> folded(images)["logits"]        # == model(images)["logits"]
    """

    variables = ()   # everything is a constant of the graph

    def __init__(self, model, output_keys=("logits",)):
        self._forward, self.batch_norms_folded = frozen_inference_function(
            model, (None, None, None, 3), output_keys=output_keys)
        self.name = f"{model.name}_folded"
        self.output_keys = tuple(output_keys)

    def __call__(self, images, training=False):
        if training:
            raise ValueError("FoldedModel is for inference only; train the "
                             "Keras model.")
        return self._forward(images)
