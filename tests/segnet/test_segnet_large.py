"""Full-size SegNet / SegNet-Basic: parameter counts, multiply-adds, 360x480 shapes."""

import numpy as np
import pytest

from bayesian_segnet_tf import build_model
from seg_common.benchmarking import conv_multiply_adds
from bayesian_segnet_tf.mc_graph import split_at_dropout
from seg_common.profiling import multiply_adds

pytestmark = pytest.mark.large


def _trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_segnet_parameter_count():
    model = build_model(arch="segnet")
    assert _trainable(model) == 29_449_355  # paper 29.45M
    assert model.count_params() == 29_465_227  # + BN moving statistics


@pytest.mark.parametrize("arch,paper_gmacs", [("segnet", 106.7),
                                              ("segnet_basic", 59.2)])
def test_multiply_adds_at_360x480(arch, paper_gmacs):
    model = build_model(arch=arch, input_shape=(360, 480, 3))
    assert conv_multiply_adds(model) / 1e9 == pytest.approx(paper_gmacs,
                                                            abs=0.05)
    profiled = multiply_adds(model, (1, 360, 480, 3), conv_only=True)
    assert profiled / 1e9 == pytest.approx(paper_gmacs, abs=0.05)


def _macs(layers, kernel):
    return sum(h * w * kernel * kernel * c_in * c_out
               for h, w, c_in, c_out in layers)


# Conv layers (H, W, C_in, C_out) at 360x480 from the prototxt layer shapes.
SEGNET_ENCODER = [(360, 480, 3, 64), (360, 480, 64, 64), (180, 240, 64, 128),
                  (180, 240, 128, 128), (90, 120, 128, 256),
                  (90, 120, 256, 256), (90, 120, 256, 256),
                  (45, 60, 256, 512)] + [(45, 60, 512, 512)] * 2 + [
                  (23, 30, 512, 512)] * 3
SEGNET_DECODER = [(23, 30, 512, 512)] * 3 + [(45, 60, 512, 512)] * 2 + [
    (45, 60, 512, 256), (90, 120, 256, 256), (90, 120, 256, 256),
    (90, 120, 256, 128), (180, 240, 128, 128), (180, 240, 128, 64),
    (360, 480, 64, 64), (360, 480, 64, 11)]
SEGNET_ALL = _macs(SEGNET_ENCODER + SEGNET_DECODER, 3)
# SegNet-Basic (prototxt): 7x7 convs, then the 1x1 classifier.
BASIC_SIZES = [(360, 480), (180, 240), (90, 120), (45, 60)]
BASIC_ENCODER = [(*BASIC_SIZES[0], 3, 64)] + [(*s, 64, 64)
                                              for s in BASIC_SIZES[1:]]
BASIC_CLASSIFIER = 360 * 480 * 64 * 11
BASIC_DECODER = [(*s, 64, 64) for s in BASIC_SIZES]
BASIC_ALL = _macs(BASIC_ENCODER + BASIC_DECODER, 7) + BASIC_CLASSIFIER


# Shared-prefix bound = all / stochastic-suffix multiply-adds.
@pytest.mark.parametrize("arch,dropout,prefix_macs,all_macs", [
    ("segnet", "central", _macs(SEGNET_ENCODER[:7], 3), SEGNET_ALL),
    ("segnet", "center", _macs(SEGNET_ENCODER, 3), SEGNET_ALL),
    ("segnet_basic", "central", _macs(BASIC_ENCODER[:3], 7), BASIC_ALL),
    ("segnet_basic", "classifier", BASIC_ALL - BASIC_CLASSIFIER, BASIC_ALL)])
def test_shared_prefix_bound(arch, dropout, prefix_macs, all_macs):
    model = build_model(arch=arch, dropout=dropout,
                        input_shape=(360, 480, 3))
    _, suffix, _ = split_at_dropout(model)
    assert conv_multiply_adds(model) == all_macs
    assert conv_multiply_adds(suffix) == all_macs - prefix_macs


@pytest.mark.parametrize("arch", ["segnet", "segnet_basic"])
def test_logits_at_360x480(arch):
    model = build_model(arch=arch)
    out = model(np.zeros((1, 360, 480, 3), np.float32))
    assert tuple(out["logits"].shape) == (1, 360, 480, 11)
