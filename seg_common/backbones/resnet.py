"""Dilated ResNet v1 backbones (50/101 layers) in three published layouts.

`build_resnet(depth, style, output_stride, multi_grid, ...)` returns a
functional `keras.Model` mapping normalised images (B, H, W, 3) to a dict of
features. The caller normalises the input (DeepLab subtracts the mean RGB,
EncNet standardises); the backbone never does.

Styles (`style=`):

| style | network | stem | stride sits on | BN momentum / eps |
|---|---|---|---|---|
| `"beta"` | TF1 DeepLab `resnet_v1_{50,101}_beta` | 3x3/2 64, 3x3 64, 3x3 128; max-pool 3x3/2 SAME | 3x3 conv of the **last** unit of blocks 1-3 | 0.95 / 1e-5 |
| `"s"` | PyTorch-Encoding `resnet50s/101s` (EncNet) | same convs; max-pool 3x3/2 pad 1 | 3x3 conv of the **first** unit of blocks 2-4 ("v1.5") | 0.9 / 1e-5 |
| `"keras"` | `keras.applications.ResNet50/101` | 7x7/2 64 (bias), max-pool 3x3/2 pad 1 | first 1x1 conv (+ shortcut) of the first unit of blocks 2-4; conv biases | 0.99 / 1.001e-5 |

Output stride (TF1 slim `stack_blocks_dense`): units run with their nominal
stride until the accumulated stride reaches `output_stride`; every later unit
runs with stride 1 and an atrous rate that is multiplied by the unit's
nominal stride after the unit runs. Block 4 unit `i` uses
`rate * multi_grid[i]`. For `"s"` at OS8 this gives EncNet's dilation: c3
rate 2 (its first unit rate 1), c4 rate 4 (first unit rate 2). In `"keras"`
the stride sits before the 3x3 conv, so a de-strided unit's own 3x3 conv
already takes the multiplied rate. Either way the OS-k features, sampled every
second pixel on a `2^n + 1` grid, equal the OS-2k features exactly. Variables never
depend on `output_stride`, so one set of weights serves OS 8, 16 and 32.

Feature dict (spatial sizes for a 513 input):

| key | what | `"beta"` OS16 | `"s"` / `"keras"` OS8 |
|---|---|---|---|
| `"stem"` | after the max-pool, stride 4 | 129, 128 ch (keras: 64) | 129 |
| `"c1"` .. `"c4"` | outputs of blocks 1-4 (256/512/1024/2048 ch) | 65 / 33 / 33 / 33 | 129 / 65 / 65 / 65 |
| `"low_level"` | `block1/unit_2/bottleneck_v1/conv3`: BN output of unit 2's last conv, before the sum (DeepLab's decoder tap), stride 4, 256 ch | 129 | 129 |

(`"beta"` strides at the end of a block, so its `c1` is at stride 8.)

Example:
>>> net = build_resnet(101, style="beta", output_stride=16, multi_grid=(1, 2, 4))
>>> {k: tuple(v.shape[1:]) for k, v in net(keras.ops.zeros((1, 513, 513, 3))).items()}["c4"]
(33, 33, 2048)

Reference: https://arxiv.org/abs/1512.03385 (ResNet),
https://arxiv.org/abs/1706.05587 (DeepLabv3 multi-grid),
https://arxiv.org/abs/1803.08904 (EncNet dilated ResNet-s).
"""

import keras

from seg_common.backbones import _resnet_units as units
from seg_common.backbones._atrous import stack_blocks_dense
from seg_common.backbones.weights import load_resnet_weights

UNITS_PER_BLOCK = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}
BASE_DEPTHS = (64, 128, 256, 512)
STYLES = ("beta", "s", "keras")
OUTPUT_STRIDES = (8, 16, 32)
_BN_DEFAULTS = {"beta": (0.95, 1e-5), "s": (0.9, 1e-5), "keras": (0.99, 1.001e-5)}


def _check_args(depth, style, output_stride, multi_grid):
    if depth not in UNITS_PER_BLOCK:
        raise ValueError(f"`depth` must be one of {tuple(UNITS_PER_BLOCK)}, "
                         f"got {depth!r}.")
    if style not in STYLES:
        raise ValueError(f"`style` must be one of {STYLES}, got {style!r}.")
    if output_stride not in OUTPUT_STRIDES:
        raise ValueError(f"`output_stride` must be one of {OUTPUT_STRIDES}, "
                         f"got {output_stride!r}.")
    if (len(tuple(multi_grid)) != 3
            or not all(isinstance(r, int) and r >= 1 for r in multi_grid)):
        raise ValueError("`multi_grid` must be 3 integers >= 1 (one per unit "
                         f"of block 4), got {multi_grid!r}.")


def unit_schedule(depth, style, output_stride, multi_grid=(1, 1, 1)):
    """The (block, unit, stride, dilation) of every bottleneck unit.

    Args:
        depth: 50 or 101.
        style: `"beta"` (stride on the last unit of blocks 1-3) or
            `"s"`/`"keras"` (stride on the first unit of blocks 2-4).
        output_stride: 8, 16 or 32.
        multi_grid: unit rates of block 4.

    Returns:
        A list of `(block, unit, stride, dilation)` tuples, 0-based indices.
    """
    index, nominal, unit_rates = [], [], []
    for block, num_units in enumerate(UNITS_PER_BLOCK[depth]):
        for unit in range(num_units):
            index.append((block, unit))
            if style == "beta":
                nominal.append(2 if block < 3 and unit == num_units - 1 else 1)
            else:
                nominal.append(2 if block > 0 and unit == 0 else 1)
            unit_rates.append(multi_grid[unit] if block == 3 else 1)
    effective = stack_blocks_dense(
        nominal, unit_rates, output_stride, start_stride=4,
        stride_before_dilated_conv=style == "keras")
    return [(b, u, s, r) for (b, u), (s, r) in zip(index, effective)]


def build_resnet(depth=50, style="beta", output_stride=32,
                 multi_grid=(1, 1, 1), momentum=None, epsilon=None,
                 weights=None, input_shape=(None, None, 3), name=None):
    """Builds a dilated ResNet v1 feature extractor.

    Args:
        depth: 50 or 101 layers.
        style: `"beta"` (DeepLab, default), `"s"` (EncNet) or `"keras"`
            (keras.applications layout, 7x7 stem); see the module docstring.
        output_stride: 8, 16 or 32 (32 = no dilation).
        multi_grid: unit rates of block 4 (DeepLab `resnet_v1_beta`
            checkpoints: (1, 2, 4)).
        momentum, epsilon: batch-norm settings; `None` = the style's value.
        weights: `None`; for `"keras"`, `"imagenet"` (downloads through
            keras.applications) or the path of a keras.applications
            ResNet50/101 weights file; for the other styles, a
            `.weights.h5` file saved from this backbone.
        input_shape: (H, W, 3); H and W may be `None`.
        name: model name; default `resnet_{depth}_{style}`.

    Returns:
        A `keras.Model`: (B, H, W, 3) float32 -> dict of features
        `"stem"`, `"c1"`, `"c2"`, `"c3"`, `"c4"`, `"low_level"` (see module).

    Raises:
        ValueError: unknown `depth`, `style`, `output_stride`, bad `multi_grid`.
    """
    _check_args(depth, style, output_stride, multi_grid)
    default_momentum, default_epsilon = _BN_DEFAULTS[style]
    momentum = default_momentum if momentum is None else momentum
    epsilon = default_epsilon if epsilon is None else epsilon
    inputs = keras.Input(input_shape, name="images")
    if style == "keras":
        x = units.keras_stem(inputs, momentum=momentum)
    else:
        x = units.deep_stem(
            inputs, pool_padding="same" if style == "beta" else "symmetric",
            momentum=momentum, epsilon=epsilon)
    features = {"stem": x}
    for block, unit, stride, dilation in unit_schedule(
            depth, style, output_stride, multi_grid):
        args = dict(base_depth=BASE_DEPTHS[block], stride=stride,
                    dilation=dilation, first=unit == 0, momentum=momentum)
        if style == "keras":
            x, conv3 = units.keras_unit(
                x, name=f"conv{block + 2}_block{unit + 1}", **args)
        else:
            x, conv3 = units.slim_unit(
                x, epsilon=epsilon,
                name=f"block{block + 1}_unit_{unit + 1}", **args)
        if (block, unit) == (0, 1):
            features["low_level"] = conv3
        features[f"c{block + 1}"] = x
    model = keras.Model(inputs, features, name=name or f"resnet_{depth}_{style}")
    if weights is not None:
        load_resnet_weights(model, depth, style, weights)
    return model
