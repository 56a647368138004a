"""Every layer inside a model, nested ones included, through public attributes.

Functional models list their layers in `Model.layers`; the composite layers
of this project (`ConvBNAct`, `AtrousSeparableConv2D`, `ContextEncoding`, a
backbone sub-model, ...) hold their sub-layers as public attributes. Walking
both finds every batch norm or dropout layer without Keras' private
`_flatten_layers`.
"""

import keras


def _children(layer):
    """The layers directly inside `layer`."""
    if isinstance(layer, keras.Model):
        return list(layer.layers)
    children = []
    for name, value in vars(layer).items():
        if name.startswith("_"):
            continue
        items = value if isinstance(value, (list, tuple)) else (value,)
        children.extend(v for v in items if isinstance(v, keras.layers.Layer))
    return children


def iter_layers(model):
    """Yields every layer inside `model` (not `model` itself), depth-first,
    each once.

    Example:
    >>> bns = [l for l in iter_layers(model)
    ...        if isinstance(l, keras.layers.BatchNormalization)]
    """
    seen, stack = {id(model)}, list(reversed(_children(model)))
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        yield layer
        stack.extend(reversed(_children(layer)))
