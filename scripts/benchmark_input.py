"""Input-pipeline throughput: images/s of `build_dataset`, no model.

Example (CamVid, full augmentation at 360x480):
  python scripts/benchmark_input.py --source=/tmp/camvid_tfrecords \
      --split=train --crop_size=360,480 --batch_size=8 --cache
"""

import json

from absl import flags
from absl import logging

import _cli
import _common  # sets TF log level before TensorFlow loads
from seg_common.data import build_dataset
from seg_common.data import measure_throughput

FLAGS = flags.FLAGS
flags.DEFINE_string("source", None, "TFRecord directory/pattern or tfds:<name>.")
flags.DEFINE_string("split", "train", "Split to read.")
flags.DEFINE_list("crop_size", ["360", "480"], "Crop height,width (one value: "
                  "a square).")
flags.DEFINE_integer("batch_size", 8, "Batch size.")
flags.DEFINE_bool("training", True, "Training pipeline (full augmentation).")
flags.DEFINE_bool("cache", True, "Cache decoded examples in memory.")
flags.DEFINE_integer("num_batches", 100, "Batches timed.")
flags.DEFINE_integer("warmup_batches", 60,
                     "Untimed batches first (one epoch fills the cache).")
flags.DEFINE_float("max_rotation_degrees", 10.0, "Rotation range (+-).")
flags.DEFINE_float("scale_factor_step", 0.25, "0 = uniform scale.")
flags.mark_flag_as_required("source")


def main(argv):
    del argv
    crop_size = _cli.size("crop_size", FLAGS.crop_size)
    _common.split_files(FLAGS.source, FLAGS.split, "--split")
    dataset = build_dataset(
        FLAGS.source, split=FLAGS.split, batch_size=FLAGS.batch_size,
        crop_size=crop_size, training=FLAGS.training, cache=FLAGS.cache,
        max_rotation_degrees=FLAGS.max_rotation_degrees,
        scale_factor_step=FLAGS.scale_factor_step, repeat=True)
    result = measure_throughput(dataset, num_batches=FLAGS.num_batches,
                                warmup_batches=FLAGS.warmup_batches)
    logging.info("throughput: %s", result)
    print(json.dumps({"source": FLAGS.source, "split": FLAGS.split,
                      "crop_size": crop_size, "batch_size": FLAGS.batch_size,
                      "cache": FLAGS.cache,
                      **{k: round(v, 2) for k, v in result.items()}}))


if __name__ == "__main__":
    _cli.run(main)
