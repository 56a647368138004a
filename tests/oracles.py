"""NumPy oracles shared by the tests (naive formulas, float64)."""

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


def naive_encoding(x, codewords, scale):
    """EncNet's residual encoding (B, N, D) -> (B, K, D) from the full
    (B, N, K, D) residual tensor: r, softmax over K, sum over N."""
    residuals = x[:, :, None, :] - codewords[None, None]          # [B, N, K, D]
    return np.einsum("bnk,bnkd->bkd",
                     softmax(scale * np.sum(residuals ** 2, axis=-1)), residuals)


def multiscale_flip(logits_fn, images, scales):
    """TF1 DeepLab's multi-scale + left-right-flip inference: the mean over
    scales and mirrors of softmax(logits resized back to the input), images
    resized to `int((d - 1) * scale + 1)` per side, align-corners resizes.

    Args:
        logits_fn: (B, h, w, 3) float64 -> (B, h', w', C) logits.
        images: (B, H, W, 3).
        scales: input scales.

    Returns:
        (B, H, W, C) float64 probabilities.
    """
    _, h, w, _ = images.shape
    probabilities = []
    for scale in scales:
        size = (int((h - 1) * scale + 1), int((w - 1) * scale + 1))
        for mirror in (False, True):
            x = images[:, :, ::-1] if mirror else images
            x = resize_bilinear_align_corners(x, size) if scale != 1 else x
            p = softmax(resize_bilinear_align_corners(logits_fn(x), (h, w)))
            probabilities.append(p[:, :, ::-1] if mirror else p)
    return np.mean(probabilities, 0)
