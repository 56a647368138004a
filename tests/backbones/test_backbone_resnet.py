"""Dilated ResNet v1 backbones: shapes, dilation schedule, parameter counts, keras.applications weights."""

import keras
import numpy as np
import pytest

from seg_common.backbones import build_resnet
from seg_common.backbones.resnet import unit_schedule

STRIDES = {"beta": {"stem": 4, "low_level": 4, "c1": 8, "c2": 16, "c3": 32, "c4": 32},
           "s": {"stem": 4, "low_level": 4, "c1": 4, "c2": 8, "c3": 16, "c4": 32},
           "keras": {"stem": 4, "low_level": 4, "c1": 4, "c2": 8, "c3": 16, "c4": 32}}
CHANNELS = {"low_level": 256, "c1": 256, "c2": 512, "c3": 1024, "c4": 2048}


def _ceil(d, s):
    return -(-d // s)


@pytest.fixture(scope="module", params=[
    "beta", "s", pytest.param("keras", marks=pytest.mark.large)])
def nets(request):
    """One depth-50 backbone per output stride, sharing the weights of OS32."""
    style = request.param
    models = {os: build_resnet(50, style=style, output_stride=os)
              for os in (8, 16, 32)}
    for os in (8, 16):
        models[os].set_weights(models[32].get_weights())
    return style, models


@pytest.mark.parametrize("size", [(33, 32)])
def test_feature_shapes_odd_and_even(nets, size):
    style, models = nets
    for os, model in models.items():
        out = model(np.zeros((1, *size, 3), np.float32))
        for key, stride in STRIDES[style].items():
            s = min(stride, os) if key != "stem" else 4
            channels = CHANNELS.get(key, 64 if style == "keras" else 128)
            assert tuple(out[key].shape) == (
                1, _ceil(size[0], s), _ceil(size[1], s), channels), (os, key)


def test_dilation_equals_subsampled_strided_net(nets, rng):
    """Atrous conv identity: the OS-k features on a 2^n+1 grid, sampled every
    second pixel, are the OS-2k features of the same weights (slim
    `stack_blocks_dense` semantics)."""
    _, models = nets
    x = rng.uniform(0, 1, (1, 33, 33, 3)).astype(np.float32)
    out = {os: models[os](x) for os in (8, 16, 32)}
    for fine, coarse in ((8, 16), (16, 32)):
        a = np.asarray(out[fine]["c4"])[:, ::2, ::2]
        b = np.asarray(out[coarse]["c4"])
        scale = np.abs(b).max()
        np.testing.assert_allclose(a / scale, b / scale, atol=1e-4)
        assert not np.allclose(out[fine]["c4"].shape, out[coarse]["c4"].shape)


def test_beta_schedule_matches_spec():
    """Beta ResNet: block3 rate 1 at OS16, block4 rate 2*[1,2,4]; OS8 doubles."""
    sched = unit_schedule(101, "beta", 16, (1, 2, 4))
    assert [(s, d) for b, u, s, d in sched if b == 3] == [(1, 2), (1, 4), (1, 8)]
    assert [s for b, u, s, d in sched if b == 2] == [1] * 23
    assert {d for b, u, s, d in sched if b == 2} == {1}
    assert [s for b, u, s, d in sched if b < 2 and s == 2] == [2, 2]
    sched8 = unit_schedule(101, "beta", 8, (1, 2, 4))
    assert [d for b, u, s, d in sched8 if b == 3] == [4, 8, 16]
    assert [d for b, u, s, d in sched8 if b == 2] == [2] * 23
    assert [(s, d) for b, u, s, d in sched8 if b == 1] == [(1, 1)] * 4


def test_s_schedule_matches_encnet_spec():
    """EncNet's dilated ResNet at OS8: c3 rate 2 (first unit 1), c4 rate 4 (first unit 2)."""
    sched = unit_schedule(50, "s", 8)
    assert [d for b, u, s, d in sched if b == 2] == [1, 2, 2, 2, 2, 2]
    assert [d for b, u, s, d in sched if b == 3] == [2, 4, 4]
    assert [(b, u) for b, u, s, d in sched if s == 2] == [(1, 0)]


def test_built_convs_carry_the_schedule():
    model = build_resnet(50, style="s", output_stride=8)
    rates = [model.get_layer(f"block3_unit_{u}_conv2").dilation_rate
             for u in range(1, 7)]
    assert rates == [1, 2, 2, 2, 2, 2]


def test_keras_style_parameters_equal_keras_applications():
    model = build_resnet(50, style="keras")
    assert model.count_params() == 23_587_712  # keras.applications ResNet50 notop


def test_s_style_trainable_parameters_match_encnet_spec():
    model = build_resnet(50, style="s", output_stride=8)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert round(trainable / 1e6, 2) == 23.63  # EncNet's ResNet-50s


@pytest.mark.large
def test_r101s_trainable_parameters_match_encnet_spec():
    model = build_resnet(101, style="s", output_stride=8)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert round(trainable / 1e6, 2) == 42.62  # EncNet's ResNet-101s


def test_keras_applications_weights_map_one_to_one(tmp_path, rng):
    reference = keras.applications.ResNet50(
        weights=None, include_top=False, input_shape=(None, None, 3))
    for layer in reference.layers:  # non-trivial BN statistics
        if isinstance(layer, keras.layers.BatchNormalization):
            c = layer.moving_mean.shape[0]
            layer.moving_mean.assign(rng.normal(0, 0.1, c))
            layer.moving_variance.assign(rng.uniform(0.5, 1.5, c))
    path = str(tmp_path / "resnet50.weights.h5")
    reference.save_weights(path)
    model = build_resnet(50, style="keras", output_stride=32, weights=path)
    x = rng.uniform(0, 255, (1, 64, 48, 3)).astype(np.float32)
    expected = np.asarray(reference(x))
    got = np.asarray(model(x)["c4"])
    scale = np.abs(expected).max()
    np.testing.assert_allclose(got / scale, expected / scale, atol=1e-4)


@pytest.mark.parametrize("kwargs, match", [
    (dict(depth=34), "depth"), (dict(style="v2"), "style"),
    (dict(output_stride=4), "output_stride"),
    (dict(multi_grid=(1, 2)), "multi_grid"),
    (dict(style="beta", weights="imagenet"), "imagenet"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_resnet(**kwargs)
