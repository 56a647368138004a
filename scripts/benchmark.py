"""Benchmark one model on this machine: cost, speed against the measured peak, memory.

Prints a table and writes JSON. Measured side by side in one process:
the machine's fp32/bf16 matmul and conv peaks; the model's parameters and
multiply-adds (TF profiler on the frozen graph); inference images/s at each
batch size and precision, as a fraction of the peak, for the Keras model
and for its frozen graph with batch norm folded into the convolutions
(`seg_common.inference_graph`); bf16/fp32 prediction
agreement; training-step images/s; peak memory; optionally the input
pipeline's images/s, the folded graph's time per op type (--profile) and,
for Bayesian SegNet, 50-sample MC timings.

Examples:
  python scripts/benchmark.py --model=deeplabv3plus --preset=xception_65_voc \
      --image_size=513,513
  python scripts/benchmark.py --model=bayesian_segnet --preset=segnet \
      --image_size=360,480 --mc_samples=50 --pipeline_data_dir=/tmp/camvid_records
"""

import json
import sys

from absl import flags
from absl import logging

import _cli
import _common  # noqa: F401  (quiet TF start-up)
import _registry
import keras
import numpy as np

from seg_common import benchmarking
from seg_common import hardware
from seg_common import inference_graph
from seg_common import profiling
from seg_common.data import build_dataset
from seg_common.data import measure_throughput

FLAGS = flags.FLAGS
flags.DEFINE_enum("model", None, sorted(_registry.MODELS), "Model to measure.")
flags.DEFINE_string("preset", None, "Preset of the model's PRESETS.")
flags.DEFINE_list("image_size", ["513", "513"], "Input height,width (one "
                  "value: a square).")
flags.DEFINE_list("batch_sizes", ["1", "8"], "Inference batch sizes.")
flags.DEFINE_list("precisions", ["float32", "mixed_bfloat16"],
                  "Dtype policies measured side by side.")
flags.DEFINE_bool("jit_compile", False, "Compile the timed functions with XLA.")
flags.DEFINE_bool("fold_batch_norm", True, "Also time the frozen inference "
                  "graph with batch norm folded into the convolutions.")
flags.DEFINE_integer("train_batch_size", 2, "Batch of the timed training step "
                     "(0 skips training).")
flags.DEFINE_integer("repeats", 3, "Timed runs per figure (the best is kept).")
flags.DEFINE_integer("mc_samples", 0, "Bayesian SegNet: time this many MC "
                     "samples, full passes vs the fast path (0 skips).")
flags.DEFINE_bool("pytorch_reference", False, "Bayesian SegNet: also time a "
                  "plain PyTorch SegNet of the same architecture (needs "
                  "torch; scripts/_torch_segnet.py).")
flags.DEFINE_bool("profile", False, "Also trace one batch-1 run of the "
                  "float32 folded graph and print its time per op type.")
flags.DEFINE_string("pipeline_data_dir", None, "TFRecords: also time the "
                    "training input pipeline at --image_size.")
flags.DEFINE_integer("seed", 0, "Seed of the randomly initialised weights, "
                     "so agreement figures are reproducible.")
flags.DEFINE_string("output_json", None, "Write the figures here.")
flags.mark_flags_as_required(["model", "preset"])


def _build(package, precision):
    keras.mixed_precision.set_dtype_policy(precision)
    try:
        return package.build_model(package.PRESETS[FLAGS.preset])
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


def _agreement(reference, forward, size):
    """Fraction of pixels where `forward` predicts the float32 model's class."""
    images = np.random.default_rng(0).uniform(0, 255, (2, *size, 3))
    images = images.astype(np.float32)
    want = np.argmax(np.asarray(reference(images)["logits"], np.float32), -1)
    got = np.argmax(np.asarray(forward(images)["logits"], np.float32), -1)
    return float(np.mean(want == got))


def _folded_figures(reference, model, size, macs, peak):
    """The same model as a frozen graph with batch norm folded (inference)."""
    forward, folded = inference_graph.frozen_inference_function(
        model, (None, *size, 3))
    figures = {"batch_norms_folded": folded,
               "folded_agreement_with_float32":
                   _agreement(reference, forward, size)}
    for batch in (int(b) for b in FLAGS.batch_sizes):
        ips = benchmarking.function_throughput(forward, size, batch,
                                               FLAGS.repeats)
        figures[f"folded_inference_images_per_s_batch{batch}"] = ips
        figures[f"folded_fraction_of_peak_batch{batch}"] = (
            2 * macs * ips / peak)
    return figures


def _precision_figures(package, reference, precision, size, macs, peaks):
    model = reference if precision == "float32" else _build(package, precision)
    if model is not reference:
        model.set_weights(reference.get_weights())
    figures = {"agreement_with_float32": _agreement(reference, model, size)}
    peak = peaks["bf16_matmul" if "bfloat16" in precision else "fp32_matmul"]
    for batch in (int(b) for b in FLAGS.batch_sizes):
        ips = benchmarking.inference_throughput(
            model, size, batch, FLAGS.repeats, FLAGS.jit_compile)
        figures[f"inference_images_per_s_batch{batch}"] = ips
        figures[f"fraction_of_peak_batch{batch}"] = 2 * macs * ips / peak
    if FLAGS.fold_batch_norm:
        figures.update(_folded_figures(reference, model, size, macs, peak))
    if FLAGS.train_batch_size:
        config = package.PRESETS[FLAGS.preset]
        figures["training_images_per_s"] = benchmarking.training_throughput(
            model, package.build_loss(config), size, FLAGS.train_batch_size,
            config.num_classes, FLAGS.repeats, FLAGS.jit_compile)
    return figures


def _versus_pytorch(result):
    """Our best figure over the PyTorch yardstick's (> 1: we are faster)."""
    ours, theirs = result["precisions"], result["extra"]["pytorch_reference"]
    ratios = {}
    for precision, torch_name in (("float32", "float32"),
                                  ("mixed_bfloat16", "bfloat16_channels_last")):
        for batch in FLAGS.batch_sizes:
            key = f"images_per_s_batch{batch}"
            best = max(ours.get(precision, {}).get(f"{p}inference_{key}", 0)
                       for p in ("", "folded_"))
            ratios[f"{precision}_{key}"] = best / theirs[torch_name][key]
    mc = result["extra"].get("mc_dropout")
    if mc:
        torch_mc = theirs["bfloat16_channels_last"]["mc_seconds"]
        ratios["mc_fastest_seconds_over_pytorch_bf16"] = (
            min(mc["seconds"].values()) / torch_mc)
    return ratios


def _machine_peaks():
    logging.info("Measuring the machine's matmul and conv peaks ...")
    return {"fp32_matmul": benchmarking.matmul_peak("float32"),
            "bf16_matmul": benchmarking.matmul_peak("bfloat16"),
            "fp32_conv": benchmarking.conv_peak("float32"),
            "bf16_conv": benchmarking.conv_peak("bfloat16")}


def _pipeline_figure(size):
    dataset = build_dataset(FLAGS.pipeline_data_dir, split="train",
                            batch_size=8, crop_size=size, training=True,
                            cache=True)
    return measure_throughput(dataset, num_batches=60, warmup_batches=60)


def _print_profile(profile):
    print(f"  op profile, float32 folded graph, batch 1: "
          f"{profile['wall_seconds']:.3f} s wall, "
          f"{profile['op_seconds']:.3f} s summed over ops")
    for row in profile["ops"]:
        print(f"    {row['op']:>24} {row['nodes']:5d} nodes "
              f"{row['seconds'] * 1e3:9.1f} ms {row['share']:6.1%}")


def _print_table(result):
    cpu = result["cpu"]
    print(f"\n{FLAGS.model} / {FLAGS.preset} at {result['image_size']}")
    print(f"  CPU: {cpu['model']}; {', '.join(cpu['extensions']) or 'no AVX2'}"
          f"; oneDNN {'on' if cpu['onednn'] else 'off'}; bf16 "
          f"{'native' if cpu['native_bfloat16'] else 'emulated'}")
    print(f"  parameters: {result['parameters']['trainable']:,} trainable, "
          f"{result['parameters']['non_trainable']:,} non-trainable")
    print(f"  multiply-adds: {result['multiply_adds'] / 1e9:.2f} B per image")
    for name, value in result["machine_peak_flops"].items():
        print(f"  machine peak {name}: {value / 1e9:.1f} GFLOP/s")
    for precision, figures in result["precisions"].items():
        for name, value in figures.items():
            print(f"  {precision:>15} {name}: {value:.3f}")
    for name, value in result.get("extra", {}).items():
        if name != "op_profile":
            print(f"  {name}: {json.dumps(value)}")
    if "op_profile" in result["extra"]:
        _print_profile(result["extra"]["op_profile"])
    print(f"  peak memory: {result['peak_memory_gib']:.2f} GiB")


_POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")


def check_flags():
    """One-line errors for --precisions and --batch_sizes."""
    for precision in FLAGS.precisions:
        if precision not in _POLICIES:
            raise _cli.UserError(f"--precisions: {precision!r} is not one of "
                                 f"{', '.join(_POLICIES)}.")
    if not all(b.isdigit() and int(b) > 0 for b in FLAGS.batch_sizes):
        raise _cli.UserError(f"--batch_sizes={','.join(FLAGS.batch_sizes)}: "
                             "give positive integers, e.g. 1,8.")


def main(argv):
    del argv
    package = _registry.get_package(FLAGS.model)
    if FLAGS.preset not in package.PRESETS:
        raise _cli.UserError(f"--preset={FLAGS.preset} is not a preset of "
                             f"--model={FLAGS.model}; choose one of "
                             f"{', '.join(package.PRESETS)}.")
    size = _cli.size("image_size", FLAGS.image_size)
    check_flags()
    peaks = _machine_peaks()
    keras.utils.set_random_seed(FLAGS.seed)
    reference = _build(package, "float32")
    trainable, non_trainable = benchmarking.count_parameters(reference)
    macs = profiling.multiply_adds(reference, (1, *size, 3))
    result = {"model": FLAGS.model, "preset": FLAGS.preset,
              "image_size": size, "command": " ".join(sys.argv),
              "cpu": hardware.describe_cpu(),
              "parameters": {"trainable": trainable,
                             "non_trainable": non_trainable},
              "multiply_adds": macs, "machine_peak_flops": peaks,
              "precisions": {}, "extra": {}}
    for precision in FLAGS.precisions:
        logging.info("Timing %s ...", precision)
        result["precisions"][precision] = _precision_figures(
            package, reference, precision, size, macs, peaks)
    if FLAGS.mc_samples:
        import _mc_benchmark as mc_benchmark
        config = package.PRESETS[FLAGS.preset]
        result["extra"]["mc_dropout"] = mc_benchmark.benchmark_mc(
            arch=config.arch, dropout=config.dropout, image_size=size,
            num_samples=FLAGS.mc_samples, repeats=1)
    if FLAGS.pytorch_reference:
        import _torch_segnet as torch_reference
        config = package.PRESETS[FLAGS.preset]
        result["extra"]["pytorch_reference"] = torch_reference.benchmark_torch(
            arch=config.arch, dropout=config.dropout, image_size=size,
            batch_sizes=[int(b) for b in FLAGS.batch_sizes],
            mc_samples=FLAGS.mc_samples, repeats=FLAGS.repeats)
        result["extra"]["versus_pytorch"] = _versus_pytorch(result)
    if FLAGS.profile:
        forward, _ = inference_graph.frozen_inference_function(
            reference, (1, *size, 3))
        result["extra"]["op_profile"] = benchmarking.op_profile(forward, size)
    if FLAGS.pipeline_data_dir:
        result["extra"]["input_pipeline"] = _pipeline_figure(size)
    result["peak_memory_gib"] = benchmarking.peak_rss_gib()
    _print_table(result)
    if FLAGS.output_json:
        with open(FLAGS.output_json, "w") as f:
            json.dump(result, f, indent=2, default=float)


if __name__ == "__main__":
    _cli.run(main)
