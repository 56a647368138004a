"""`tools/convert_tf1_deeplab_checkpoint.py`: flags, refusals, outputs.

Checkpoints are written with the TF1 names of the `tiny` preset (same rules
as the released backbones). `run` is the tool minus absl parsing; one test
runs the command line itself.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import text_format

import deeplab_tf
from deeplab_tf.tf1_checkpoint import tf1_variable_names
from tests.deeplab.tf1_checkpoints import converter_tool, tool_flags as flags
from tests.deeplab.tf1_checkpoints import write_tf1_checkpoint

TINY = deeplab_tf.PRESETS["tiny"]


@pytest.fixture(scope="module")
def values():
    """TF1 name -> random value, for every variable of the tiny model."""
    rng = np.random.default_rng(0)
    names = tf1_variable_names(deeplab_tf.build_model(TINY), TINY)
    return {n: rng.normal(size=v.shape).astype(np.float32)
            for n, v in names.items()}


def refusal(flag_values):
    """The message `run` refuses with (having written no output)."""
    tool = converter_tool()
    existed = os.path.exists(flag_values.output)
    with pytest.raises(tool.ConversionError) as error:
        tool.run(flag_values)
    assert os.path.exists(flag_values.output) == existed
    return str(error.value)


def test_directory_without_state_file(tmp_path, values):
    assert "holds no checkpoint" in refusal(
        flags(tmp_path, tmp_path / "x.weights.h5"))
    write_tf1_checkpoint(tmp_path / "model.ckpt-1", values)
    out = tmp_path / "out.weights.h5"
    converter_tool().run(flags(tmp_path, out))   # its only prefix
    assert out.exists()
    write_tf1_checkpoint(tmp_path / "model.ckpt-2", values)
    message = refusal(flags(tmp_path, tmp_path / "b.weights.h5"))
    assert message.startswith(f"--checkpoint={tmp_path}: ")
    assert "2 checkpoint prefixes" in message and "pass one prefix" in message
    assert "no checkpoint" in refusal(
        flags(tmp_path / "nothing", tmp_path / "c.weights.h5"))


def test_skip_logits_allows_exactly_the_logits(tmp_path, values):
    prefix = write_tf1_checkpoint(tmp_path / "m.ckpt", values)
    out = tmp_path / "five.weights.h5"
    converter_tool().run(flags(prefix, out, skip_logits=True,
                               override=["num_classes=5"]))
    model = deeplab_tf.build_model(TINY, num_classes=5)
    model.load_weights(str(out))
    name = "xception_tiny/entry_flow/conv1_1/weights"
    np.testing.assert_array_equal(
        tf1_variable_names(model, TINY)[name], values[name])
    partial = {k: v for k, v in values.items() if not k.startswith("aspp0/")}
    prefix = write_tf1_checkpoint(tmp_path / "partial.ckpt", partial)
    assert "--allow_missing" in refusal(flags(
        prefix, tmp_path / "p.weights.h5", skip_logits=True,
        override=["num_classes=5"]))


def test_imagenet_checkpoint_to_backbone_weights(tmp_path, values):
    backbone = {k: v for k, v in values.items()
                if k.startswith("xception_tiny/")}
    head = {"xception_tiny/logits/weights": np.ones((1, 1, 64, 10), np.float32),
            "xception_tiny/logits/biases": np.ones((10,), np.float32)}
    prefix = write_tf1_checkpoint(tmp_path / "imagenet.ckpt",
                                  {**backbone, **head})
    out = tmp_path / "backbone.weights.h5"
    assert "add --backbone_only" in refusal(
        flags(prefix, out, allow_missing=True))
    converter_tool().run(flags(prefix, out, backbone_only=True))
    model = deeplab_tf.build_model(TINY, backbone_weights=str(out))
    for name, var in tf1_variable_names(model, TINY).items():
        if name in backbone:
            np.testing.assert_array_equal(var, backbone[name])
    with pytest.raises(ValueError, match="--backbone_only"):
        deeplab_tf.build_model(TINY, backbone_weights="imagenet")


def test_deeplabv3plus_checkpoint_into_deeplabv3(tmp_path, values):
    prefix = write_tf1_checkpoint(tmp_path / "m.ckpt", values)
    out = tmp_path / "v3.weights.h5"
    # tiny's ASPP (64) and decoder (256) widths differ, so its logits do not
    # fit DeepLabv3 (the released models have 256 for both).
    report = converter_tool().run(flags(prefix, out, skip_logits=True,
                                        override=["decoder=False"]))
    assert report["left_out"] and all(
        n.startswith("decoder/") for n in report["left_out"])
    deeplab_tf.build_model(TINY, decoder=False).load_weights(str(out))


def test_resnet_multi_grid_must_be_stated(tmp_path):
    prefix = write_tf1_checkpoint(tmp_path / "r.ckpt", {
        "resnet_v1_101/conv1_1/weights": np.ones((3, 3, 3, 64), np.float32),
        "aspp0/weights": np.ones((1, 1, 2048, 256), np.float32)})
    message = refusal(flags(prefix, tmp_path / "r.weights.h5",
                            preset="resnet_101_voc"))
    assert "(1, 2, 4)" in message and "--override=multi_grid" in message


def test_wrong_backbone_names_the_preset(tmp_path):
    prefix = write_tf1_checkpoint(tmp_path / "r.ckpt", {
        "resnet_v1_101/conv1_1/weights": np.ones((3, 3, 3, 64), np.float32)})
    message = refusal(flags(prefix, tmp_path / "r.weights.h5"))
    assert "['resnet_v1_101']" in message and "--preset" in message


def test_output_exists_and_bad_override(tmp_path, values):
    prefix = write_tf1_checkpoint(tmp_path / "m.ckpt", values)
    out = tmp_path / "mine.weights.h5"
    out.write_bytes(b"the user's file")
    assert "add --overwrite" in refusal(flags(prefix, out))
    assert "--override: " in refusal(flags(
        prefix, tmp_path / "x.weights.h5", override=["no_such_field=1"]))
    assert out.read_bytes() == b"the user's file"


def test_command_line_mismatch_is_short_and_writes_nothing(tmp_path, values):
    """A plain-head config on a separable checkpoint: a few lines, one error
    line, exit 1, and the user's existing output left as it was."""
    prefix = write_tf1_checkpoint(tmp_path / "m.ckpt", values)
    out = tmp_path / "mine.weights.h5"
    out.write_bytes(b"the user's file")
    tool = converter_tool().__file__
    result = subprocess.run(
        [sys.executable, tool, f"--checkpoint={prefix}", f"--output={out}",
         "--preset=tiny", "--override=separable=false", "--overwrite"],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [l for l in result.stderr.splitlines() if l.startswith("error:")]
    assert len(errors) == 1 and "not written" in errors[0], result.stderr
    assert len(result.stdout.splitlines()) <= 4, result.stdout
    assert "unmapped: " in result.stdout and "e.g." in result.stdout
    assert "note: a TF1 checkpoint stores no output stride" in result.stderr
    assert out.read_bytes() == b"the user's file"
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["m.ckpt.index", "m.ckpt.data-00000-of-00001", "mine.weights.h5"])


def _graph_with_aspp1_rate(rate, text):
    """A GraphDef as TF1 writes an atrous depthwise convolution of `rate`,
    serialised as text (graph.pbtxt) or binary (frozen_inference_graph.pb)."""
    graph = tf.compat.v1.GraphDef()
    block = graph.node.add(name="aspp1_depthwise/depthwise/SpaceToBatchND/"
                           "block_shape", op="Const")
    block.attr["value"].tensor.CopyFrom(
        tf.make_tensor_proto(np.array([rate, rate], np.int32)))
    graph.node.add(name="aspp1_depthwise/depthwise/SpaceToBatchND",
                   op="SpaceToBatchND", input=["features", block.name, "pad"])
    graph.node.add(name="aspp1_depthwise/depthwise",
                   op="DepthwiseConv2dNative", input=["s2b", "kernel"])
    if text:
        return text_format.MessageToString(graph).encode("utf-8")
    return graph.SerializeToString()


@pytest.mark.parametrize("file_name", ["frozen_inference_graph.pb",
                                       "graph.pbtxt"])
def test_atrous_rates_checked_against_the_graph_beside(tmp_path, values,
                                                       file_name):
    """tiny runs aspp1 at rate 6 (OS16): a graph at 6 passes, one at 12
    (an OS8 export) is refused, naming the layer and both rates."""
    prefix = write_tf1_checkpoint(tmp_path / "model.ckpt", values)
    graph, text = tmp_path / file_name, file_name.endswith(".pbtxt")
    graph.write_bytes(_graph_with_aspp1_rate(6, text))
    converter_tool().run(flags(prefix, tmp_path / "a.weights.h5"))
    graph.write_bytes(_graph_with_aspp1_rate(12, text))
    message = refusal(flags(prefix, tmp_path / "b.weights.h5"))
    assert "aspp1_depthwise at rate 12, the config at 6" in message
    converter_tool().run(flags(prefix, tmp_path / "c.weights.h5",
                               override=["output_stride=8"]))
