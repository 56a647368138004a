"""EncNet model: outputs per configuration, config errors, sizes of the head."""

import dataclasses

import keras
import numpy as np
import pytest

import encnet_tf

TINY = encnet_tf.PRESETS["tiny"]


def _params(layers):
    return sum(int(np.prod(w.shape)) for layer in layers
               for w in layer.trainable_weights)


def _head_params(model):
    return _params([l for l in model.layers if l.name.startswith("head")])


@pytest.mark.parametrize("overrides, keys", [
    ({}, {"logits", "se_logits_stage4", "se_logits_stage3"}),
    ({"stage3_encoding": False, "aux_head": True},
     {"logits", "se_logits_stage4", "aux_logits"}),
    ({"encoding": False, "se_loss": False, "stage3_encoding": False},
     {"logits"}),
    ({"se_loss": False, "stage3_encoding": False}, {"logits"}),
    ({"lateral": True, "encoding_projection": True, "aggregation": "mean",
      "attention": "residual", "aux_head": True},
     {"logits", "se_logits_stage4", "se_logits_stage3", "aux_logits"}),
])
def test_output_keys_and_shapes(overrides, keys):
    model = encnet_tf.build_model(TINY, **overrides)
    out = model(np.zeros((2, 40, 56, 3), np.float32), training=False)
    assert set(out) == keys
    for key, value in out.items():
        want = (2, TINY.num_classes) if key.startswith("se_") else (
            2, 40, 56, TINY.num_classes)
        assert tuple(value.shape) == want, key


def test_classifier_runs_at_output_stride_8():
    model = encnet_tf.build_model(TINY)
    inner = keras.Model(model.input, model.get_layer("head_classifier").output)
    assert tuple(inner(np.zeros((1, 64, 96, 3), np.float32)).shape) == (
        1, 8, 12, TINY.num_classes)


def test_head_parameters_follow_the_layer_spec():
    """Stage-4 head and stage-3 branch layers, counted by hand for the tiny widths
    (c4 = 64, c3 = 32 channels, head 32, K = 8, 5 classes)."""
    c4, c3, d, k, n = 64, 32, 32, 8, 5
    conv5 = 9 * c4 * d + 2 * d
    encoding = k * d + k + 2 * k          # codewords, smoothing, BN over K
    attention = d * d + d
    se = d * n + n
    classifier = d * n + n
    stage3 = c3 * d + 2 * d + encoding + se
    model = encnet_tf.build_model(TINY)
    assert _head_params(model) == (conv5 + encoding + attention + se
                                   + classifier + stage3)


def test_reference_options_add_the_spec_layers():
    """Lateral (2 x 1x1 + 3x3 fusion), projection (1x1), aux head (3x3 + 1x1)."""
    d, c2, c3, n, a = 32, 16, 32, 5, TINY.aux_channels
    base = _head_params(encnet_tf.build_model(TINY))
    lateral = (c2 * d + 2 * d) + (c3 * d + 2 * d) + (9 * 3 * d * d + 2 * d)
    projection = d * d + 2 * d
    aux = 9 * c3 * a + 2 * a + a * n + n
    full = encnet_tf.build_model(TINY, lateral=True, encoding_projection=True,
                                 aux_head=True)
    assert _head_params(full) == base + lateral + projection + aux


def test_head_learning_rate_option_selects_head_variables_only():
    config = encnet_tf.PRESETS["pascal_context_reference"]
    assert config.lr_multipliers == (("head", 10.0),)
    model = encnet_tf.build_model(config, backbone="tiny", head_channels=16,
                                  num_classes=3)
    head = [v.path for v in model.trainable_variables if "head" in v.path]
    backbone = model.get_layer("tiny_backbone").trainable_variables
    assert len(head) + len(backbone) == len(model.trainable_variables)
    assert not any("head" in v.path for v in backbone)


@pytest.mark.parametrize("field, value, match", [
    ("num_codes", 0, "num_codes"),
    ("backbone", "resnet_18", "backbone.*resnet_50"),
    ("aggregation", "max", "aggregation"),
    ("attention", "add", "attention"),
    ("dropout_rate", 1.0, "dropout_rate"),
    ("num_classes", 0, "num_classes"),
])
def test_bad_values_raise_value_error_naming_the_field(field, value, match):
    with pytest.raises(ValueError, match=match):
        encnet_tf.build_model(TINY, **{field: value})


def test_inconsistent_switches_are_rejected():
    with pytest.raises(ValueError, match="se_loss"):
        encnet_tf.build_model(TINY, encoding=False)
    with pytest.raises(ValueError, match="stage3_encoding"):
        encnet_tf.build_model(TINY, se_loss=False)
    with pytest.raises(TypeError, match="num_code"):
        encnet_tf.build_model(TINY, num_code=3)
    with pytest.raises(TypeError, match="must be a Config"):
        encnet_tf.build_model(59)


def test_presets_follow_the_paper_recipe():
    paper = encnet_tf.PRESETS["pascal_context"]
    assert (paper.num_classes, paper.num_codes, paper.base_learning_rate,
            paper.poly_power, paper.momentum, paper.weight_decay,
            paper.batch_size, paper.crop_size) == (
                59, 32, 0.001, 0.9, 0.9, 1e-4, 16, (480, 480))
    assert (paper.min_scale_factor, paper.max_scale_factor,
            paper.max_rotation_degrees, paper.flip) == (0.5, 2.0, 10.0, True)
    assert (paper.aggregation, paper.attention, paper.stage3_encoding,
            paper.se_loss_weight, paper.lr_multipliers) == (
                "sum", "scale", True, 0.2, ())
    ade = encnet_tf.PRESETS["ade20k"]
    assert (ade.num_classes, ade.base_learning_rate) == (150, 0.01)
    assert ade.train_steps == 120 * (20_210 // 16)
    assert paper.train_steps == 50 * (4_998 // 16)
    assert encnet_tf.PRESETS["voc"].num_classes == 21
    fcn = encnet_tf.PRESETS["fcn_pascal_context"]
    assert dataclasses.replace(fcn, encoding=True, se_loss=True,
                               stage3_encoding=True) == paper


@pytest.fixture
def mixed_bfloat16():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    yield
    keras.mixed_precision.set_global_policy("float32")


def test_mixed_precision_keeps_encoding_and_outputs_in_float32(mixed_bfloat16):
    model = encnet_tf.build_model(TINY, aux_head=True)
    encoding = model.get_layer("head_context_encoding")
    assert encoding.encoding.compute_dtype == "float32"
    assert encoding.codeword_bn.compute_dtype == "float32"
    assert model.get_layer("head_conv5").compute_dtype == "bfloat16"
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3))
    out = model(images.astype(np.float32), training=True)
    for key, value in out.items():
        assert value.dtype == "float32", key
        assert np.all(np.isfinite(np.asarray(value))), key


@pytest.mark.parametrize("attention", ["residual", "scale"])
def test_attention_scales_the_module_input_not_the_projection(attention):
    """Paper Fig. 2 / the reference `EncModule`: the 1x1 projection feeds only
    the Encoding Layer; the attended map is `relu(x + x * gamma)` (or
    `x * gamma`) of the module's input x, computed here independently from
    the model's own intermediate tensors."""
    model = encnet_tf.build_model(TINY, lateral=True, encoding_projection=True,
                                  attention=attention)
    x_layer = model.get_layer("head_lateral_fusion")
    probe = keras.Model(model.input, {
        "x": x_layer.output,
        "gamma": model.get_layer("head_attention_fc").output,
        "y": model.get_layer("head_attention").output})
    images = np.random.default_rng(0).uniform(0, 255, (2, 48, 64, 3))
    out = {k: np.asarray(v) for k, v in probe(
        images.astype(np.float32), training=False).items()}
    scaled = out["x"] * out["gamma"][:, None, None, :]
    want = np.maximum(out["x"] + scaled, 0) if attention == "residual" \
        else scaled
    assert np.abs(out["x"]).max() > 0 and out["gamma"].std() > 0
    np.testing.assert_allclose(out["y"], want, rtol=1e-5, atol=1e-6)
