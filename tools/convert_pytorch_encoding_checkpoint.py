"""Converts a PyTorch-Encoding checkpoint into a Keras `.weights.h5` file.

EncNet (`encnet_resnet{50,101}s_pcontext.pth` -> pascal_context_reference,
`encnet_resnet{50,101}s_ade.pth` -> ade20k_reference; the ResNet depth is
read from the checkpoint):

    python tools/convert_pytorch_encoding_checkpoint.py \
        --checkpoint=encnet_resnet50s_pcontext.pth \
        --preset=pascal_context_reference --output=encnet_pcontext.weights.h5

loads with `encnet_tf.build_model(PRESETS[preset]).load_weights(output)`
(add `backbone="resnet_101"` for a 101s checkpoint). ImageNet backbones
(`resnet{50,101}s.pth`) with `--backbone_only`: the output is a
`Config.backbone_weights` file.

Needs torch (`pip install torch`; a CPU build is enough). Bad input (an
unreadable file, missing / unexpected / mis-shaped keys, a class count other
than the preset's, a preset the released models do not fit) prints one line
per problem on stderr ("error: ..."), exits 1 and writes nothing. Runs on
the CPU (CUDA_VISIBLE_DEVICES defaults to none: conversion needs no GPU).
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

from absl import app, flags  # noqa: E402

import encnet_tf  # noqa: E402
from encnet_tf import pytorch_checkpoint  # noqa: E402
from seg_common.files import atomic_file  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("checkpoint", None, "PyTorch-Encoding .pth file.")
flags.DEFINE_string("output", None, "Destination .weights.h5 file.")
flags.DEFINE_string("preset", None,
                    "encnet_tf.PRESETS name: pascal_context_reference or "
                    "ade20k_reference (unused with --backbone_only).")
flags.DEFINE_bool("backbone_only", False,
                  "The checkpoint is an ImageNet resnet50s / resnet101s.")
flags.DEFINE_bool("overwrite", False, "Replace an existing --output.")
flags.mark_flags_as_required(["checkpoint", "output"])


def _fail(*lines):
    for line in lines:
        print(f"error: {line}", file=sys.stderr)
    sys.exit(1)


def _parse_flags(argv):
    try:
        return FLAGS(argv)
    except flags.Error as error:
        _fail(f"{error} (--helpshort lists the flags)")


def _check_flags():
    """The preset's config (None with --backbone_only), or exits."""
    if not FLAGS.output.endswith(".weights.h5"):
        _fail(f"--output={FLAGS.output}: must end in .weights.h5")
    if os.path.exists(FLAGS.output) and not FLAGS.overwrite:
        _fail(f"--output={FLAGS.output} exists; pass --overwrite or choose "
              "another path")
    if not os.path.isfile(FLAGS.checkpoint):
        _fail(f"--checkpoint={FLAGS.checkpoint}: no such file")
    if FLAGS.backbone_only:
        return None
    if FLAGS.preset not in encnet_tf.PRESETS:
        _fail(f"--preset={FLAGS.preset}: give pascal_context_reference or "
              "ade20k_reference (or --backbone_only for an ImageNet ResNet)")
    config = encnet_tf.PRESETS[FLAGS.preset]
    problem = pytorch_checkpoint.config_problem(config)
    if problem:
        _fail(f"--preset={FLAGS.preset} {problem}")
    return config


def main(argv):
    del argv
    config = _check_flags()
    try:
        state = pytorch_checkpoint.read_state_dict(FLAGS.checkpoint)
        model, prefix = pytorch_checkpoint.build_target(state, config)
    except ImportError:
        _fail("reading a .pth file needs torch: pip install torch")
    except ValueError as error:
        _fail(f"--checkpoint={FLAGS.checkpoint}: {error}")
    problems = pytorch_checkpoint.load_state_dict(model, state, prefix)
    if problems:
        _fail(*(f"--checkpoint={FLAGS.checkpoint}: {p}" for p in problems))
    with atomic_file(FLAGS.output) as tmp:
        model.save_weights(tmp)
    print(f"wrote {FLAGS.output} ({model.name}, {len(model.weights)} "
          "variables)")


if __name__ == "__main__":
    app.run(main, flags_parser=_parse_flags)
