"""Modified aligned Xception: feature shapes, parameter count, dilation, separable order."""

import keras
import numpy as np
import pytest

from seg_common.backbones import build_xception


def _ceil(d, s):
    return -(-d // s)


def _shapes(model, size):
    out = model(keras.KerasTensor((1, *size, 3)))   # symbolic: no compute
    return {k: tuple(v.shape[1:]) for k, v in out.items()}


@pytest.fixture(scope="module")
def xception_65():
    return build_xception(65, output_stride=16)


def test_xception_65_spec_shapes_os16(xception_65):
    """Feature shapes of Xception-65 at 513 (OS16), and the even size 512."""
    assert _shapes(xception_65, (513, 513)) == {
        "stem": (257, 257, 64), "low_level": (129, 129, 256),
        "entry_flow": (33, 33, 728), "middle_flow": (33, 33, 728),
        "exit_flow": (33, 33, 2048)}
    shapes = _shapes(xception_65, (512, 510))
    assert shapes["low_level"] == (128, 128, 256)
    assert shapes["exit_flow"] == (32, 32, 2048)


def test_xception_65_backbone_parameters(xception_65):
    trainable = sum(int(np.prod(w.shape)) for w in xception_65.trainable_weights)
    assert trainable == 37_867_312   # expected count


def test_xception_65_dilation_schedule(xception_65):
    rate = {n: xception_65.get_layer(n).dilation_rate for n in (
        "middle_flow_block1_unit_16_separable_conv1",
        "exit_flow_block1_unit_1_separable_conv3",
        "exit_flow_block2_unit_1_separable_conv1")}
    assert rate == {"middle_flow_block1_unit_16_separable_conv1": 1,
                    "exit_flow_block1_unit_1_separable_conv3": 1,
                    "exit_flow_block2_unit_1_separable_conv1": 2}
    assert xception_65.get_layer(
        "exit_flow_block1_unit_1_separable_conv3").strides == 1  # de-strided
    assert xception_65.get_layer(
        "entry_flow_block3_unit_1_separable_conv3").strides == 2


def test_multi_grid_and_os8_rates():
    net = build_xception("tiny", output_stride=8, multi_grid=(1, 2, 4))
    rates = [net.get_layer(f"exit_flow_block2_unit_1_separable_conv{i}")
             .dilation_rate for i in (1, 2, 3)]
    assert rates == [4, 8, 16]   # exit_flow/block2 at 4*mg for OS8
    assert net.get_layer("middle_flow_block1_unit_1_separable_conv1"
                         ).dilation_rate == 2


@pytest.mark.parametrize("order, inner", [("released", False), ("paper", True)])
def test_separable_order(order, inner):
    net = build_xception("tiny", separable_order=order)
    for layer in net.layers:
        if "separable_conv" in layer.name:
            want = inner or layer.name.startswith("exit_flow_block2")
            assert layer.depth_activation == want, layer.name


def test_same_weights_any_output_stride_atrous_identity(rng):
    """OS8 features on a 2^n+1 grid, every second pixel, equal OS16 features."""
    nets = {os: build_xception("tiny", output_stride=os) for os in (8, 16, 32)}
    for os in (8, 16):
        nets[os].set_weights(nets[32].get_weights())
    x = rng.uniform(-1, 1, (1, 65, 65, 3)).astype(np.float32)
    out = {os: np.asarray(net(x)["exit_flow"]) for os, net in nets.items()}
    for fine, coarse in ((8, 16), (16, 32)):
        scale = np.abs(out[coarse]).max()
        np.testing.assert_allclose(out[fine][:, ::2, ::2] / scale,
                                   out[coarse] / scale, atol=1e-4)


@pytest.mark.parametrize("size", [(33, 33), (32, 46)])
def test_tiny_shapes_per_output_stride(size):
    for os in (8, 16, 32):
        shapes = _shapes(build_xception("tiny", output_stride=os), size)
        assert shapes["low_level"][:2] == (_ceil(size[0], 4), _ceil(size[1], 4))
        assert shapes["exit_flow"][:2] == (_ceil(size[0], os),
                                           _ceil(size[1], os))


@pytest.mark.large
def test_xception_71_low_level_tap_and_shapes():
    net = build_xception(71, output_stride=8)
    shapes = _shapes(net, (513, 513))
    assert shapes["low_level"] == (129, 129, 256)   # entry_flow/block3, OS4
    assert shapes["exit_flow"] == (65, 65, 2048)


@pytest.mark.parametrize("kwargs, match", [
    (dict(depth=41), "depth"), (dict(output_stride=4), "output_stride"),
    (dict(multi_grid=(1, 2)), "multi_grid"),
    (dict(separable_order="x"), "separable_order"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_xception(**kwargs)
