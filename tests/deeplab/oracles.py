"""NumPy oracles for the DeepLab tests."""

import numpy as np


def resize_bilinear_align_corners(x, size):
    """TF1 `resize_bilinear(align_corners=True)` of (B, H, W, C) by direct loops."""
    b, h, w, c = x.shape
    out_h, out_w = size
    out = np.zeros((b, out_h, out_w, c), np.float64)
    for i in range(out_h):
        y = i * (h - 1) / (out_h - 1) if out_h > 1 else 0.0
        y0 = int(np.floor(y))
        y1, dy = min(y0 + 1, h - 1), y - y0
        for j in range(out_w):
            xx = j * (w - 1) / (out_w - 1) if out_w > 1 else 0.0
            x0 = int(np.floor(xx))
            x1, dx = min(x0 + 1, w - 1), xx - x0
            out[:, i, j] = ((1 - dy) * (1 - dx) * x[:, y0, x0]
                            + (1 - dy) * dx * x[:, y0, x1]
                            + dy * (1 - dx) * x[:, y1, x0]
                            + dy * dx * x[:, y1, x1])
    return out


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)
