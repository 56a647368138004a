"""TF1 DeepLab checkpoint conversion on checkpoints written with TF1 variable names."""

import numpy as np
import pytest

import deeplab_tf
from deeplab_tf.tf1_checkpoint import load_tf1_checkpoint, tf1_variable_names
from tests.deeplab.tf1_checkpoints import converter_tool, write_tf1_checkpoint


def _random_values(names, rng):
    return {n: rng.normal(size=v.shape).astype(np.float32)
            for n, v in names.items()}


# Names as they appear in the released checkpoints (known answers).
XCEPTION_NAMES = {
    "xception_tiny/entry_flow/conv1_1/weights": (3, 3, 3, 8),
    "xception_tiny/entry_flow/conv1_2/BatchNorm/moving_variance": (16,),
    "xception_tiny/entry_flow/block1/unit_1/xception_module/"
    "separable_conv1_depthwise/depthwise_weights": (3, 3, 16, 1),
    "xception_tiny/entry_flow/block1/unit_1/xception_module/"
    "separable_conv1_pointwise/weights": (1, 1, 16, 16),
    "xception_tiny/entry_flow/block1/unit_1/xception_module/shortcut/"
    "BatchNorm/gamma": (16,),
    "xception_tiny/exit_flow/block2/unit_1/xception_module/"
    "separable_conv3_depthwise/BatchNorm/beta": (64,),
    "image_pooling/weights": (1, 1, 64, 64),
    "aspp0/BatchNorm/moving_mean": (64,),
    "aspp3_depthwise/depthwise_weights": (3, 3, 64, 1),
    "concat_projection/weights": (1, 1, 320, 64),
    "decoder/feature_projection0/weights": (1, 1, 24, 16),
    "decoder/decoder_conv1_pointwise/BatchNorm/gamma": (256,),
    "logits/semantic/weights": (1, 1, 256, 3),
    "logits/semantic/biases": (3,),
}


def test_xception_names_follow_tf1_scopes():
    config = deeplab_tf.PRESETS["tiny"]
    names = tf1_variable_names(deeplab_tf.build_model(config), config)
    for name, shape in XCEPTION_NAMES.items():
        assert tuple(names[name].shape) == shape, name


@pytest.mark.large
def test_resnet_101_names_follow_tf1_scopes():
    config = deeplab_tf.Config(backbone="resnet_101", separable=False)
    names = tf1_variable_names(deeplab_tf.build_model(config), config)
    for name, shape in {
            "resnet_v1_101/conv1_1/weights": (3, 3, 3, 64),
            "resnet_v1_101/conv1_3/BatchNorm/beta": (128,),
            "resnet_v1_101/block1/unit_1/bottleneck_v1/shortcut/weights":
                (1, 1, 128, 256),
            "resnet_v1_101/block3/unit_23/bottleneck_v1/conv2/weights":
                (3, 3, 256, 256),
            "resnet_v1_101/block4/unit_3/bottleneck_v1/conv3/BatchNorm/gamma":
                (2048,),
            "aspp1/weights": (3, 3, 2048, 256),
            "decoder/decoder_conv0/decoder_conv0_2/weights": (3, 3, 256, 256),
    }.items():
        assert tuple(names[name].shape) == shape, name
    assert len(names) == len(deeplab_tf.build_model(config).weights)


def test_convert_loads_every_weight_and_reports_leftovers(tmp_path, rng):
    config = deeplab_tf.PRESETS["tiny"]
    names = tf1_variable_names(deeplab_tf.build_model(config), config)
    values = _random_values(names, rng)
    extra = {"xception_tiny/entry_flow/conv1_9/weights": np.ones((1,), np.float32),
             "global_step": np.int64(7),
             "logits/semantic/weights/Momentum": np.ones((1, 1, 256, 3), np.float32)}
    prefix = write_tf1_checkpoint(tmp_path / "model.ckpt", {**values, **extra})

    model = deeplab_tf.build_model(config)
    report = load_tf1_checkpoint(model, config, prefix)
    assert report["unmapped"] == ["xception_tiny/entry_flow/conv1_9/weights"]
    assert report["training_state"] == sorted(
        ["global_step", "logits/semantic/weights/Momentum"])
    assert report["missing"] == [] and report["shape_mismatch"] == []
    assert len(report["loaded"]) == len(model.weights)
    for name, var in tf1_variable_names(model, config).items():
        np.testing.assert_array_equal(np.asarray(var), values[name])

    # The tool refuses to write with an unmapped weight; without it, writes a
    # .weights.h5 that reproduces the converted model.
    tool = converter_tool()
    out = tmp_path / "converted.weights.h5"
    with pytest.raises(tool.ConversionError, match="not written"):
        tool.convert(prefix, str(out), config)
    assert not out.exists()
    clean = write_tf1_checkpoint(tmp_path / "clean.ckpt", values)
    tool.convert(clean, str(out), config)
    reloaded = deeplab_tf.build_model(config)
    reloaded.load_weights(str(out))
    x = rng.uniform(0, 255, (1, 33, 33, 3)).astype(np.float32)
    np.testing.assert_allclose(reloaded(x)["logits"], model(x)["logits"],
                               atol=1e-5)


def test_skip_logits_for_a_new_class_count(tmp_path, rng):
    config = deeplab_tf.PRESETS["tiny"]
    names = tf1_variable_names(deeplab_tf.build_model(config), config)
    prefix = write_tf1_checkpoint(tmp_path / "m.ckpt", _random_values(names, rng))
    other = deeplab_tf.build_model(config, num_classes=5)
    new = deeplab_tf.Config(**{**config.__dict__, "num_classes": 5})
    assert load_tf1_checkpoint(other, new, prefix)["shape_mismatch"] == [
        "logits/semantic/biases", "logits/semantic/weights"]
    report = load_tf1_checkpoint(other, new, prefix, skip_logits=True)
    assert report["skipped"] == ["logits/semantic/biases",
                                 "logits/semantic/weights"]
    assert report["missing"] == [] and report["shape_mismatch"] == []


def test_standard_stem_has_no_tf1_checkpoint():
    config = deeplab_tf.Config(backbone="resnet_50", resnet_stem="standard")
    with pytest.raises(ValueError, match="resnet_stem='beta'"):
        tf1_variable_names(None, config)
