"""The import graph is layered: layers <- backbones <- model packages.

`seg_common` never imports a model package or `scripts`; the model packages
never import each other; library code never imports absl flags.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODEL_PACKAGES = ("deeplab_tf", "bayesian_segnet_tf", "encnet_tf")


def _imports(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _files(package):
    return sorted((ROOT / package).rglob("*.py"))


def _top(name):
    return name.split(".")[0]


@pytest.mark.parametrize("package", ("seg_common",) + MODEL_PACKAGES)
def test_library_never_imports_scripts_or_flags(package):
    for path in _files(package):
        for name in _imports(path):
            assert _top(name) != "scripts", f"{path} imports {name}"
            assert name != "absl.flags", f"{path} reads flags ({name})"


def test_seg_common_imports_no_model_package():
    for path in _files("seg_common"):
        for name in _imports(path):
            assert _top(name) not in MODEL_PACKAGES, f"{path} imports {name}"


def test_layers_import_nothing_above_them():
    for path in _files("seg_common/layers"):
        for name in _imports(path):
            if _top(name) == "seg_common":
                assert name.startswith("seg_common.layers"), f"{path} imports {name}"


def test_backbones_import_only_layers_from_seg_common():
    for path in _files("seg_common/backbones"):
        for name in _imports(path):
            if _top(name) == "seg_common":
                assert name.startswith(("seg_common.layers", "seg_common.backbones")), (
                    f"{path} imports {name}")


@pytest.mark.parametrize("package", MODEL_PACKAGES)
def test_model_packages_do_not_import_each_other(package):
    others = set(MODEL_PACKAGES) - {package}
    for path in _files(package):
        for name in _imports(path):
            assert _top(name) not in others, f"{path} imports {name}"
