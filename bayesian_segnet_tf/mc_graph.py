"""Splits a functional model at its first dropout: shared prefix, stochastic suffix.

Everything that no `MCDropout` layer feeds is deterministic: it is computed
once per image (the prefix). The suffix takes the tensors that cross from the
deterministic to the stochastic part (the input of the first dropout, and
the pooling indices and pre-pool tensors its unpooling layers need) and runs
once per Monte Carlo sample. Both halves share the model's layer objects.
"""

import keras

from seg_common.layers import MCDropout, MaxUnpool2D


class _Graph:
    """Who produces each tensor of a functional model whose layers are each
    called once (as `build_model` builds them), from the public
    `layer.input` / `layer.output`."""

    def __init__(self, model):
        self.producer = {}   # id(tensor) -> (layer, input tensors)
        for layer in model.layers:
            inputs = ([] if isinstance(layer, keras.layers.InputLayer)
                      else keras.tree.flatten(layer.input))
            for tensor in keras.tree.flatten(layer.output):
                self.producer[id(tensor)] = (layer, inputs)
        self.memo = {}

    def is_stochastic(self, tensor):
        """True if an `MCDropout` produces `tensor` or feeds it."""
        return self._stochastic_layer(*self.producer[id(tensor)])

    def _stochastic_layer(self, layer, inputs):
        if id(layer) not in self.memo:
            self.memo[id(layer)] = isinstance(layer, MCDropout) or any(
                self.is_stochastic(t) for t in inputs)
        return self.memo[id(layer)]

    def stochastic_layers(self, outputs):
        """(layer, input tensors) of the layers producing stochastic
        tensors, each once, from `outputs` back."""
        seen, found, stack = set(), [], list(outputs)
        while stack:
            layer, inputs = self.producer[id(stack.pop())]
            if id(layer) in seen or not self._stochastic_layer(layer, inputs):
                continue
            seen.add(id(layer))
            found.append((layer, inputs))
            stack.extend(inputs)
        return found


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
    graph = _Graph(model)
    layers = graph.stochastic_layers(model.outputs)
    if not layers:
        raise ValueError("`model` has no MCDropout layer: nothing to sample "
                         "(use num_samples=0 for weight averaging).")
    boundary, position = [], {}
    for _, inputs in reversed(layers):
        for tensor in inputs:
            if not graph.is_stochastic(tensor) and id(tensor) not in position:
                position[id(tensor)] = len(boundary)
                boundary.append(tensor)
    index_links = []
    for layer, inputs in layers:
        if isinstance(layer, MaxUnpool2D):
            _, indices, like = inputs
            if id(indices) in position:
                index_links.append((position[id(indices)], position[id(like)]))
    prefix = keras.Model(model.inputs, boundary, name="shared_prefix")
    suffix = keras.Model(boundary, model.output, name="stochastic_suffix")
    return prefix, suffix, sorted(index_links)
