"""A NumPy forward pass of caffe-segnet deploy nets: the oracle for the
Caffe SegNet converter.

Written from the layer sources of `alexgkendall/caffe-segnet`
(`src/caffe/layers/{conv,bn,relu,lrn,pooling,upsample,dropout,softmax}_layer
.cpp`), independently of the Keras model: it runs a parsed `.prototxt` with
`.caffemodel` blobs layer by layer in Caffe's NCHW layout, in float64.

Caffe's rules kept here:
- Pooling MAX: output size `ceil((H + 2 pad - k) / s) + 1` (minus one if the
  last window would start in the padding), windows clipped at the border,
  the first maximum in raster order wins (strict `>` from -FLT_MAX); the
  mask top holds the flat index `h * W + w` within the channel.
- Upsample: a zero (N, C, upsample_h, upsample_w) blob, or `H * scale -
  pad_out_h` when only `scale` is given, each value written at its mask
  index.
- BN (caffe-segnet's own layer) in INFERENCE mode: `scale * x + shift`, the
  statistics already folded in by `compute_bn_statistics.py`.
- Dropout: identity at test time unless `sample_weights_test`; then
  `x * mask / (1 - ratio)` with the mask given by the caller (Caffe draws
  it from its RNG, which no other framework reproduces).
- LRN ACROSS_CHANNELS: `x / (k + alpha / size * sum x^2)^beta` over the
  `size` channels centred on each (zero beyond the ends).

Max-pooling near-ties: float64 here and float32 elsewhere can pick
different maxima of windows whose values agree to ~1e-6. `forward` takes the
other side's choice (`pool_masks`) wherever it is within `tie_tolerance` of
the maximum, and counts those windows.
"""

import numpy as np

from bayesian_segnet_tf.caffe_format import field

_FLT_MAX = np.finfo(np.float32).max
_DATA_TYPES = ("DenseImageData", "ImageData", "Data", "Input")


def _conv(x, weights, bias, pad):
    """Caffe Convolution, stride 1: (N, C, H, W) -> (N, O, H', W')."""
    o, _, kh, kw = weights.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    h, w = xp.shape[2] - kh + 1, xp.shape[3] - kw + 1
    out = np.zeros((x.shape[0], o, h, w))
    for i in range(kh):
        for j in range(kw):
            out += np.einsum("nchw,oc->nohw", xp[:, :, i:i + h, j:j + w],
                             weights[:, :, i, j])
    return out + bias.reshape(1, o, 1, 1)


def _lrn(x, size, alpha, beta, k):
    """Caffe LRN ACROSS_CHANNELS."""
    half = (size - 1) // 2
    squares = np.pad(x ** 2, ((0, 0), (half, half), (0, 0), (0, 0)))
    window = sum(squares[:, i:i + x.shape[1]] for i in range(size))
    return x * (k + alpha / size * window) ** -beta


def _pooled_size(size, kernel, stride, pad):
    pooled = int(np.ceil((size + 2 * pad - kernel) / stride)) + 1
    if pad and (pooled - 1) * stride >= size + pad:
        pooled -= 1
    return pooled


def max_pool(x, kernel, stride, pad=0):
    """Caffe Pooling MAX with its mask top.

    Args:
        x: (N, C, H, W).
        kernel, stride, pad: the pooling_param values.

    Returns:
        (values, mask): (N, C, H', W') each; mask holds `h * W + w`.
    """
    n, c, h, w = x.shape
    ph, pw = (_pooled_size(s, kernel, stride, pad) for s in (h, w))
    span_h, span_w = (ph - 1) * stride + kernel, (pw - 1) * stride + kernel
    xp = np.full((n, c, span_h, span_w), -np.inf)
    rows, cols = min(h, span_h - pad), min(w, span_w - pad)
    xp[:, :, pad:pad + rows, pad:pad + cols] = x[:, :, :rows, :cols]
    best = np.full((n, c, ph, pw), -_FLT_MAX)
    mask = np.full((n, c, ph, pw), -1, np.int64)
    oy = np.arange(ph)[:, None] * stride - pad
    ox = np.arange(pw)[None, :] * stride - pad
    for i in range(kernel):  # raster order inside the window
        for j in range(kernel):
            cand = xp[:, :, i:i + (ph - 1) * stride + 1:stride,
                      j:j + (pw - 1) * stride + 1:stride]
            better = cand > best
            best = np.where(better, cand, best)
            mask = np.where(better, (oy + i) * w + (ox + j), mask)
    return best, mask


def _hold_ties(x, values, mask, other_mask, tolerance):
    """Takes `other_mask` where it points at a value within `tolerance`
    (relative) of the window maximum. Returns (values, mask, count)."""
    flat = x.reshape(x.shape[0], x.shape[1], -1)
    other = np.take_along_axis(
        flat, other_mask.reshape(*other_mask.shape[:2], -1), axis=2).reshape(
            values.shape)
    near = (other_mask != mask) & (
        np.abs(other - values) <= tolerance * np.maximum(np.abs(values), 1.0))
    return (np.where(near, other, values), np.where(near, other_mask, mask),
            int(near.sum()))


def unpool(values, mask, height, width):
    """Caffe Upsample: (N, C, h, w) values at their mask indices of a zero
    (N, C, height, width) blob."""
    n, c = values.shape[:2]
    if mask.max() >= height * width:
        raise ValueError(f"upsample index {mask.max()} out of range for "
                         f"{height}x{width}")
    out = np.zeros((n, c, height * width))
    np.put_along_axis(out, mask.reshape(n, c, -1),
                      values.reshape(n, c, -1), axis=2)
    return out.reshape(n, c, height, width)


def _upsample_size(param, h, w):
    if field(param, "upsample_h"):
        return field(param, "upsample_h"), field(param, "upsample_w")
    scale_h = field(param, "scale_h", field(param, "scale", 2))
    scale_w = field(param, "scale_w", field(param, "scale", 2))
    return (h * scale_h - int(field(param, "pad_out_h", False)),
            w * scale_w - int(field(param, "pad_out_w", False)))


def _softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def forward(net, weights, data, dropout_masks=None, pool_masks=None,
            tie_tolerance=1e-5):
    """Runs a parsed deploy prototxt.

    Args:
        net: `caffe_format.parse_prototxt` output.
        weights: layer name -> blobs (`caffe_format.read_caffemodel`).
        data: (N, 3, H, W) BGR 0..255, the `data` blob.
        dropout_masks: Dropout layer name -> 0/1 array of its blob's shape,
            for the layers with `sample_weights_test` (all of them needed).
        pool_masks: Pooling layer name -> another implementation's mask
            (same layout) to take at near-ties; None: Caffe's own choice.
        tie_tolerance: relative closeness counted as a near-tie.

    Returns:
        (blobs, held): blob name -> float64 array after the whole pass
        (in-place layers leave their last value), and the number of pooling
        windows where `pool_masks` was taken.
    """
    blobs, held = {}, 0
    layers = net.get("layer", [])
    inputs = net.get("input") or [p["top"][0] for p in layers
                                  if field(p, "type") in _DATA_TYPES][:1]
    blobs[inputs[0]] = np.asarray(data, np.float64)
    for p in layers:
        name, kind = field(p, "name"), field(p, "type")
        if kind in _DATA_TYPES or kind in ("SoftmaxWithLoss", "Accuracy"):
            continue
        x = blobs[p["bottom"][0]]
        tops = p["top"]
        if kind == "Convolution":
            param = field(p, "convolution_param")
            blob = weights[name]
            y = _conv(x, blob[0].astype(np.float64), blob[1].reshape(-1),
                      field(param, "pad", 0))
        elif kind == "BN":
            if field(field(p, "bn_param", {}), "bn_mode") != "INFERENCE":
                raise ValueError(f"{name}: only bn_mode INFERENCE is modelled")
            scale, shift = (b.reshape(1, -1, 1, 1) for b in weights[name])
            y = x * scale + shift
        elif kind == "ReLU":
            y = np.maximum(x, 0.0)
        elif kind == "LRN":
            param = field(p, "lrn_param", {})
            y = _lrn(x, field(param, "local_size", 5),
                     field(param, "alpha", 1.0), field(param, "beta", 0.75),
                     field(param, "k", 1.0))
        elif kind == "Pooling":
            param = field(p, "pooling_param")
            y, mask = max_pool(x, field(param, "kernel_size"),
                               field(param, "stride", 1),
                               field(param, "pad", 0))
            if pool_masks and name in pool_masks:
                y, mask, count = _hold_ties(x, y, mask, pool_masks[name],
                                            tie_tolerance)
                held += count
            if len(tops) > 1:
                blobs[tops[1]] = mask
        elif kind == "Upsample":
            size = _upsample_size(field(p, "upsample_param", {}),
                                  *x.shape[2:])
            y = unpool(x, blobs[p["bottom"][1]], *size)
        elif kind == "Dropout":
            param = field(p, "dropout_param", {})
            y = x
            if field(param, "sample_weights_test", False):
                ratio = field(param, "dropout_ratio", 0.5)
                y = x * dropout_masks[name] / (1.0 - ratio)
        elif kind == "Softmax":
            y = _softmax(x)
        elif kind == "ArgMax":
            y = np.argmax(x, axis=1)[:, None]
        else:
            raise ValueError(f"{name}: layer type {kind} is not modelled")
        blobs[tops[0]] = y
    return blobs, held
