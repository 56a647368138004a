"""SegNet / SegNet-Basic structure against the reference prototxts."""

import keras
import numpy as np
import pytest

import bayesian_segnet_tf
from bayesian_segnet_tf import build_model
from bayesian_segnet_tf.config import ARCHS, DROPOUT_VARIANTS
from seg_common.layers import MCDropout

TINY = {"width_multiplier": 0.125}


def _producers(model):
    """id(tensor) -> name of the layer whose output it is (public API)."""
    return {id(tensor): layer.name for layer in model.layers
            for tensor in keras.tree.flatten(layer.output)}


def _dropout_inputs(model):
    """Dropout layer name -> name of the layer feeding it."""
    producers = _producers(model)
    return {layer.name: producers[id(layer.input)]
            for layer in model.layers if isinstance(layer, MCDropout)}


# Prototxt positions of the Bayesian variants' dropout layers.
CENTRAL = {
    "segnet": {"encdrop3": "block3_pool", "encdrop4": "block4_pool",
               "encdrop5": "block5_pool", "decdrop5": "conv5_1_D_relu",
               "decdrop4": "conv4_1_D_relu", "decdrop3": "conv3_1_D_relu"},
    "segnet_basic": {"encdrop3": "pool3", "encdrop4": "pool4",
                     "decdrop4": "conv_decode4_bn",
                     "decdrop3": "conv_decode3_bn"},
}


@pytest.mark.parametrize("arch", ARCHS)
def test_central_dropout_positions_follow_the_prototxt(arch):
    model = build_model(arch=arch, **TINY)
    assert _dropout_inputs(model) == CENTRAL[arch]
    assert all(l.rate == 0.5 for l in model.layers if isinstance(l, MCDropout))


@pytest.mark.parametrize("arch,variant,want", [
    ("segnet", "none", set()),
    ("segnet", "encoder", {f"encdrop{i}" for i in range(1, 6)}),
    ("segnet", "decoder", {f"decdrop{i}" for i in range(1, 6)}),
    ("segnet", "center", {"encdrop5", "decdrop5"}),
    ("segnet", "classifier", {"decdrop1"}),
    ("segnet_basic", "encoder_decoder",
     {f"{s}drop{i}" for s in ("enc", "dec") for i in range(1, 5)}),
    ("segnet_basic", "center", {"encdrop4", "decdrop4"}),
    ("segnet_basic", "classifier", {"decdrop1"}),
])
def test_dropout_variants(arch, variant, want):
    model = build_model(arch=arch, dropout=variant, dropout_rate=0.3, **TINY)
    assert set(_dropout_inputs(model)) == want
    if variant == "classifier":  # the input of the classifier conv
        feeds = "conv1_2_D_relu" if arch == "segnet" else "conv_decode1_bn"
        assert _dropout_inputs(model)["decdrop1"] == feeds


def test_layer_parity_traps():
    basic = build_model(arch="segnet_basic", **TINY)
    names = {layer.name for layer in basic.layers}
    assert not any(n.startswith("conv_decode") and n.endswith("relu")
                   for n in names)  # no ReLU in the SegNet-Basic decoder
    assert basic.get_layer("conv_classifier").kernel_size == (1, 1)
    assert basic.get_layer("norm").size == 5
    segnet = build_model(arch="segnet", **TINY)
    final = segnet.get_layer("conv1_1_D")
    assert final.kernel_size == (3, 3) and final.use_bias
    assert _producers(segnet)[id(segnet.output["logits"])] == final.name


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("size", [(45, 61), (23, 30), (1, 1)])
def test_logits_at_odd_sizes(arch, size):
    model = build_model(arch=arch, num_classes=5, **TINY)
    out = model(np.zeros((1, *size, 3), np.float32))
    assert tuple(out["logits"].shape) == (1, *size, 5)


def _numpy_unpool(pre_pool, values):
    """Writes each pooled value at the first raster-order maximum of its
    (ceil-mode) 2x2 window of `pre_pool`."""
    out = np.zeros_like(pre_pool)
    b, h, w, c = pre_pool.shape
    for n in range(b):
        for i in range(values.shape[1]):
            for j in range(values.shape[2]):
                window = pre_pool[n, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
                flat = window.reshape(-1, c).argmax(0)
                dy, dx = np.divmod(flat, window.shape[1])
                out[n, 2 * i + dy, 2 * j + dx, np.arange(c)] = values[n, i, j]
    return out


def test_decoder_unpooling_uses_the_pooling_indices(rng):
    model = build_model(arch="segnet_basic", dropout="none", **TINY)
    probe = keras.Model(model.input, [model.get_layer(n).output for n in
                                      ("conv4_relu", "upsample4")])
    probe_pool = keras.Model(model.input, model.get_layer("pool4").output[0])
    x = rng.uniform(0, 255, (2, 45, 61, 3)).astype(np.float32)
    pre_pool, unpooled = (np.asarray(t) for t in probe(x))
    values = np.asarray(probe_pool(x))
    assert unpooled.shape == pre_pool.shape == (2, 6, 8, 8)
    want = _numpy_unpool(pre_pool, values)
    np.testing.assert_array_equal(unpooled, want)
    # Non-zero only at argmax positions: at most one per window and channel.
    assert np.count_nonzero(unpooled) <= values.size


@pytest.mark.parametrize("field,value,match", [
    ("arch", "unet", "segnet, segnet_basic"),
    ("dropout", "all", "none, encoder, decoder, encoder_decoder, center"),
    ("dropout_rate", 1.0, "dropout_rate"),
    ("num_classes", 0, "num_classes"),
])
def test_bad_config_values(field, value, match):
    with pytest.raises(ValueError, match=match):
        build_model(**{field: value})


def test_unknown_field_is_a_type_error():
    with pytest.raises(TypeError, match="dropout_variant"):
        build_model(dropout_variant="central")


def test_segnet_basic_trainable_parameters():
    model = build_model(bayesian_segnet_tf.PRESETS["segnet_basic"])
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == 1_416_587  # prototxt count (paper table: 1.2M)
    assert model.count_params() == 1_417_611  # + BN moving statistics


def test_dropout_variant_names_are_the_documented_ones():
    assert DROPOUT_VARIANTS == ("none", "encoder", "decoder", "encoder_decoder",
                                "center", "central", "classifier",
                                "before_pooling")


def test_segnet_keras_file_round_trip(tmp_path, rng):
    model = build_model(arch="segnet", **TINY)
    path = tmp_path / "segnet.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    x = rng.uniform(0, 255, (1, 23, 30, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(loaded(x)["logits"]),
                               np.asarray(model(x)["logits"]), rtol=1e-5,
                               atol=1e-4)
    assert {l.name for l in loaded.layers if isinstance(l, MCDropout)} == set(
        CENTRAL["segnet"])
