"""Imports a file under `tools/` as a module for in-process tests."""

import functools
import importlib.util
import pathlib

from absl import flags as absl_flags

ROOT = pathlib.Path(__file__).parents[1]


@functools.lru_cache(maxsize=None)
def load_tool(relative_path):
    """The module of `ROOT / relative_path` (e.g. "tools/convert_x.py"),
    imported once. The absl flags it defines are removed again, so scripts
    run in-process later can define theirs; call its `run(flags namespace)`.
    """
    path = ROOT / relative_path
    spec = importlib.util.spec_from_file_location(f"_tool_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    before = set(absl_flags.FLAGS)
    try:
        spec.loader.exec_module(module)
    finally:
        for name in set(absl_flags.FLAGS) - before:
            delattr(absl_flags.FLAGS, name)
    return module
