"""Evaluates a trained model directory on one split: one confusion matrix
streamed over the whole split, the papers' scores, pictures and JSON.

    python scripts/evaluate.py --model_dir=/tmp/run --split=val
    python scripts/evaluate.py --weights=NAME --data_dir=$CAMVID_RECORDS \
        --output_dir=/tmp/eval          # shipped Bayesian SegNet weights

Writes <model_dir> (or --output_dir)/eval_<split>.json (global_accuracy, class_accuracy,
mean_iou, per_class_iou, frequency_weighted_iou, and per predictor the full
results), confusion_<split>.png and iou_<split>.png. A classifier
(--model=encnet_cifar runs) reports top-1 accuracy instead:

    python scripts/evaluate.py --model_dir=/tmp/cifar_run --split=test

writes eval_<split>.json (accuracy, error_percent, class_accuracy,
num_examples, predictors) and confusion_<split>.png.
"""

import os

import _cli
import _common  # sets TF log level before TensorFlow loads
import _registry
from _cli import UserError
from absl import flags, logging

from seg_common.data import datasets
from seg_common.training import evaluation, model_dir, visualize

FLAGS = flags.FLAGS
flags.DEFINE_string("model_dir", None, "Directory written by train.py ...")
flags.DEFINE_string("weights", None, "... or shipped Bayesian SegNet weights "
                    "by name (bayesian_segnet_tf.pretrained.PRETRAINED); "
                    "needs --data_dir and --output_dir.")
flags.DEFINE_string("output_dir", None, "Where eval_<split>.json and the "
                    "pictures go (default: --model_dir).")
_common.define_source_flags()
_common.define_precision_flag()
flags.DEFINE_string("split", "val", "Split to evaluate.")
flags.DEFINE_integer("batch_size", None, "Images per batch (equal sizes "
                     "only; default: 1; classification: the config's).",
                     lower_bound=1)
flags.DEFINE_list("eval_scales", ["1.0"], "DeepLabv3+ and EncNet: input "
                  "scales (> 0).")
flags.DEFINE_bool("flip", False, "DeepLabv3+ and EncNet: add left-right "
                  "flips.")
flags.DEFINE_integer("output_stride", None, "DeepLabv3+: eval output stride.")
flags.DEFINE_integer("mc_samples", None,
                     "Bayesian SegNet: MC dropout samples (default: the "
                     "config's num_samples; 0 = weight averaging only).")
flags.DEFINE_list("trimap_widths", [], "Boundary band widths (px) for "
                  "the DeepLabv3+ paper's trimap mIoU.")
flags.DEFINE_integer("max_batches", None, "Evaluate only this many batches.")
flags.DEFINE_integer("bn_statistics_steps", 0, "Bayesian SegNet: first "
                     "re-estimate the batch-norm statistics over this many "
                     "training batches with dropout off (the paper's "
                     "compute_bn_statistics step; 0 keeps the "
                     "moving averages). Not saved to the checkpoint.")
flags.DEFINE_list("eval_size", None, "Resize images (bilinear) and labels "
                  "(nearest) to height,width (one value: a square) first, "
                  "e.g. for a run trained at reduced resolution; default: "
                  "each image's own size.")
# --data_dir, --precision, ... in --helpshort too.
flags.adopt_module_key_flags(_common)

_SUMMARY_KEYS = ("global_accuracy", "class_accuracy", "mean_iou",
                 "per_class_iou", "frequency_weighted_iou")


def build_predictors(record, config, model, fast_model, precision):
    if FLAGS.mc_samples and not _registry.is_bayesian(record["model"]):
        raise UserError(f"--mc_samples is for bayesian_segnet runs; "
                        f"{_model_flag()} holds a {record['model']} run.")
    mc_samples = FLAGS.mc_samples
    if mc_samples is None:
        mc_samples = getattr(config, "num_samples", 0)
    return _registry.predictors(
        record["model"], model, mc_samples=mc_samples,
        scales=tuple(float(s) for s in FLAGS.eval_scales), flip=FLAGS.flip,
        fast_model=fast_model, precision=precision)


def write_outputs(results, class_names, split, classifier, setup):
    """eval_<split>.json + confusion (and, segmentation, IoU) pictures of the
    first predictor."""
    main = next(iter(results.values()))
    if classifier:
        report = evaluation.classification_scores(main)
    else:
        report = {k: main["metrics"][k] for k in _SUMMARY_KEYS}
    report.update(split=split, class_names=list(class_names),
                  predictors=results, **setup)
    output_dir = FLAGS.output_dir or FLAGS.model_dir
    os.makedirs(output_dir, exist_ok=True)
    path = os.path.join(output_dir, f"eval_{split}.json")
    model_dir.write_json_atomic(path, report)
    visualize.write_rgb(
        os.path.join(output_dir, f"confusion_{split}.png"),
        visualize.confusion_image(main["confusion_matrix"], class_names))
    if not classifier:
        visualize.write_rgb(
            os.path.join(output_dir, f"iou_{split}.png"),
            visualize.iou_chart(main["metrics"]["per_class_iou"],
                                class_names))
    return path


def eval_dataset(record, config, source):
    """One pass over --split with progress lines: classification batches,
    or segmentation images at their own size or --eval_size; a label above
    the model's classes stops it naming the record."""
    files = _common.split_files(source, FLAGS.split, "--split")
    if _registry.is_classifier(record["model"]):
        if FLAGS.trimap_widths or FLAGS.eval_size:
            raise UserError("--trimap_widths/--eval_size are options of "
                            "the segmentation models.")
        batch_size = FLAGS.batch_size or config.batch_size
        dataset = _common.classification_dataset(
            source, FLAGS.split, config, batch_size, training=False)
    else:
        batch_size = FLAGS.batch_size or 1
        dataset = _common.eval_dataset(
            source, FLAGS.split, config, batch_size,
            resize_size=_cli.size("eval_size", FLAGS.eval_size))
    total = _common.num_batches(files, batch_size, FLAGS.max_batches)
    return _common.CheckedBatches(dataset, files, config,
                                  f"evaluate {FLAGS.split}", total)


def check_classes(record, config):
    """Refuses a run whose class count is not its dataset's."""
    info = datasets.get_dataset_info(record["dataset"])
    if config.num_classes != info.num_classes:
        raise UserError(
            f"{_model_flag()} predicts {config.num_classes} "
            f"classes but its dataset {record['dataset']} has "
            f"{info.num_classes}; evaluate it on records with "
            f"{config.num_classes} classes in another way.")


def announce(config, predictors):
    """One line on the cost of the expensive predictors, before they run."""
    names = list(predictors)
    if "mc" in names:
        samples = FLAGS.mc_samples
        if samples is None:
            samples = config.num_samples
        logging.info("Evaluating %s with %d MC dropout samples per image "
                     "(%d forward passes per image, plus one for weight "
                     "averaging); the first progress line gives the ETA.",
                     FLAGS.split, samples, samples)
    elif "multi_scale" in names:
        passes = len(FLAGS.eval_scales) * (2 if FLAGS.flip else 1)
        logging.info("Evaluating %s at scales %s%s: %d forward passes per "
                     "image; the first progress line gives the ETA.",
                     FLAGS.split, ",".join(FLAGS.eval_scales),
                     " with flips" if FLAGS.flip else "", passes)


def print_scores(results, class_names, classifier):
    """Prints the scores of the first predictor (and the table)."""
    main_name, main = next(iter(results.items()))
    if classifier:
        scores = evaluation.classification_scores(main)
        print(f"top-1 accuracy ({FLAGS.split}, {main_name}): "
              f"{scores['accuracy']:.4f}  "
              f"error {scores['error_percent']:.2f} %")
        return
    print(evaluation.format_table(results, class_names))
    print(f"mIoU ({FLAGS.split}, {main_name}): "
          f"{main['metrics']['mean_iou']:.4f}")


def _model_flag():
    """The flag naming the evaluated model, for messages."""
    return (f"--model_dir={FLAGS.model_dir}" if FLAGS.model_dir
            else f"--weights={FLAGS.weights}")


def load_model():
    """(record, config, model) of --model_dir or --weights."""
    if bool(FLAGS.model_dir) == bool(FLAGS.weights):
        raise UserError("Give exactly one of --model_dir (a training run) "
                        "and --weights (shipped weights, by name).")
    if FLAGS.weights:
        if not (FLAGS.data_dir and FLAGS.output_dir):
            raise UserError(f"--weights={FLAGS.weights} needs --data_dir "
                            "(TFRecords of its dataset) and --output_dir "
                            "(where the scores go).")
        return _common.load_shipped(FLAGS.weights)
    overrides = {}
    if FLAGS.output_stride:
        overrides["output_stride"] = FLAGS.output_stride
    try:
        return _common.load_trained(FLAGS.model_dir, **overrides)
    except (TypeError, ValueError) as error:
        raise UserError(f"--model_dir={FLAGS.model_dir}: {error}") from error


def main(argv):
    del argv
    record, config, model = load_model()
    check_classes(record, config)
    runtime = record["runtime"]
    source = _common.data_source(FLAGS.data_dir or runtime.get("data_dir"),
                                 FLAGS.tfds_name or (None if FLAGS.data_dir
                                                     else runtime.get(
                                                         "tfds_name")))
    _, class_names = _common.colormap(record)
    dataset = eval_dataset(record, config, source)
    if FLAGS.bn_statistics_steps:
        _common.recompute_bn_statistics(record, config, model, source,
                                        FLAGS.bn_statistics_steps)
    fast_model, precision, setup = _common.inference_setup(
        record, config, model, FLAGS.precision)
    try:
        predictors = build_predictors(record, config, model, fast_model,
                                      precision)
    except ValueError as error:
        raise UserError(str(error)) from error
    announce(config, predictors)
    results = evaluation.evaluate(
        predictors, dataset, config.num_classes,
        config.ignore_label, FLAGS.max_batches,
        tuple(int(w) for w in FLAGS.trimap_widths))
    classifier = _registry.is_classifier(record["model"])
    path = write_outputs(results, class_names, FLAGS.split, classifier,
                         setup)
    logging.info("Wrote %s", path)
    print_scores(results, class_names, classifier)


if __name__ == "__main__":
    _cli.run(main)
