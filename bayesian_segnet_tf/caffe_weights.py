"""Copies a caffemodel's blobs into the Keras model `caffe_model.describe`
found: convolutions OIHW -> HWIO, caffe-segnet's folded BN scale and shift
-> gamma and beta over zero mean and unit variance."""

import re

import numpy as np


def keras_layer_name(caffe_name, released):
    """The Keras layer holding a Caffe layer's blobs (VGG16 names in the
    SegNet encoder, `classifier` for a separate classifier)."""
    classifier = [lay for lay in released.layers
                  if lay.type == "Convolution"][-1].name
    if caffe_name == classifier:
        if released.config.get("separate_classifier"):
            return "classifier"
        return ("conv_classifier" if released.config["arch"] == "segnet_basic"
                else "conv1_1_D")
    match = re.fullmatch(r"conv(\d)_(\d)(_bn)?", caffe_name)
    if match and released.config["arch"] == "segnet":
        unit, index, bn = match.groups()
        return f"block{unit}_conv{index}{bn or ''}"
    return caffe_name


def _layer_values(layer, blobs, released, keras_layer):
    """The Keras weight values of one Caffe layer, or a problem string."""
    shapes = [tuple(w.shape) for w in keras_layer.weights]
    if layer.type == "Convolution":
        if len(blobs) != 2:
            return f"{len(blobs)} blobs, expected weights and bias"
        kernel, bias = blobs[0], blobs[1].reshape(-1)
        if layer is [lay for lay in released.layers
                     if lay.type == "Convolution"][-1]:
            kernel = kernel[released.first_output:]
            bias = bias[released.first_output:]
        values = [kernel.transpose(2, 3, 1, 0), bias]  # OIHW -> HWIO
        ours = (shapes[0][3], shapes[0][2], *shapes[0][:2])
        theirs = tuple(kernel.shape)
    else:  # caffe-segnet BN: folded scale and shift, (1, C, 1, 1) each
        if len(blobs) != 2:
            return f"{len(blobs)} blobs, expected BN scale and shift"
        scale, shift = (b.reshape(-1) for b in blobs)
        values = [scale, shift, np.zeros_like(scale), np.ones_like(scale)]
        ours, theirs = shapes[0], scale.shape
    if [tuple(v.shape) for v in values] != shapes:
        return (f"shape {theirs} but the project's {keras_layer.name} takes "
                f"{ours}")
    return values


def load_caffe_weights(model, released, weights):
    """Copies a caffemodel's blobs into `model`, all or nothing.

    Args:
        model: `build_model(Config(**released.config))`.
        released: `describe` of the caffemodel's prototxt.
        weights: `caffe_format.read_caffemodel` output.

    Returns:
        list of problems, one line each naming the Caffe layer (missing or
        unexpected blobs, shape mismatches); the model is unchanged unless
        the list is empty.
    """
    problems, assignments = [], []
    expected = [lay for lay in released.layers
                if lay.type in ("Convolution", "BN")]
    for layer in expected:
        if layer.name not in weights:
            problems.append(f"layer {layer.name}: no blobs in the caffemodel")
            continue
        keras_layer = model.get_layer(keras_layer_name(layer.name, released))
        values = _layer_values(layer, weights[layer.name], released,
                               keras_layer)
        if isinstance(values, str):
            problems.append(f"layer {layer.name}: {values}")
        else:
            assignments.append((keras_layer, values))
    names = {lay.name for lay in expected}
    problems += [f"layer {name}: has blobs in the caffemodel but no "
                 "Convolution or BN layer of that name in the prototxt"
                 for name in weights if name not in names]
    if not problems:
        for keras_layer, values in assignments:
            keras_layer.set_weights(values)
    return problems
