"""The NumPy caffe-segnet oracle and the Caffe file readers on hand-worked
cases (Caffe's ceil rounding, tie rule, Upsample forms, LRN)."""

import numpy as np
import pytest

from bayesian_segnet_tf import caffe_format
from tools.golden import caffe_segnet as oracle


def test_pooling_rounds_up_and_keeps_the_first_maximum():
    x = np.zeros((1, 1, 45, 3))
    assert oracle.max_pool(x, 2, 2)[0].shape == (1, 1, 23, 2)  # 45 -> 23
    x = np.array([[[[1., 5., 5.],
                    [5., 0., 2.],
                    [7., 7., 9.]]]])
    values, mask = oracle.max_pool(x, 2, 2)
    np.testing.assert_array_equal(values[0, 0], [[5., 5.], [7., 9.]])
    # ties: 5 at (0,1) before (1,0); 7 at (2,0) before (2,1); clipped windows
    np.testing.assert_array_equal(mask[0, 0], [[1, 2], [6, 8]])
    zeros, zero_mask = oracle.max_pool(np.zeros((1, 1, 2, 2)), 2, 2)
    assert zero_mask.item() == 0 and zeros.item() == 0.0


def test_near_ties_take_the_other_sides_choice_and_are_counted():
    x = np.array([[[[1.0, 1.0 + 1e-7], [0.0, -3.0]]]])
    values, mask = oracle.max_pool(x, 2, 2)
    assert mask.item() == 1
    other = np.array([[[[0]]]])  # float32 rounding picked the first
    held = oracle._hold_ties(x, values, mask, other, 1e-5)
    assert (held[0].item(), held[1].item(), held[2]) == (1.0, 0, 1)
    far = oracle._hold_ties(x, values, mask, np.array([[[[3]]]]), 1e-5)
    assert (far[1].item(), far[2]) == (1, 0)  # -3 is no tie


def test_pooling_with_padding_drops_a_window_starting_in_the_pad():
    # H=4, k=2, s=2, pad=1: ceil((4+2-2)/2)+1 = 3 windows starting at rows
    # -1, 1, 3; 2*2 = 4 < H + pad = 5, so all stay. H=5, k=3, s=3, pad=1:
    # ceil(4/3)+1 = 3, but the third would start at 2*3 = 6 >= 5 + 1: 2.
    assert oracle.max_pool(np.ones((1, 1, 4, 4)), 2, 2, pad=1)[0].shape == (
        1, 1, 3, 3)
    assert oracle.max_pool(np.ones((1, 1, 5, 5)), 3, 3, pad=1)[0].shape == (
        1, 1, 2, 2)


def test_upsample_writes_values_at_their_mask_and_sizes_like_caffe():
    values = np.array([[[[3., 4.]]]])
    mask = np.array([[[[4, 2]]]])
    np.testing.assert_array_equal(oracle.unpool(values, mask, 3, 2)[0, 0],
                                  [[0, 0], [4, 0], [3, 0]])
    with pytest.raises(ValueError, match="out of range"):
        oracle.unpool(values, mask, 2, 2)
    size = oracle._upsample_size
    assert size({"scale": [2], "pad_out_h": [True]}, 23, 30) == (45, 60)
    assert size({"scale": [2], "upsample_h": [45], "upsample_w": [59]},
                23, 30) == (45, 59)
    assert size({}, 4, 5) == (8, 10)


def test_lrn_is_caffes_across_channel_formula():
    x = np.arange(1, 8, dtype=np.float64).reshape(1, 7, 1, 1)
    y = oracle._lrn(x, 5, 1e-4, 0.75, 1.0)
    c = 3  # channels 1..5 in the window
    want = x[0, c] / (1 + 1e-4 / 5 * np.sum(x[0, 1:6] ** 2)) ** 0.75
    np.testing.assert_allclose(y[0, c], want)
    edge = x[0, 0] / (1 + 1e-4 / 5 * np.sum(x[0, :3] ** 2)) ** 0.75
    np.testing.assert_allclose(y[0, 0], edge)


def test_dropout_scales_kept_values_only_when_sampling():
    net = caffe_format.parse_prototxt(
        'input: "data"\nlayer { name: "d" type: "Dropout" bottom: "data" '
        'top: "data" dropout_param { dropout_ratio: 0.25 '
        "sample_weights_test: true } }\n")
    data = np.full((1, 1, 1, 2), 3.0)
    blobs, _ = oracle.forward(net, {}, data,
                              dropout_masks={"d": np.array([[[[1, 0]]]])})
    np.testing.assert_allclose(blobs["data"][0, 0, 0], [4.0, 0.0])


def test_prototxt_parser_reads_caffes_text_forms():
    net = caffe_format.parse_prototxt(
        'name: "n" # comment\ninput_dim: 1\ninput_dim: 3\n'
        'layer { name: "a#b" type: "Pooling"\n'
        "  pooling_param: { pool: MAX kernel_size: 2 } top: 'x' }\n"
        "layer { param { lr_mult: 1.0 } param { lr_mult: 2 } }\n")
    assert net["input_dim"] == [1, 3]
    first, second = net["layer"]
    assert first["name"] == ["a#b"] and first["top"] == ["x"]
    assert first["pooling_param"][0] == {"pool": ["MAX"], "kernel_size": [2]}
    assert [p["lr_mult"][0] for p in second["param"]] == [1.0, 2]
    for bad, where in (("layer { name: }", "line 1"), ("}", "line 1"),
                       ("layer {", "end of file")):
        with pytest.raises(caffe_format.CaffeFormatError, match=where):
            caffe_format.parse_prototxt(bad)


def test_caffemodel_round_trip_and_legacy_blob_shape(tmp_path):
    weights = np.arange(6, dtype=np.float32).reshape(2, 3, 1, 1)
    path = tmp_path / "m.caffemodel"
    path.write_bytes(caffe_format.caffemodel_bytes(
        [("conv", "Convolution", [weights, np.ones(2)]), ("relu", "ReLU", [])]))
    read = caffe_format.read_caffemodel(path)
    assert list(read) == ["conv"]
    np.testing.assert_array_equal(read["conv"][0], weights)
    net = caffe_format._net_parameter_class()()
    blob = net.layers.add(name="v1").blobs.add(num=1, channels=2, height=1,
                                               width=1)
    blob.data.extend([1.0, 2.0])  # the V1 form with num/channels/height/width
    path.write_bytes(net.SerializeToString())
    assert caffe_format.read_caffemodel(path)["v1"][0].shape == (1, 2, 1, 1)
