"""The self-describing model directory: `config.json` written atomically and
checked on every rerun."""

import dataclasses
import json
import math
import os
import tempfile

CONFIG_FILE = "config.json"
# Fields that may change between runs of one model directory: training
# longer is how a finished run is extended.
RESUMABLE_FIELDS = ("config.train_steps",)
# Sections that describe how a run executes, not what it trains.
UNCHECKED_SECTIONS = ("runtime",)


class ConfigMismatchError(ValueError):
    """The model directory was created by a different configuration."""


def make_record(model, preset, config, dataset, training=None, runtime=None):
    """Builds the JSON-compatible description of a run.

    Args:
        model: model name (the scripts' --model value).
        preset: preset name.
        config: the resolved model `Config` dataclass.
        dataset: dataset name.
        training: dict of loop options that change the result (warm-up,
            class weights...).
        runtime: dict of options that do not (strategy, paths...).

    Returns:
        dict with keys model, preset, dataset, num_classes, config, training,
        runtime (lists instead of tuples).
    """
    record = {
        "model": model,
        "preset": preset,
        "dataset": dataset,
        "num_classes": config.num_classes,
        "config": dataclasses.asdict(config),
        "training": training or {},
        "runtime": runtime or {},
    }
    return json.loads(json.dumps(record))


def config_kwargs(record):
    """Returns the record's Config fields with lists turned back into tuples."""
    def to_tuple(value):
        if isinstance(value, list):
            return tuple(to_tuple(v) for v in value)
        return value
    return {k: to_tuple(v) for k, v in record["config"].items()}


def _flatten(record, prefix=""):
    flat = {}
    for key, value in record.items():
        if isinstance(value, dict) and key != "class_weights":
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def differences(old, new):
    """Names the checked fields that differ between two records.

    Returns:
        list of "field: old -> new" strings (empty when compatible).
    """
    old = {k: v for k, v in old.items() if k not in UNCHECKED_SECTIONS}
    new = {k: v for k, v in new.items() if k not in UNCHECKED_SECTIONS}
    flat_old, flat_new = _flatten(old), _flatten(new)
    diffs = []
    for key in sorted(set(flat_old) | set(flat_new)):
        if key in RESUMABLE_FIELDS:
            continue
        a, b = flat_old.get(key, "<missing>"), flat_new.get(key, "<missing>")
        if a != b:
            diffs.append(f"{key}: {a!r} -> {b!r}")
    return diffs


def read_record(model_dir):
    """Returns the record in `model_dir`, or None when there is none."""
    path = os.path.join(model_dir, CONFIG_FILE)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def write_record(model_dir, record):
    """Writes `config.json` atomically (temporary file + rename)."""
    write_json_atomic(os.path.join(model_dir, CONFIG_FILE), record)


def prepare_model_dir(model_dir, record):
    """Creates or reuses `model_dir` for `record`.

    Raises:
        ConfigMismatchError: `model_dir` holds a different configuration;
            the one-line message names the first differing fields.
    """
    old = read_record(model_dir)
    if old is not None:
        diffs = differences(old, record)
        if diffs:
            # Top-level fields (model, dataset) first: they explain the rest.
            diffs.sort(key=lambda diff: "." in diff.split(":")[0])
            more = (f"; and {len(diffs) - 4} more, see its {CONFIG_FILE}"
                    if len(diffs) > 4 else "")
            raise ConfigMismatchError(
                f"{model_dir} holds a run with another configuration ("
                + "; ".join(diffs[:4]) + more + "): use a new --model_dir, "
                f"or --init_checkpoint={model_dir} to start from its weights.")
    os.makedirs(model_dir, exist_ok=True)
    write_record(model_dir, record)


def write_json_atomic(path, data):
    """Writes JSON to `path` through a temporary file in the same folder."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(json_safe(data), f, indent=2, allow_nan=False)
    os.replace(tmp, path)


def json_safe(value):
    """Recursively turns NaN into None and NumPy scalars into Python ones."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not hasattr(value, "__len__"):
        value = value.item()  # NumPy scalar
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
