"""Converts a segmentation dataset from its own layout to TFRecord shards.

Examples:
  python scripts/build_tfrecords.py --dataset=camvid \
      --data_dir=../shared/datasets/camvid --output_dir=/tmp/camvid_tfrecords
  python scripts/build_tfrecords.py --dataset=pascal_voc \
      --data_dir=VOCdevkit/VOC2012 --sbd_dir=benchmark_RELEASE/dataset \
      --splits=train_aug,val --output_dir=/tmp/voc_tfrecords
  python scripts/build_tfrecords.py --dataset=synthetic --num_examples=400 \
      --image_size=96,96 --output_dir=/tmp/synthetic_tfrecords

Shards: <output_dir>/<split>-NNNNN-of-MMMMM.tfrecord. Labels are class ids
0..N-1 and 255 = ignore. Prints a summary (examples per split, class pixel
shares) at the end. Every split is written to a temporary directory first and
moved into --output_dir only when all succeeded; other files there are never
touched.
"""

from absl import flags

import _cli
from _cli import UserError
from seg_common.data import builders
from seg_common.data import datasets

FLAGS = flags.FLAGS
flags.DEFINE_enum("dataset", None, sorted(builders.BUILDERS),
                  "Dataset to convert.")
flags.DEFINE_string("data_dir", None,
                    "The dataset's own directory (official layout); not "
                    "used by synthetic.")
flags.DEFINE_string("output_dir", None, "Directory for the shards.")
flags.DEFINE_list("splits", None,
                  "Splits to convert; default: every split found.")
flags.DEFINE_integer("num_shards", 4, "Shards per split.")
flags.DEFINE_enum("invalid_labels", "error", ["error", "ignore"],
                  "A label value that is neither a class id nor ignored: "
                  "stop naming the file, or map it to 255 and count it.")
flags.DEFINE_bool("overwrite", False, "Replace the existing shards of the "
                  "splits built (no other file of --output_dir).")
flags.DEFINE_string("sbd_dir", None,
                    "pascal_voc train_aug: SBD benchmark_RELEASE/dataset/.")
flags.DEFINE_integer("num_examples", 200, "synthetic: examples per split.")
flags.DEFINE_list("image_size", ["96", "96"],
                  "synthetic: height,width (one value = square).")
flags.DEFINE_integer("seed", 0, "synthetic: seed (same seed, same data).")
flags.mark_flags_as_required(["dataset", "output_dir"])


def _options():
    """Dataset-specific `make_source` keyword arguments from the flags."""
    if FLAGS.dataset == "pascal_voc":
        return {"sbd_dir": FLAGS.sbd_dir}
    if FLAGS.dataset == "synthetic":
        return {"num_examples": FLAGS.num_examples,
                "image_size": _cli.size("image_size", FLAGS.image_size),
                "seed": FLAGS.seed}
    if not FLAGS.data_dir:
        raise UserError(f"--data_dir is required for {FLAGS.dataset}: the "
                        "dataset's own folder.")
    return {}


def main(argv):
    del argv
    try:
        summaries = builders.build(
            FLAGS.dataset, data_dir=FLAGS.data_dir,
            output_dir=FLAGS.output_dir, splits=FLAGS.splits,
            num_shards=FLAGS.num_shards,
            invalid_labels=FLAGS.invalid_labels, overwrite=FLAGS.overwrite,
            **_options())
    except (ValueError, FileExistsError, ImportError) as error:
        raise UserError(str(error)) from error
    info = datasets.get_dataset_info(FLAGS.dataset)
    print(f"{FLAGS.dataset} -> {FLAGS.output_dir}")
    print(builders.format_summary(summaries, info.class_names))


if __name__ == "__main__":
    _cli.run(main)
