"""Full-size DeepLabv3+ against the paper: parameters, multiply-adds at 513x513, shapes.

Multiply-adds are TF-profiler float operations / 2 on the frozen inference
graph (seg_common.profiling), compared with the paper's Table 5 (Xception-65,
1 %) and Table 3 (ResNet-101, 3 %).
"""

import itertools

import keras
import numpy as np
import pytest

import deeplab_tf
from seg_common.profiling import multiply_adds

pytestmark = pytest.mark.large

# (backbone, output_stride, decoder, separable) -> paper multiply-adds (B).
PAPER_MULTIPLY_ADDS = {
    ("xception_65", 16, False, False): 68.00,    # Table 5
    ("xception_65", 16, True, False): 89.76,
    ("xception_65", 16, True, True): 54.17,
    ("xception_65", 8, True, True): 177.10,
    ("xception_65", 8, False, False): 240.85,
    ("resnet_101", 16, True, False): 101.28,     # Table 3
    ("resnet_101", 32, False, False): 52.43,
    ("resnet_101", 8, False, False): 276.18,
}
TOLERANCE = {"xception_65": 0.01, "resnet_101": 0.03}


@pytest.mark.parametrize("key", list(PAPER_MULTIPLY_ADDS))
def test_multiply_adds_match_paper(key):
    backbone, output_stride, decoder, separable = key
    preset = {"xception_65": "xception_65_voc", "resnet_101": "resnet_101_voc"}
    model = deeplab_tf.build_model(
        deeplab_tf.PRESETS[preset[backbone]], output_stride=output_stride,
        decoder=decoder, separable=separable)   # ResNet: multi_grid (1, 2, 4)
    got = multiply_adds(model, (1, 513, 513, 3)) / 1e9
    want = PAPER_MULTIPLY_ADDS[key]
    print(f"{key}: {got:.2f}B vs paper {want:.2f}B ({100 * (got / want - 1):+.2f} %)")
    assert abs(got / want - 1) < TOLERANCE[backbone]
    keras.backend.clear_session()


def _counts(model):
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return trainable, model.count_params() - trainable


def test_xception_65_parameters_match_spec():
    model = deeplab_tf.build_model(deeplab_tf.PRESETS["xception_65_voc"])
    assert _counts(model) == (41_055_413, 202_800)          # expected counts
    backbone = model.get_layer("xception_65")
    assert _counts(backbone)[0] == 37_867_312


def test_resnet_101_parameters_match_spec():
    model = deeplab_tf.build_model(backbone="resnet_101")
    assert _counts(model) == (45_812_037, 123_328)          # expected counts
    regular = deeplab_tf.build_model(backbone="resnet_101", separable=False)
    assert _counts(regular) == (59_468_085, 109_920)


@pytest.mark.parametrize("backbone, output_stride", itertools.product(
    ("xception_65", "xception_71", "resnet_50", "resnet_101"), (8, 16, 32)))
def test_shapes_every_backbone_output_stride_decoder(backbone, output_stride):
    for decoder in (True, False):
        model = deeplab_tf.build_model(backbone=backbone, decoder=decoder,
                                       output_stride=output_stride)
        head = keras.Model(model.input,
                           model.get_layer("logits_semantic").output)
        for size in (513, 512):
            x = keras.KerasTensor((1, size, size, 3))   # symbolic: no compute
            stride = 4 if decoder else output_stride
            assert tuple(head(x).shape) == (1, -(-size // stride),
                                            -(-size // stride), 21)
            assert tuple(model(x)["logits"].shape) == (1, size, size, 21)
        keras.backend.clear_session()


def test_standard_stem_loads_keras_applications_weights_file(tmp_path, rng):
    """backbone_weights=<keras.applications file> + caffe preprocessing
    reproduce keras.applications.ResNet50 on preprocess_input images."""
    reference = keras.applications.ResNet50(
        weights=None, include_top=False, input_shape=(None, None, 3))
    path = str(tmp_path / "resnet50.weights.h5")
    reference.save_weights(path)
    model = deeplab_tf.build_model(backbone="resnet_50", resnet_stem="standard",
                                   output_stride=32, backbone_weights=path)
    normalize = next(l for l in model.layers
                     if l.__class__.__name__ == "InputNormalization")
    x = rng.uniform(0, 255, (1, 64, 64, 3)).astype(np.float32)
    want = np.asarray(reference(
        keras.applications.resnet.preprocess_input(x.copy())))
    got = np.asarray(model.get_layer("resnet_50")(normalize(x))["c4"])
    np.testing.assert_allclose(got / np.abs(want).max(),
                               want / np.abs(want).max(), atol=1e-5)
