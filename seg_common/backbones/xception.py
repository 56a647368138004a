"""Modified aligned Xception-65 / Xception-71 of DeepLabv3+ (TF1 `core/xception.py`).

`build_xception(depth, output_stride, multi_grid, separable_order, ...)`
returns a functional `keras.Model` mapping images normalised to [-1, 1]
(B, H, W, 3) to a dict of features:

| key | what | 513 input, OS16 / OS8 |
|---|---|---|
| `"stem"` | `entry_flow/conv1_2` | 257x257x64 |
| `"low_level"` | DeepLab's decoder tap, stride 4: output of the 2nd separable conv of `entry_flow/block2` (X-65) or `entry_flow/block3` (X-71), after its BN, before the strided 3rd conv | 129x129x256 |
| `"entry_flow"` | end of the entry flow | 33x33x728 / 65x65x728 |
| `"middle_flow"` | end of the middle flow | 33x33x728 / 65x65x728 |
| `"exit_flow"` | end of the exit flow, the network output | 33x33x2048 / 65x65x2048 |

Every unit holds 3 separable 3x3 convs (`depth_list` channels); the stride,
when any, sits on the 3rd conv; skips are `conv` (strided 1x1 + BN), `sum`
(identity) or `none`; no activation after the sum. Every max-pool of the
original Xception is a strided separable conv. Output stride follows slim's
`stack_blocks_dense` (`seg_common.backbones._atrous`): once the stride reaches
`output_stride`, units run at stride 1 with growing atrous rates;
`exit_flow/block2` uses `rate * multi_grid[i]` for its i-th conv. Variables
never depend on `output_stride`.

Separable-conv order (`separable_order=`): `"released"` (default; the TF1
checkpoints) is ReLU -> DW -> BN -> PW -> BN in every unit but
`exit_flow/block2`, which is DW -> BN -> ReLU -> PW -> BN -> ReLU; `"paper"`
(the paper's "extra BN and ReLU after each 3x3 depthwise convolution") uses
the latter everywhere.

Layer names are the TF1 scopes with `/` -> `_` and the `xception_module`
level dropped, e.g. `entry_flow_block1_unit_1_separable_conv1`.

Example:
>>> net = build_xception(65, output_stride=16)
>>> tuple(net(keras.ops.zeros((1, 513, 513, 3)))["exit_flow"].shape)
(1, 33, 33, 2048)

Reference: https://arxiv.org/abs/1802.02611 (DeepLabv3+, modified aligned
Xception), https://arxiv.org/abs/1610.02357 (Xception).
"""

import collections

import keras

from seg_common.backbones._atrous import stack_blocks_dense
from seg_common.layers import AtrousSeparableConv2D, ConvBNAct

Block = collections.namedtuple(
    "Block", ["scope", "depth_list", "skip", "num_units", "stride"])

_MIDDLE = Block("middle_flow_block1", (728, 728, 728), "sum", 16, 1)
_EXIT = (Block("exit_flow_block1", (728, 1024, 1024), "conv", 1, 2),
         Block("exit_flow_block2", (1536, 1536, 2048), "none", 1, 1))
BLOCKS = {
    65: (Block("entry_flow_block1", (128,) * 3, "conv", 1, 2),
         Block("entry_flow_block2", (256,) * 3, "conv", 1, 2),
         Block("entry_flow_block3", (728,) * 3, "conv", 1, 2),
         _MIDDLE) + _EXIT,
    71: (Block("entry_flow_block1", (128,) * 3, "conv", 1, 2),
         Block("entry_flow_block2", (256,) * 3, "conv", 1, 1),
         Block("entry_flow_block3", (256,) * 3, "conv", 1, 2),
         Block("entry_flow_block4", (728,) * 3, "conv", 1, 1),
         Block("entry_flow_block5", (728,) * 3, "conv", 1, 2),
         _MIDDLE) + _EXIT,
    # Not in the paper: the Xception-65 layout with 1 middle unit and 16-64
    # channels, for tests and CPU demos (a few seconds of training).
    "tiny": (Block("entry_flow_block1", (16,) * 3, "conv", 1, 2),
             Block("entry_flow_block2", (24,) * 3, "conv", 1, 2),
             Block("entry_flow_block3", (32,) * 3, "conv", 1, 2),
             Block("middle_flow_block1", (32,) * 3, "sum", 1, 1),
             Block("exit_flow_block1", (32, 48, 48), "conv", 1, 2),
             Block("exit_flow_block2", (64,) * 3, "none", 1, 1)),
}
LOW_LEVEL_BLOCK = {65: "entry_flow_block2", 71: "entry_flow_block3",
                   "tiny": "entry_flow_block2"}
OUTPUT_STRIDES = (8, 16, 32)
SEPARABLE_ORDERS = ("released", "paper")
_INIT = {"class_name": "TruncatedNormal", "config": {"stddev": 0.09}}


def _check_args(depth, output_stride, multi_grid, separable_order):
    if depth not in BLOCKS:
        raise ValueError(f"`depth` must be one of {tuple(BLOCKS)}, got {depth!r}.")
    if output_stride not in OUTPUT_STRIDES:
        raise ValueError(f"`output_stride` must be one of {OUTPUT_STRIDES}, "
                         f"got {output_stride!r}.")
    if (len(tuple(multi_grid)) != 3
            or not all(isinstance(r, int) and r >= 1 for r in multi_grid)):
        raise ValueError("`multi_grid` must be 3 integers >= 1 (one per conv "
                         f"of exit_flow/block2), got {multi_grid!r}.")
    if separable_order not in SEPARABLE_ORDERS:
        raise ValueError(f"`separable_order` must be one of {SEPARABLE_ORDERS}"
                         f", got {separable_order!r}.")


def xception_unit(x, block, stride, rates, depth_activation, momentum,
                  epsilon, name):
    """One Xception module: 3 separable convs and the skip connection.

    Args:
        x: (B, H, W, C) input.
        block: its `Block` (depth_list, skip type).
        stride: effective stride, on the 3rd conv and the `conv` skip.
        rates: atrous rate of each of the 3 convs.
        depth_activation: `AtrousSeparableConv2D` activation placement.
        momentum, epsilon: batch-norm settings.
        name: layer-name prefix, e.g. `"entry_flow_block1_unit_1"`.

    Returns:
        `(output, second)`: the unit output (B, ceil(H/s), ceil(W/s),
        depth_list[-1]) and the 2nd conv's output (B, H, W, depth_list[1]).
    """
    y, outputs = x, []
    for i, (depth, rate) in enumerate(zip(block.depth_list, rates)):
        y = AtrousSeparableConv2D(
            depth, strides=stride if i == 2 else 1, dilation_rate=rate,
            depth_activation=depth_activation, momentum=momentum,
            epsilon=epsilon, depthwise_initializer=_INIT,
            pointwise_initializer=_INIT,
            name=f"{name}_separable_conv{i + 1}")(y)
        outputs.append(y)
    if block.skip == "conv":
        shortcut = ConvBNAct(block.depth_list[-1], 1, strides=stride,
                             activation=None, momentum=momentum,
                             epsilon=epsilon, kernel_initializer=_INIT,
                             name=f"{name}_shortcut")(x)
        y = keras.layers.Add(name=f"{name}_add")([y, shortcut])
    elif block.skip == "sum":
        y = keras.layers.Add(name=f"{name}_add")([y, x])
    return y, outputs[1]


def build_xception(depth=65, output_stride=16, multi_grid=(1, 1, 1),
                   separable_order="released", momentum=0.9997, epsilon=1e-3,
                   input_shape=(None, None, 3), name=None):
    """Builds the modified aligned Xception feature extractor.

    Args:
        depth: 65, 71 or `"tiny"` (not in the paper: 1 middle unit, 8-64
            channels, for tests).
        output_stride: 8, 16 or 32.
        multi_grid: rate multipliers of the 3 convs of `exit_flow/block2`
            (default (1, 1, 1)).
        separable_order: `"released"` (default) or `"paper"`; see module.
        momentum, epsilon: batch norm (TF1 decay 0.9997, epsilon 1e-3).
        input_shape: (H, W, 3); H and W may be `None`.
        name: model name; default `xception_{depth}`.

    Returns:
        A `keras.Model`: (B, H, W, 3) in [-1, 1] -> dict `"stem"`,
        `"low_level"`, `"entry_flow"`, `"middle_flow"`, `"exit_flow"`.

    Raises:
        ValueError: unknown `depth`, `output_stride`, `separable_order`, or
            a bad `multi_grid`.
    """
    _check_args(depth, output_stride, multi_grid, separable_order)
    conv = dict(momentum=momentum, epsilon=epsilon, kernel_initializer=_INIT)
    inputs = keras.Input(input_shape, name="images")
    stem = (8, 16) if depth == "tiny" else (32, 64)
    x = ConvBNAct(stem[0], 3, strides=2, name="entry_flow_conv1_1", **conv)(inputs)
    x = ConvBNAct(stem[1], 3, name="entry_flow_conv1_2", **conv)(x)
    features = {"stem": x}
    units = [(block, u) for block in BLOCKS[depth]
             for u in range(block.num_units)]
    schedule = stack_blocks_dense(
        [block.stride for block, _ in units], [1] * len(units),
        output_stride, start_stride=2)
    for (block, u), (stride, rate) in zip(units, schedule):
        grid = multi_grid if block.scope == "exit_flow_block2" else (1, 1, 1)
        x, second = xception_unit(
            x, block, stride, [rate * g for g in grid],
            depth_activation=(separable_order == "paper"
                              or block.scope == "exit_flow_block2"),
            momentum=momentum, epsilon=epsilon,
            name=f"{block.scope}_unit_{u + 1}")
        if block.scope == LOW_LEVEL_BLOCK[depth]:
            features["low_level"] = second
        features[block.scope.split("_block")[0]] = x
    return keras.Model(inputs, features, name=name or f"xception_{depth}")
