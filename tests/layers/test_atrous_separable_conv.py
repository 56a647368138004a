"""AtrousSeparableConv2D and ConvBNAct against direct-loop NumPy convolutions."""

import numpy as np
import pytest

from seg_common.layers import AtrousSeparableConv2D, ConvBNAct
from tests.layers.conv_oracles import (
    batch_norm_inference, conv, depthwise_conv, pad_fixed, randomize_batch_norm)

EPS = 1e-3


def _separable_oracle(x, layer, bn_dw, bn_pw, stride, rate, depth_activation):
    relu = lambda t: np.maximum(t, 0.0)  # noqa: E731
    y = x.astype(np.float64)
    if not depth_activation:
        y = relu(y)
    y = depthwise_conv(pad_fixed(y, 3, rate), layer.depthwise.kernel.numpy(),
                       stride, rate)
    y = batch_norm_inference(y, *bn_dw, EPS)
    if depth_activation:
        y = relu(y)
    y = conv(y, layer.pointwise.kernel.numpy(), 1, 1)
    y = batch_norm_inference(y, *bn_pw, EPS)
    return relu(y) if depth_activation else y


@pytest.mark.parametrize("stride,rate", [(1, 1), (1, 2), (1, 4), (2, 1)])
@pytest.mark.parametrize("depth_activation", [False, True])
@pytest.mark.parametrize("size", [(9, 10), (12, 7)])
def test_separable_matches_numpy_loops(rng, stride, rate, depth_activation, size):
    x = rng.normal(size=(2, *size, 3)).astype(np.float32)
    layer = AtrousSeparableConv2D(5, strides=stride, dilation_rate=rate,
                                  depth_activation=depth_activation, epsilon=EPS)
    layer.build(x.shape)
    bn_dw = randomize_batch_norm(layer.depthwise_bn, rng)
    bn_pw = randomize_batch_norm(layer.pointwise_bn, rng)
    got = np.asarray(layer(x, training=False))
    want = _separable_oracle(x, layer, bn_dw, bn_pw, stride, rate,
                             depth_activation)
    assert got.shape == (2, -(-size[0] // stride), -(-size[1] // stride), 5)
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("stride,rate,size", [(2, 1, 8), (2, 1, 9), (1, 2, 8)])
def test_conv_bn_act_matches_numpy_loops(rng, stride, rate, size):
    x = rng.normal(size=(2, size, size, 3)).astype(np.float32)
    layer = ConvBNAct(4, 3, strides=stride, dilation_rate=rate, epsilon=EPS)
    layer.build(x.shape)
    bn = randomize_batch_norm(layer.bn, rng)
    got = np.asarray(layer(x, training=False))
    want = np.maximum(batch_norm_inference(
        conv(pad_fixed(x.astype(np.float64), 3, rate),
             layer.conv.kernel.numpy(), stride, rate), *bn, EPS), 0.0)
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4)


def test_strided_conv_is_centred_on_even_inputs():
    """Fixed padding: output (0, 0) of a 3x3/2 conv sees input rows/cols -1..1."""
    x = np.zeros((1, 8, 8, 1), np.float32)
    x[0, 0, 0, 0] = 1.0
    layer = ConvBNAct(1, 3, strides=2, use_batch_norm=False, activation=None)
    layer.build(x.shape)
    kernel = np.arange(9, dtype=np.float32).reshape(3, 3, 1, 1)
    layer.conv.set_weights([kernel, np.zeros(1, np.float32)])
    # Centred padding puts input (0,0) under kernel tap (1,1) = 4; Keras "same"
    # on an even input would put it under tap (0,0) = 0.
    assert np.asarray(layer(x))[0, 0, 0, 0] == 4.0


@pytest.mark.parametrize("kwargs,name", [
    (dict(filters=0), "filters"),
    (dict(filters=4, strides=2, dilation_rate=2), "dilation_rate"),
    (dict(filters=4, kernel_size=0), "kernel_size"),
])
def test_bad_arguments_name_the_argument(kwargs, name):
    for cls in (AtrousSeparableConv2D, ConvBNAct):
        with pytest.raises(ValueError, match=name):
            cls(**kwargs)


def test_wrong_rank_is_rejected():
    for layer in (AtrousSeparableConv2D(4), ConvBNAct(4)):
        with pytest.raises(ValueError, match="inputs"):
            layer(np.zeros((2, 8, 3), np.float32))
