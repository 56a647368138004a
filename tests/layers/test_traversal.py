"""iter_layers: every nested layer once, through public attributes only."""

import keras

from seg_common.layers import ConvBNAct
from seg_common.layers.traversal import iter_layers


def test_finds_layers_in_sub_models_and_composite_layers():
    inner_in = keras.Input((8, 8, 4))
    shared = ConvBNAct(4, 3, name="inner_block")
    inner = keras.Model(inner_in, shared(inner_in), name="inner")
    x = keras.Input((8, 8, 3))
    y = ConvBNAct(4, 3, name="outer_block")(x)
    y = inner(y)
    y = keras.layers.BatchNormalization(name="plain_bn")(y)
    model = keras.Model(x, y)
    layers = list(iter_layers(model))
    assert model not in layers
    assert len(layers) == len({id(layer) for layer in layers})  # each once
    bns = sorted(layer.name for layer in layers
                 if isinstance(layer, keras.layers.BatchNormalization))
    # ConvBNAct's own BN in both blocks, plus the plain one.
    assert len(bns) == 3 and "plain_bn" in bns
    assert inner in layers and shared in layers
