"""Splits a functional model at its first dropout: shared prefix, stochastic suffix.

Everything that no `MCDropout` layer feeds is deterministic: it is computed
once per image (the prefix). The suffix takes the tensors that cross from the
deterministic to the stochastic part (the input of the first dropout, and
the pooling indices and pre-pool tensors its unpooling layers need) and runs
once per Monte Carlo sample. Both halves share the model's layer objects.
"""

import keras

from seg_common.layers import MCDropout, MaxUnpool2D


def _node(tensor):
    operation, node_index, _ = tensor._keras_history
    return operation._inbound_nodes[node_index]


def _is_stochastic(tensor, memo):
    key = id(tensor)
    if key not in memo:
        node = _node(tensor)
        memo[key] = (not node.is_input) and (
            isinstance(node.operation, MCDropout) or
            any(_is_stochastic(t, memo) for t in node.input_tensors))
    return memo[key]


def _stochastic_nodes(model, memo):
    """Nodes producing stochastic tensors, each once, from the outputs back."""
    seen, nodes, stack = set(), [], list(model.outputs)
    while stack:
        node = _node(stack.pop())
        if id(node) in seen or node.is_input:
            continue
        seen.add(id(node))
        if _is_stochastic(node.output_tensors[0], memo):
            nodes.append(node)
            stack.extend(node.input_tensors)
    return nodes


def split_at_dropout(model):
    """Returns the shared-prefix and stochastic-suffix models of `model`.

    Args:
        model: a functional `keras.Model` with at least one `MCDropout`.

    Returns:
        `(prefix, suffix, index_links)`: `prefix` maps the model inputs to
        the boundary tensors (list), `suffix` maps the boundary tensors to
        the model outputs, and `index_links` lists `(i, j)` pairs: boundary
        tensor i holds batch-inclusive int64 pooling indices of boundary
        tensor j (the pre-pool tensor), so tiled copies must be re-based.

    Raises:
        ValueError: the model has no `MCDropout` layer.
    """
    memo = {}
    nodes = _stochastic_nodes(model, memo)
    if not nodes:
        raise ValueError("`model` has no MCDropout layer: nothing to sample "
                         "(use num_samples=0 for weight averaging).")
    boundary, position = [], {}
    for node in reversed(nodes):
        for tensor in node.input_tensors:
            if not _is_stochastic(tensor, memo) and id(tensor) not in position:
                position[id(tensor)] = len(boundary)
                boundary.append(tensor)
    index_links = []
    for node in nodes:
        if isinstance(node.operation, MaxUnpool2D):
            _, indices, like = node.input_tensors
            if id(indices) in position:
                index_links.append((position[id(indices)], position[id(like)]))
    prefix = keras.Model(model.inputs, boundary, name="shared_prefix")
    suffix = keras.Model(boundary, model.output, name="stochastic_suffix")
    return prefix, suffix, sorted(index_links)
