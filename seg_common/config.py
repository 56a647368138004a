"""Config helpers shared by the model packages' frozen dataclasses."""

import dataclasses


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
