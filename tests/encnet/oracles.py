"""NumPy oracles of the EncNet pieces (naive formulas, float64)."""

import numpy as np

from tests.oracles import naive_encoding


def context_encoding(x, codewords, scale, aggregation, epsilon=1e-5):
    """Encoding -> training-mode BN over K (gamma 1, beta 0) -> ReLU -> sum/mean."""
    encoded = naive_encoding(x, codewords, scale)                 # [B, K, D]
    mean = encoded.mean(axis=(0, 2), keepdims=True)
    var = encoded.var(axis=(0, 2), keepdims=True)
    normed = np.maximum((encoded - mean) / np.sqrt(var + epsilon), 0.0)
    return normed.sum(axis=1) if aggregation == "sum" else normed.mean(axis=1)
