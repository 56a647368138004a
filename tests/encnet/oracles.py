"""NumPy oracles of the EncNet pieces (naive formulas, float64)."""

import numpy as np


def naive_encoding(x, codewords, scale):
    """(B, N, D) -> (B, K, D) from the full (B, N, K, D) residual tensor."""
    residuals = x[:, :, None, :] - codewords[None, None]          # [B, N, K, D]
    logits = scale * np.sum(residuals ** 2, axis=-1)              # [B, N, K]
    logits -= logits.max(axis=-1, keepdims=True)
    assign = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return np.einsum("bnk,bnkd->bkd", assign, residuals)


def context_encoding(x, codewords, scale, aggregation, epsilon=1e-5):
    """Encoding -> training-mode BN over K (gamma 1, beta 0) -> ReLU -> sum/mean."""
    encoded = naive_encoding(x, codewords, scale)                 # [B, K, D]
    mean = encoded.mean(axis=(0, 2), keepdims=True)
    var = encoded.var(axis=(0, 2), keepdims=True)
    normed = np.maximum((encoded - mean) / np.sqrt(var + epsilon), 0.0)
    return normed.sum(axis=1) if aggregation == "sum" else normed.mean(axis=1)


def resize_bilinear_align_corners(x, out_h, out_w):
    """(B, h, w, C) -> (B, out_h, out_w, C), corners aligned (PyTorch)."""
    _, h, w, _ = x.shape

    def coords(n_in, n_out):
        pos = np.arange(n_out) * (n_in - 1) / max(n_out - 1, 1)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, pos - lo

    y0, y1, fy = coords(h, out_h)
    x0, x1, fx = coords(w, out_w)
    top = x[:, y0][:, :, x0] * (1 - fx)[:, None] + x[:, y0][:, :, x1] * fx[:, None]
    bottom = x[:, y1][:, :, x0] * (1 - fx)[:, None] + x[:, y1][:, :, x1] * fx[:, None]
    return top * (1 - fy)[:, None, None] + bottom * fy[:, None, None]
