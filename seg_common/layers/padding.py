"""Explicit ("fixed") padding for strided convolutions, as in TF1 DeepLab."""

import keras


def fixed_padding(kernel_size, dilation_rate=1, name=None):
    """Zero padding that centres a strided convolution independently of the input size.

    Keras `padding="same"` with stride 2 pads only at the end on even inputs,
    which shifts features by a pixel against TF1 checkpoints. This pads
    `(k_eff - 1) // 2` at the start and the rest at the end, where
    `k_eff = k + (k - 1) * (dilation_rate - 1)`; the convolution then runs
    with `padding="valid"`.

    Args:
        kernel_size: int, the square kernel size.
        dilation_rate: int, the atrous rate.
        name: layer name.

    Returns:
        A `keras.layers.ZeroPadding2D`, or `None` when no padding is needed.
    """
    effective = kernel_size + (kernel_size - 1) * (dilation_rate - 1)
    total = effective - 1
    if total == 0:
        return None
    begin = total // 2
    return keras.layers.ZeroPadding2D(((begin, total - begin),) * 2, name=name)


def build_padding(pad, input_shape):
    """Builds `pad` (or nothing when None); returns the padded shape."""
    if pad is None:
        return input_shape
    pad.build(input_shape)
    return pad.compute_output_shape(input_shape)


def strided_output_shape(input_shape, strides, filters):
    """(B, H, W, C) -> (B, ceil(H/strides), ceil(W/strides), filters)."""
    def out(d):
        return None if d is None else -(-d // strides)
    return (input_shape[0], out(input_shape[1]), out(input_shape[2]), filters)
