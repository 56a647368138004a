"""Writes a trained Bayesian SegNet run as shipped weights (float16 `.npz`).

    python scripts/ship_weights.py --model_dir=$RUNS/segnet_basic_central \
        --data_dir=$DATA --bn_statistics_steps=92 \
        --output=bayesian_segnet_tf/weights/camvid_central.npz

With --bn_statistics_steps the batch-norm statistics are first re-estimated
over that many training batches (as evaluate.py does), so the shipped model
scores what the evaluation reported. Prints the file's SHA-256, size and
the `bayesian_segnet_tf.pretrained.PRETRAINED` entry to add.
"""

import json
import os

import _cli
import _common  # sets TF log level before TensorFlow loads
import _registry
import bayesian_segnet_tf
from absl import flags

from seg_common import pretrained

FLAGS = flags.FLAGS
flags.DEFINE_string("model_dir", None, "Bayesian SegNet run of train.py.")
_common.define_source_flags()
flags.DEFINE_integer("bn_statistics_steps", 0, "Re-estimate batch-norm "
                     "statistics over this many training batches first.")
flags.DEFINE_string("output", None, "The .npz to write.")
# --data_dir, --precision, ... in --helpshort too.
flags.adopt_module_key_flags(_common)
flags.mark_flags_as_required(["model_dir", "output"])


def main(argv):
    del argv
    if not FLAGS.output.endswith(".npz"):
        raise _cli.UserError(f"--output={FLAGS.output} must end in .npz.")
    record, config, model = _common.load_trained(FLAGS.model_dir)
    if not _registry.is_bayesian(record["model"]):
        raise _cli.UserError(f"--model_dir={FLAGS.model_dir} holds a "
                             f"{record['model']} run; shipped weights are "
                             "for bayesian_segnet runs.")
    if FLAGS.bn_statistics_steps:
        source = _common.data_source(
            FLAGS.data_dir or record["runtime"].get("data_dir"),
            FLAGS.tfds_name)
        _common.recompute_bn_statistics(record, config, model, source,
                                        FLAGS.bn_statistics_steps)
    digest, size = pretrained.save_weights(model, FLAGS.output)
    entry = {"file": os.path.basename(FLAGS.output), "sha256": digest,
             "config": bayesian_segnet_tf.pretrained.architecture(config),
             "dataset": record["dataset"],
             "description": "<what it is and the command that trained it>"}
    print(f"Wrote {FLAGS.output} ({size / 2**20:.2f} MiB), SHA-256 {digest}")
    print(f"PRETRAINED entry: {json.dumps(entry)}")


if __name__ == "__main__":
    _cli.run(main)
