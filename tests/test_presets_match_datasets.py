"""Every recipe preset of every package fits its dataset's class count and
ignore label, so the Python API trains correctly without the scripts'
overrides. A preset added without an entry here fails the last test."""

import pytest

import bayesian_segnet_tf
import deeplab_tf
import encnet_tf
from seg_common.data import datasets

# preset -> dataset it is the recipe of ("tiny" presets are test models).
DATASET_OF = {
    (deeplab_tf, "xception_65_voc"): "pascal_voc",
    (deeplab_tf, "resnet_101_voc"): "pascal_voc",
    (deeplab_tf, "xception_65_cityscapes"): "cityscapes",
    (deeplab_tf, "xception_71_cityscapes"): "cityscapes",
    (deeplab_tf, "xception_65_ade20k"): "ade20k",
    (encnet_tf, "pascal_context"): "pascal_context",
    (encnet_tf, "pascal_context_reference"): "pascal_context",
    (encnet_tf, "fcn_pascal_context"): "pascal_context",
    (encnet_tf, "ade20k"): "ade20k",
    (encnet_tf, "ade20k_reference"): "ade20k",
    (encnet_tf, "fcn_ade20k"): "ade20k",
    (encnet_tf, "voc"): "pascal_voc",
    (encnet_tf, "voc_finetune"): "pascal_voc",
    (bayesian_segnet_tf, "segnet"): "camvid",
    (bayesian_segnet_tf, "segnet_basic"): "camvid",
}


@pytest.mark.parametrize("package, preset", list(DATASET_OF),
                         ids=lambda v: getattr(v, "__name__", v))
def test_preset_fits_its_dataset(package, preset):
    config = package.PRESETS[preset]
    info = datasets.get_dataset_info(DATASET_OF[package, preset])
    assert (config.num_classes, config.ignore_label) == (
        info.num_classes, info.ignore_label)


def test_every_dataset_preset_is_checked():
    for package in (deeplab_tf, encnet_tf, bayesian_segnet_tf):
        for preset in package.PRESETS:
            assert preset == "tiny" or (package, preset) in DATASET_OF, (
                f"{package.__name__} preset {preset!r}: add its dataset")
