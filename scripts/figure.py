"""A figure like Bayesian SegNet's Fig. 4: rows of input, ground truth,
prediction and uncertainty for the first images of a split.

    python scripts/figure.py --model_dir=/tmp/run --split=val --num_images=4 \
        --mc_samples=50 --output=/tmp/figure.png

The uncertainty column (Bayesian SegNet with --mc_samples > 0) is the mean
over classes of the per-class variance of the MC softmax samples, drawn with
the tutorial's inverted "bone" map (dark = uncertain); other models get
three columns.
"""

import itertools

import _cli
import _common  # sets TF log level before TensorFlow loads
import _registry
import numpy as np
from absl import flags, logging

from seg_common.training import visualize

FLAGS = flags.FLAGS
flags.DEFINE_string("model_dir", None, "Directory written by train.py.")
_common.define_source_flags()
flags.DEFINE_string("split", "val", "Split to draw from.")
flags.DEFINE_integer("num_images", 4, "Rows of the figure.")
flags.DEFINE_integer("mc_samples", 50, "Bayesian SegNet: MC dropout samples.")
flags.DEFINE_integer("bn_statistics_steps", 0, "Bayesian SegNet: re-estimate "
                     "batch-norm statistics first (see evaluate.py).")
flags.DEFINE_list("eval_size", None, "Resize to height,width (one value: a "
                  "square) first.")
flags.DEFINE_string("output", None, "PNG to write.")
# --data_dir, --precision, ... in --helpshort too.
flags.adopt_module_key_flags(_common)
flags.mark_flags_as_required(["model_dir", "output"])


def figure_rows(predictor, dataset, colormap, num_images):
    """One RGB row per image: input | ground truth | prediction [| uncertainty]."""
    rows = []
    for images, labels in itertools.islice(dataset, num_images):
        outputs = predictor(images.numpy())
        columns = [np.clip(images.numpy()[0], 0, 255).astype(np.uint8),
                   visualize.colorize(labels.numpy()[0], colormap),
                   visualize.colorize(np.asarray(outputs["labels"])[0],
                                      colormap)]
        if "uncertainty" in outputs:
            columns.append(visualize.heatmap(outputs["uncertainty"][0]))
        rows.append(np.concatenate(columns, axis=1))
    return np.concatenate(rows, axis=0)


def main(argv):
    del argv
    record, config, model = _common.load_trained(FLAGS.model_dir)
    runtime = record["runtime"]
    source = _common.data_source(FLAGS.data_dir or runtime.get("data_dir"),
                                 FLAGS.tfds_name or (None if FLAGS.data_dir
                                                     else runtime.get(
                                                         "tfds_name")))
    _common.split_files(source, FLAGS.split, "--split")
    if FLAGS.bn_statistics_steps:
        _common.recompute_bn_statistics(record, config, model, source,
                                        FLAGS.bn_statistics_steps)
    mc_samples = FLAGS.mc_samples if _registry.is_bayesian(
        record["model"]) else 0
    predictor = next(iter(_registry.predictors(
        record["model"], model, mc_samples=mc_samples).values()))
    dataset = _common.eval_dataset(
        source, FLAGS.split, config, 1,
        resize_size=_cli.size("eval_size", FLAGS.eval_size))
    colormap, _ = _common.colormap(record)
    visualize.write_rgb(FLAGS.output, figure_rows(
        predictor, dataset, colormap, FLAGS.num_images))
    logging.info("Wrote %s", FLAGS.output)
    print(f"Figure written: {FLAGS.output}")


if __name__ == "__main__":
    _cli.run(main)
