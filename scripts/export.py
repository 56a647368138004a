"""Exports a trained model directory as a SavedModel for serving.

    python scripts/export.py --model_dir=/tmp/run --export_dir=/tmp/run/export

Signatures: serving_default (uint8 images (B,H,W,3) -> labels int32
(B,H,W), probabilities float32 (B,H,W,C), + uncertainty (B,H,W) for
Bayesian SegNet) and serve_image_bytes (encoded PNG/JPEG strings (B,)).
"""

import _cli
import _common  # sets TF log level before TensorFlow loads
import _registry
from _cli import UserError
from absl import flags, logging

from seg_common import export

FLAGS = flags.FLAGS
flags.DEFINE_string("model_dir", None, "Directory written by train.py.")
flags.DEFINE_string("export_dir", None, "Destination of the SavedModel.")
flags.DEFINE_bool("overwrite", False,
                  "Replace --export_dir when it holds a previous SavedModel "
                  "and nothing else; a directory with any other file "
                  "(checkpoints, config.json, events) is never replaced.")
flags.DEFINE_integer("mc_samples", None,
                     "Bayesian SegNet: MC dropout samples served (default: "
                     "the config's num_samples; 0 = weight averaging).")
_common.define_precision_flag()
# --data_dir, --precision, ... in --helpshort too.
flags.adopt_module_key_flags(_common)
flags.mark_flags_as_required(["model_dir", "export_dir"])


def main(argv):
    del argv
    try:
        export.check_export_dir(FLAGS.export_dir, FLAGS.overwrite)
    except FileExistsError as error:
        raise UserError(f"--export_dir: {error}") from error
    record, config, model = _common.load_trained(FLAGS.model_dir)
    mc_samples = FLAGS.mc_samples
    if mc_samples is None:
        mc_samples = getattr(config, "num_samples", 0)
    fast_model, precision, setup = _common.inference_setup(
        record, config, model, FLAGS.precision)
    served, outputs_fn = _registry.serving(record["model"], model, mc_samples,
                                           fast_model, precision)
    try:
        path = export.export_saved_model(
            served, FLAGS.export_dir, outputs_fn,
            extra_files={"config.json": record,
                         "serving.json": dict(setup, mc_samples=mc_samples)},
            overwrite=FLAGS.overwrite)
    except FileExistsError as error:
        raise UserError(f"--export_dir: {error}") from error
    logging.info("Exported %s to %s", record["model"], path)
    print(f"SavedModel written to {path}")


if __name__ == "__main__":
    _cli.run(main)
