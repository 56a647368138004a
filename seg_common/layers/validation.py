"""Argument checks shared by the layers: one-line `ValueError`s naming the argument."""


def check_positive_int(name, value):
    """Raises `ValueError` unless `value` is an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"`{name}` must be an integer >= 1, got {value!r}.")
    return value


def check_rank(name, shape, ranks):
    """Raises `ValueError` unless `len(shape)` is one of `ranks`."""
    if len(shape) not in ranks:
        allowed = " or ".join(str(r) for r in ranks)
        raise ValueError(
            f"`{name}` must have rank {allowed}, got shape {tuple(shape)}.")


def check_stride_and_rate(strides, dilation_rate):
    """Strided and dilated at once is not a convolution TF can run."""
    check_positive_int("strides", strides)
    check_positive_int("dilation_rate", dilation_rate)
    if strides > 1 and dilation_rate > 1:
        raise ValueError(
            f"`strides` ({strides}) and `dilation_rate` ({dilation_rate}) "
            "cannot both be > 1.")
