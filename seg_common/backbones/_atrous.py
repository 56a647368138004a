"""Output-stride control by de-striding and atrous rates (TF1 slim `stack_blocks_dense`)."""


def stack_blocks_dense(nominal_strides, unit_rates, output_stride,
                       start_stride=1, stride_before_dilated_conv=False):
    """The effective (stride, rate) of every unit of a dilated network.

    Units run with their nominal stride until the accumulated stride reaches
    `output_stride`; every later unit runs with stride 1 and an atrous rate
    that is multiplied by the unit's nominal stride. When the stride sits on
    the unit's last spatial conv (slim ResNet, Xception), the multiplication
    happens after the unit; when it sits before the unit's dilated conv
    (keras.applications ResNet), before it.

    Args:
        nominal_strides: the stride of each unit of the undilated network.
        unit_rates: per-unit rate multipliers (multi-grid), same length.
        output_stride: the wanted ratio of input to output size.
        start_stride: the stride accumulated before the first unit.
        stride_before_dilated_conv: see above.

    Returns:
        A list of `(stride, rate)` per unit.

    Example:
    >>> stack_blocks_dense([2, 2, 1], [1, 1, 2], output_stride=2)
    [(2, 1), (1, 1), (1, 4)]
    """
    schedule, current_stride, rate = [], start_stride, 1
    for nominal, unit_rate in zip(nominal_strides, unit_rates):
        if current_stride == output_stride:
            if stride_before_dilated_conv:
                rate *= nominal
            schedule.append((1, rate * unit_rate))
            if not stride_before_dilated_conv:
                rate *= nominal
        else:
            schedule.append((nominal, unit_rate))
            current_stride *= nominal
    return schedule
