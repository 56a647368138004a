"""Loading pretrained weights into the backbones of `seg_common.backbones`."""

import keras

_KERAS_APPLICATIONS = {50: "ResNet50", 101: "ResNet101"}


def copy_layer_weights(source, target):
    """Copies the weights of every layer of `source` into the same-named layer of `target`.

    Args:
        source: a `keras.Model` (e.g. a keras.applications ResNet).
        target: a `keras.Model` with a layer of the same name, and variables of
            the same shapes, for every weighted layer of `source`.

    Returns:
        The number of layers copied.

    Raises:
        ValueError: a weighted layer of `source` has no counterpart in `target`.
    """
    names = {layer.name for layer in target.layers}
    copied = 0
    for layer in source.layers:
        if not layer.weights:
            continue
        if layer.name not in names:
            raise ValueError(f"Layer {layer.name!r} of {source.name!r} has no "
                             f"counterpart in {target.name!r}.")
        target.get_layer(layer.name).set_weights(layer.get_weights())
        copied += 1
    return copied


def load_resnet_weights(model, depth, style, weights):
    """Loads `weights` into a ResNet built by `build_resnet`.

    Args:
        model: the backbone.
        depth: 50 or 101.
        style: its style. `"keras"` accepts `"imagenet"` (keras.applications
            downloads its ImageNet weights; needs internet on first use) or the
            path of a keras.applications ResNet weights file; the other styles
            accept the path of a `.weights.h5` file saved from the same backbone.
        weights: `"imagenet"` or a file path.

    Raises:
        ValueError: `"imagenet"` asked for a style keras.applications lacks.
    """
    if style == "keras":
        reference = getattr(keras.applications, _KERAS_APPLICATIONS[depth])(
            include_top=False, weights=weights, input_shape=(None, None, 3))
        copy_layer_weights(reference, model)
    elif weights == "imagenet":
        raise ValueError(
            "`weights='imagenet'` needs style='keras' (keras.applications "
            f"layout); style={style!r} loads a `.weights.h5` path only.")
    else:
        model.load_weights(weights)
