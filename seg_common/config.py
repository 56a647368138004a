"""The recipe fields and checks shared by the model packages' frozen configs.

Each package's `Config` (and EncNet's `CifarConfig`) extends `RecipeConfig`:
it adds its model fields and redeclares only the recipe defaults that its
paper sets differently, with the source beside each value.
"""

import dataclasses

LR_SCHEDULES = ("poly", "constant", "cosine")


def check_choice(name, value, choices):
    """Raises ValueError unless `value` is one of `choices`."""
    if value not in choices:
        raise ValueError(f"`{name}` must be one of "
                         f"{', '.join(map(str, choices))}; got {value!r}.")


def check_integer(name, value, least=1):
    """Raises ValueError unless `value` is an int (not bool) >= `least`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(
            f"`{name}` must be an integer >= {least}, got {value!r}.")


def check_fraction(name, value):
    """Raises ValueError unless 0 <= `value` < 1 (a dropout rate)."""
    if not 0.0 <= value < 1.0:
        raise ValueError(f"`{name}` must be in [0, 1), got {value!r}.")


@dataclasses.dataclass(frozen=True)
class RecipeConfig:
    """The training recipe of every model (SGD, schedule, augmentation).

    Subclasses define `num_classes` and their model fields, and redeclare
    the defaults their paper sets differently.

    Fields:
        base_learning_rate: peak learning rate.
        lr_schedule: one of `LR_SCHEDULES` (`seg_common.training.WarmupDecay`).
        poly_power: power of the "poly" schedule.
        momentum: SGD momentum.
        weight_decay: coupled L2 on the kernels (added to the loss).
        weight_decay_exclude: variable-path substrings without weight decay.
        lr_multipliers: (substring, factor) pairs scaling the learning rate
            of matching variables.
        batch_size: global batch (split over replicas).
        crop_size: (H, W) training crop.
        train_steps: optimizer steps.
        ignore_label: label value that adds no loss and no metric.
        min_scale_factor, max_scale_factor, scale_factor_step: random
            rescaling of training images (step 0 = uniform; 1.0/1.0 = none).
        max_rotation_degrees: random rotation of training images (0 = none).
        flip: random left-right flip of training images.
    """

    base_learning_rate: float = 0.01
    lr_schedule: str = "poly"
    poly_power: float = 0.9
    momentum: float = 0.9
    weight_decay: float = 1e-4
    weight_decay_exclude: tuple = ()
    lr_multipliers: tuple = ()
    batch_size: int = 16
    crop_size: tuple = (512, 512)
    train_steps: int = 30_000
    ignore_label: int = 255
    min_scale_factor: float = 1.0
    max_scale_factor: float = 1.0
    scale_factor_step: float = 0.0
    max_rotation_degrees: float = 0.0
    flip: bool = True

    def __post_init__(self):
        check_integer("num_classes", self.num_classes)
        check_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        for name in ("batch_size", "train_steps"):
            check_integer(name, getattr(self, name))
        if not 0 < self.min_scale_factor <= self.max_scale_factor:
            raise ValueError(
                "`min_scale_factor` and `max_scale_factor` must satisfy "
                "0 < min <= max, got "
                f"{self.min_scale_factor!r}, {self.max_scale_factor!r}.")


def resolve_config(config_class, config, overrides):
    """`config` (default `config_class()`) with `overrides` applied.

    Args:
        config_class: the package's frozen `Config` dataclass.
        config: an instance of it, or None.
        overrides: dict of field name -> value.

    Returns:
        A new `config_class` instance (its `__post_init__` validates values).

    Raises:
        TypeError: `config` is not a `config_class`, or an override is not
            one of its fields (named in the message).
    """
    config = config_class() if config is None else config
    if not isinstance(config, config_class):
        raise TypeError(f"`config` must be a {config_class.__name__}, got "
                        f"{config!r}; pass fields as keywords "
                        "(e.g. num_classes=...).")
    fields = {f.name for f in dataclasses.fields(config)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise TypeError(f"Unknown {config_class.__name__} field(s) {unknown}; "
                        f"allowed: {sorted(fields)}.")
    return dataclasses.replace(config, **overrides)
