"""Memory and speed of the exported Bayesian SegNet MC signature.

    python scripts/benchmark_mc_export.py --preset=segnet --image_size=360,480 \
        --mc_samples=50

Exports a randomly initialised model (seeded) with the serving signature
`export.py` writes, then: peak resident memory of a fresh process that loads
the export and serves one image; seconds per image of the export and of
`MonteCarloSampler` (the `mc_predict` path) timed alternately in this
process (best of --repeats); and the fraction of pixels where the export's
labels equal full-network MC passes under the same dropout masks (1.0
expected). Prints the CPU line first.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import _cli
import _common  # noqa: F401  (quiet TF start-up)
import _registry
import keras
import numpy as np
import tensorflow as tf
from absl import flags

import bayesian_segnet_tf
from seg_common import export, hardware

FLAGS = flags.FLAGS
flags.DEFINE_string("preset", "segnet", "bayesian_segnet_tf preset.")
flags.DEFINE_list("image_size", ["360", "480"], "height,width (one value: "
                  "a square).")
flags.DEFINE_integer("mc_samples", 50, "MC samples served.", lower_bound=1)
flags.DEFINE_integer("repeats", 2, "Timed runs of each path (best kept).",
                     lower_bound=1)
flags.DEFINE_integer("seed", 0, "Seed of the weights, image and masks.")
flags.DEFINE_string("output_json", None, "Write the figures here.")

# The child reads its own peak from /proc (VmHWM, Linux): its ru_maxrss
# would include this process's peak, which Linux carries over at exec.
_SERVE_ONE = """
import sys, numpy as np, tensorflow as tf
serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
image = np.load(sys.argv[2])
serve(images=tf.constant(image))["labels"].numpy()
with open("/proc/self/status") as status:
    print(next(line.split()[1] for line in status
               if line.startswith("VmHWM:")))
"""


def _peak_serving_gib(export_dir, image_path):
    """Peak RSS (GiB) of a fresh process serving one image."""
    result = subprocess.run(
        [sys.executable, "-c", _SERVE_ONE, export_dir, image_path],
        capture_output=True, text=True, check=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    return int(result.stdout.split()[-1]) / 2**20   # VmHWM is in KiB


def _seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(model, image, num_samples, repeats, seed, tmp):
    """The figures of the module docstring for `model` and one uint8 image."""
    served, outputs_fn = _registry.serving("bayesian_segnet", model,
                                           num_samples, seed=seed)
    export_dir = export.export_saved_model(
        served, os.path.join(tmp, "export"), outputs_fn)
    image_path = os.path.join(tmp, "image.npy")
    np.save(image_path, image)
    serve = tf.saved_model.load(export_dir).signatures["serving_default"]
    full = bayesian_segnet_tf.MonteCarloSampler(
        model, num_samples, chunk_size=_registry.SERVING_CHUNK_SIZE,
        shared_prefix=False)
    full.reseed(seed)   # the export saved the same mask state
    served_labels = serve(images=tf.constant(image))["labels"].numpy()
    agreement = float(np.mean(
        served_labels == full(image.astype(np.float32))["labels"]))
    mc = bayesian_segnet_tf.MonteCarloSampler(model, num_samples)
    mc(image.astype(np.float32))   # traced before timing
    seconds = {"export": [], "mc_predict": []}
    for _ in range(repeats):   # alternately, so both see the same machine
        seconds["export"].append(_seconds(
            lambda: serve(images=tf.constant(image))["labels"].numpy()))
        seconds["mc_predict"].append(_seconds(
            lambda: mc(image.astype(np.float32))))
    best = {k: min(v) for k, v in seconds.items()}
    return {"peak_serving_gib": _peak_serving_gib(export_dir, image_path),
            "seconds_per_image": best,
            "export_over_mc_predict": best["export"] / best["mc_predict"],
            "labels_equal_full_passes": agreement}


def main(argv):
    del argv
    if FLAGS.preset not in bayesian_segnet_tf.PRESETS:
        raise _cli.UserError(
            f"--preset={FLAGS.preset} is not a bayesian_segnet_tf preset; "
            f"choose one of {', '.join(bayesian_segnet_tf.PRESETS)}.")
    size = _cli.size("image_size", FLAGS.image_size)
    cpu = hardware.describe_cpu()
    print(f"CPU: {cpu['model']}; {', '.join(cpu['extensions']) or 'no AVX2'}"
          f"; oneDNN {'on' if cpu['onednn'] else 'off'}")
    keras.utils.set_random_seed(FLAGS.seed)
    model = bayesian_segnet_tf.build_model(
        bayesian_segnet_tf.PRESETS[FLAGS.preset])
    image = np.random.default_rng(FLAGS.seed).integers(
        0, 256, (1, *size, 3)).astype(np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        figures = measure(model, image, FLAGS.mc_samples, FLAGS.repeats,
                          FLAGS.seed, tmp)
    figures.update(cpu=cpu, preset=FLAGS.preset, image_size=size,
                   mc_samples=FLAGS.mc_samples,
                   chunk_size=_registry.SERVING_CHUNK_SIZE,
                   command=" ".join(sys.argv))
    print(json.dumps(figures, indent=1))
    if FLAGS.output_json:
        with open(FLAGS.output_json, "w") as f:
            json.dump(figures, f, indent=1)


if __name__ == "__main__":
    _cli.run(main)
