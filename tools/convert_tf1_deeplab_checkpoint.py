"""Converts an official TF1 DeepLab checkpoint into a Keras `.weights.h5` file.

    python tools/convert_tf1_deeplab_checkpoint.py \\
        --checkpoint=$CKPT/deeplabv3_pascal_train_aug/model.ckpt \\
        --preset=xception_65_voc --output=x65_voc.weights.h5

    python tools/convert_tf1_deeplab_checkpoint.py --backbone_only \\
        --checkpoint=$CKPT/resnet_v1_101/model.ckpt --preset=resnet_101_voc \\
        --output=r101_beta_imagenet.weights.h5

The first writes whole-model weights for `deeplab_tf.build_model(config)
.load_weights()`; `--backbone_only` writes the backbone's weights for
`Config(backbone_weights=...)`, from an ImageNet classifier checkpoint (its
`<backbone>/logits` head is left out) or from a DeepLab one.

`--checkpoint` is a prefix (`model.ckpt-30000`) or a directory (its
`checkpoint` state file, or its only prefix). `--skip_logits` leaves out
exactly the logits (a new class count); `--allow_missing` writes even when
other model variables are missing. Checkpoint weights of parts the config
leaves out (the decoder with `--override=decoder=false`) are reported, not
errors.

A TF1 checkpoint stores no training flags, and output stride, atrous rates,
multi-grid and align_corners change no shape. When the checkpoint's
directory holds the graph (`frozen_inference_graph.pb` of the released
tarballs, `graph.pbtxt` of a train directory), the model's atrous rates must
be the graph's (`deeplab_tf.tf1_graph`; convert at the graph's output stride,
the weights serve any). Without a graph a note on stderr says what the
checkpoint cannot confirm; and since the official multi-grid default is
(1, 1, 1) while the preset `resnet_101_voc` uses (1, 2, 4) (the DeepLabv3
paper), a ResNet DeepLab checkpoint is refused until
`--override=multi_grid=[...]` says which. align_corners is always True in
the official code.

Bad input gets one line on stderr and a non-zero exit; the output is written
atomically and only when the conversion succeeds.
"""

import ast
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402
import tensorflow as tf  # noqa: E402

import deeplab_tf  # noqa: E402
from deeplab_tf.model import resolve_config  # noqa: E402
from deeplab_tf.tf1_checkpoint import (  # noqa: E402
    BACKBONE_SCOPES, check_config, checkpoint_backbones,
    is_imagenet_classifier, load_tf1_checkpoint, resolve_checkpoint)
from deeplab_tf.tf1_graph import (  # noqa: E402
    find_graph, rate_mismatches, read_graph)
from seg_common.files import atomic_file  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("checkpoint", None, "TF1 checkpoint prefix or directory.")
flags.DEFINE_string("output", None, "Destination .weights.h5 file.")
flags.DEFINE_string("preset", "xception_65_voc", "deeplab_tf.PRESETS name.")
flags.DEFINE_multi_string("override", [],
                          "Config field overrides: name=value (JSON or "
                          "Python literal), e.g. multi_grid=[1,1,1].")
flags.DEFINE_bool("skip_logits", False,
                  "Leave out logits/semantic (another class count).")
flags.DEFINE_bool("allow_missing", False,
                  "Write the output even if model variables are missing.")
flags.DEFINE_bool("backbone_only", False,
                  "Write the backbone alone (for Config.backbone_weights).")
flags.DEFINE_bool("overwrite", False, "Replace an existing --output.")
flags.mark_flags_as_required(["checkpoint", "output"])

SHOWN = 5   # names listed per problem kind


class ConversionError(ValueError):
    """Bad input: the message is the one line the tool prints."""


def parse_overrides(items):
    """`["name=value", ...]` -> dict; values JSON or Python literals, else str."""
    overrides = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ConversionError(f"--override={item}: expected name=value, "
                                  "e.g. --override=multi_grid=[1,1,1]")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            try:
                parsed = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                parsed = value
        overrides[name] = tuple(parsed) if isinstance(parsed, list) else parsed
    return overrides


def check_checkpoint(names, config, overrides, backbone_only, graph=None):
    """Refuses a checkpoint the config cannot take, naming what to pass.

    Args:
        names: the checkpoint's variable names.
        config: the resolved `Config`.
        overrides: the `--override` dict (what the user set explicitly).
        backbone_only: `--backbone_only`.
        graph: the graph file beside the checkpoint, if any.

    Raises:
        ConversionError: another backbone; an ImageNet checkpoint without
            `backbone_only`; a ResNet DeepLab checkpoint with an unstated
            multi-grid and no graph to check it against.
    """
    scope = BACKBONE_SCOPES.get(config.backbone)
    found = checkpoint_backbones(names)
    if scope not in found:
        raise ConversionError(
            f"the checkpoint holds backbone {found or 'none known'}, the "
            f"config builds {scope}: pick the matching --preset (e.g. "
            "resnet_101_voc for resnet_v1_101) or --override=backbone=...")
    if is_imagenet_classifier(names, config) and not backbone_only:
        raise ConversionError(
            f"an ImageNet classifier checkpoint ({scope}/logits, no ASPP): "
            "add --backbone_only to write backbone weights for "
            "Config(backbone_weights=...)")
    if (config.backbone.startswith("resnet") and not backbone_only
            and "multi_grid" not in overrides and graph is None):
        raise ConversionError(
            f"a checkpoint does not store multi-grid; the preset assumes "
            f"{config.multi_grid}, the official default is (1, 1, 1): add "
            "--override=multi_grid=[1,1,1] (or the --multi_grid it was "
            "trained with)")


def summary(report):
    """The report as a few lines: counts, and the first names of each problem."""
    lines = [f"loaded {len(report['loaded'])} variables; ignored "
             f"{len(report['training_state'])} training-state entries, "
             f"left out {len(report['left_out'])} of parts the model lacks, "
             f"skipped {len(report['skipped'])}"]
    for key in ("unmapped", "missing", "shape_mismatch"):
        if report[key]:
            lines.append(f"{key}: {len(report[key])}, e.g. "
                         + ", ".join(report[key][:SHOWN]))
    return lines


def shape_free_note(config):
    """One line: the settings a checkpoint cannot confirm, as converted."""
    return (f"note: a TF1 checkpoint stores no output stride, atrous rates, "
            f"multi-grid or resize mode; converted for output_stride="
            f"{config.output_stride}, atrous_rates={config.rates}, "
            f"multi_grid={config.multi_grid}, align_corners="
            f"{config.align_corners}: any output stride takes the weights, "
            "the rest must be as trained (official defaults: rates 6/12/18 "
            "at stride 16, multi_grid (1, 1, 1), align_corners True)")


def _failure(report, allow_missing):
    if report["unmapped"] or report["shape_mismatch"]:
        return ("checkpoint weights the model does not take: check --preset "
                "and --override against the training flags (decoder, "
                "separable, num_classes; --skip_logits for a new class count)")
    if report["missing"] and not allow_missing:
        return ("model variables the checkpoint lacks: check --preset, or add "
                "--allow_missing to keep their initial values")
    return None


def check_rates(graph, model, config):
    """Refuses a model whose atrous rates differ from those of `graph`."""
    mismatches = rate_mismatches(read_graph(graph), model, config)
    if mismatches:
        scope, theirs, ours = mismatches[0]
        raise ConversionError(
            f"{graph} runs {scope} at rate {theirs}, the config at {ours} "
            f"({len(mismatches)} convolutions differ): set --override="
            "output_stride / atrous_rates / multi_grid as in that graph (the "
            "weights then serve any output stride)")
    print(f"atrous rates as in {graph}")


def convert(checkpoint, output, config, skip_logits=False,
            allow_missing=False, backbone_only=False, graph=None):
    """Builds the model of `config`, loads `checkpoint`, writes `output`.

    Args:
        graph: a graph file whose atrous rates the model must have.

    Returns:
        The report of `load_tf1_checkpoint`.

    Raises:
        ConversionError: atrous rates not those of `graph`; weights unmapped
            or mismatched, or (without `allow_missing`) missing; nothing is
            written then.
    """
    model = deeplab_tf.build_model(config)
    if graph:
        check_rates(graph, model, config)
    report = load_tf1_checkpoint(model, config, checkpoint, skip_logits,
                                 backbone_only)
    for line in summary(report):
        print(line)
    failure = _failure(report, allow_missing)
    if failure:
        raise ConversionError(f"{output} not written: {failure}")
    target = model.get_layer(config.backbone) if backbone_only else model
    with atomic_file(output) as tmp:
        target.save_weights(tmp)
    print(f"wrote {output}")
    return report


def _first_line(error):
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def config_from_flags(flag_values):
    """`(Config, overrides)` from --preset and --override."""
    if flag_values.preset not in deeplab_tf.PRESETS:
        raise ConversionError(f"--preset={flag_values.preset}: one of "
                              f"{sorted(deeplab_tf.PRESETS)}")
    overrides = parse_overrides(flag_values.override)
    try:
        config = resolve_config(deeplab_tf.PRESETS[flag_values.preset],
                                **overrides)
        check_config(config)
    except (TypeError, ValueError) as error:
        raise ConversionError(f"--override: {_first_line(error)}") from error
    return config, overrides


def _checkpoint(path):
    """`(prefix, {name: shape})` of the checkpoint `path` names."""
    try:
        prefix = resolve_checkpoint(path)
        return prefix, tf.train.load_checkpoint(
            prefix).get_variable_to_shape_map()
    except (ValueError, tf.errors.OpError) as error:
        raise ConversionError(
            f"--checkpoint={path}: {_first_line(error)}") from error


def run(flag_values):
    """Validates the flags and converts.

    Returns:
        The report of `load_tf1_checkpoint`.

    Raises:
        ConversionError: bad input; nothing is written.
    """
    output = flag_values.output
    if not output.endswith(".weights.h5"):
        raise ConversionError(f"--output={output}: must end in .weights.h5")
    if os.path.exists(output) and not flag_values.overwrite:
        raise ConversionError(f"--output={output} exists: add --overwrite "
                              "or choose another path")
    config, overrides = config_from_flags(flag_values)
    prefix, names = _checkpoint(flag_values.checkpoint)
    backbone_only = flag_values.backbone_only
    graph = None if backbone_only else find_graph(prefix)
    try:
        check_checkpoint(names, config, overrides, backbone_only, graph)
    except ConversionError as error:
        raise ConversionError(
            f"--checkpoint={flag_values.checkpoint}: {error}") from None
    if not (backbone_only or graph):
        print(shape_free_note(config), file=sys.stderr)
    return convert(prefix, output, config, flag_values.skip_logits,
                   flag_values.allow_missing, backbone_only, graph)


def main(argv):
    del argv
    try:
        run(FLAGS)
    except ConversionError as error:
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    app.run(main)
