"""The one explicit map from --model names to model packages, and the few
model-specific inference hooks the scripts need.

A "package" is anything with the model contract of docs/API.md (`Config`,
`PRESETS`, `build_model`, `build_loss`): the three segmentation packages and
the CIFAR-10 classifier module `encnet_tf.cifar`."""

import numpy as np
import tensorflow as tf

import bayesian_segnet_tf
import deeplab_tf
import encnet_tf
from encnet_tf import cifar as encnet_cifar

from seg_common import export, hardware
from seg_common.inference import predict_multiscale
from seg_common.inference_graph import FoldedModel
from seg_common.training import evaluation

MODELS = {
    "deeplabv3plus": deeplab_tf,
    "bayesian_segnet": bayesian_segnet_tf,
    "encnet": encnet_tf,
    "encnet_cifar": encnet_cifar,
}
# Models predicting one label per image (logits (B, C)); the others label
# every pixel.
CLASSIFICATION_MODELS = ("encnet_cifar",)


def get_package(name):
    """Returns the package of a --model name (ValueError lists choices)."""
    if name not in MODELS:
        raise ValueError(f"Unknown model {name!r}; choose one of "
                         f"{', '.join(MODELS)}.")
    return MODELS[name]

MULTI_SCALE_MODELS = ("deeplabv3plus", "encnet")


def is_bayesian(name):
    return name == "bayesian_segnet"


def task(name):
    """What a --model does: "classification" or "segmentation" (the
    `DatasetInfo.task` of the datasets it trains on)."""
    return ("classification" if name in CLASSIFICATION_MODELS
            else "segmentation")


def is_classifier(name):
    return task(name) == "classification"


def inference_model(name, config, model, precision="auto"):
    """The fast inference twin of a trained `model`: its weights in the
    resolved `precision` (`seg_common.hardware`), as a frozen graph with
    batch norm folded (`seg_common.inference_graph.FoldedModel`).

    Returns:
        (FoldedModel, resolved precision "float32" or "bfloat16").
    """
    precision = hardware.resolve_precision(precision)
    if precision != "float32":
        with hardware.precision_scope(precision):
            copy = get_package(name).build_model(config)
        copy.set_weights(model.get_weights())
        model = copy
    return FoldedModel(model), precision


def predictors(name, model, *, mc_samples=0, scales=(1.0,), flip=False,
               seed=0, fast_model=None, precision="float32"):
    """The predictors evaluate/predict run, by name (first = reported).

    Bayesian SegNet with `mc_samples` > 0: "mc" (MC dropout, uncertainty =
    mean per-class variance) and "weight_averaging" (one pass, uncertainty =
    1 - max softmax) side by side. DeepLabv3+ with other
    or EncNet with other scales or flip: "multi_scale" (averaged softmax,
    `seg_common.inference.predict_multiscale`). Otherwise "single_scale".

    Args:
        fast_model: what the deterministic passes run (`inference_model`'s
            folded graph); default `model`.
        precision: MC sampling's compute precision ("float32"/"bfloat16").

    Returns:
        dict name -> fn(images float32 (B,H,W,3)) -> dict of arrays with
        "labels" (+ "probabilities", "uncertainty").
    """
    fast_model = model if fast_model is None else fast_model
    if tuple(scales) != (1.0,) or flip:
        if name not in MULTI_SCALE_MODELS:
            raise ValueError("--eval_scales/--flip are options of "
                             f"{', '.join(MULTI_SCALE_MODELS)}.")
        if not scales or min(scales) <= 0:
            raise ValueError(f"--eval_scales={','.join(map(str, scales))}: "
                             "give scales > 0, e.g. 0.75,1.0,1.25.")
    if is_bayesian(name) and mc_samples > 0:
        mc = bayesian_segnet_tf.MonteCarloSampler(
            model, mc_samples, compute_dtype=precision)
        single_pass = evaluation.softmax_predictor(fast_model)

        def weight_averaging(images):
            # One pass has no sample variance: 1 - max softmax stands in as
            # its uncertainty, so AUROC and calibration are reported for it.
            outputs = dict(single_pass(images))
            outputs["uncertainty"] = 1.0 - tf.reduce_max(
                outputs["probabilities"], -1)
            return outputs

        # Seeded once: the mask stream runs on across batches, so every
        # image gets its own masks whatever the batch size.
        mc.reseed(seed)
        return {"mc": mc,
                "weight_averaging": weight_averaging}
    if tuple(scales) != (1.0,) or flip:

        def multi_scale(images):
            probabilities = predict_multiscale(fast_model, images,
                                               scales=scales, flip=flip)
            return {"probabilities": probabilities,
                    "labels": np.asarray(probabilities).argmax(-1)}
        return {"multi_scale": multi_scale}
    return {"single_scale": evaluation.softmax_predictor(fast_model)}


def training_predictor(name, mc_samples=0):
    """make_predictor for validation during training: one softmax pass, or
    for Bayesian SegNet with `mc_samples` > 0 the MC dropout mean."""
    if is_bayesian(name) and mc_samples > 0:
        return lambda model: predictors(
            name, model, mc_samples=mc_samples)["mc"]
    return evaluation.softmax_predictor


# MC samples per batch in the exported signature. SegNet at 360x480 with 50
# samples, peak resident GiB of a serving process / seconds per image in one
# run: chunks of 2: 1.6 / 24.8, 3: 1.9 / 23.9, 5: 2.4 / 24.0.
SERVING_CHUNK_SIZE = 3


def serving(name, model, mc_samples=0, fast_model=None, precision="float32",
            seed=None):
    """(model to save, outputs_fn) for `seg_common.export`.

    Without MC sampling the export serves `fast_model` (`inference_model`'s
    folded graph, so TF Serving and `tf.saved_model.load` run the fast path
    with no project code); default `model`. Bayesian SegNet with
    `mc_samples` > 0 serves the MC dropout mean and the paper's uncertainty
    (mean over classes of the variance of the softmax over the samples),
    plus entropy, mutual information and variation ratio, through
    `MonteCarloSampler.graph_outputs` in `precision`: the shared prefix runs
    once per image and the samples run in chunks of `SERVING_CHUNK_SIZE`,
    so memory stays that of one chunk. `seed` sets the dropout mask stream
    the export starts from.
    """
    if not (is_bayesian(name) and mc_samples > 0):
        return (model if fast_model is None else fast_model,
                export.softmax_outputs)
    sampler = bayesian_segnet_tf.MonteCarloSampler(
        model, mc_samples, chunk_size=SERVING_CHUNK_SIZE,
        compute_dtype=precision)
    if seed is not None:
        sampler.reseed(seed)
    return sampler.model, lambda _, images: sampler.graph_outputs(images)
