"""Direct-loop NumPy convolutions: the oracles of the conv layer tests."""

import numpy as np


def pad_fixed(x, kernel_size, rate):
    """Pads (B,H,W,C) by (k_eff-1)//2 at the start and the rest at the end."""
    total = kernel_size + (kernel_size - 1) * (rate - 1) - 1
    begin = total // 2
    return np.pad(x, ((0, 0), (begin, total - begin), (begin, total - begin),
                      (0, 0)))


def depthwise_conv(x, kernel, stride, rate):
    """x (B,H,W,C) padded, kernel (k,k,C,1) -> (B,Ho,Wo,C), VALID, direct loops."""
    k = kernel.shape[0]
    b, h, w, c = x.shape
    span = (k - 1) * rate + 1
    ho, wo = (h - span) // stride + 1, (w - span) // stride + 1
    out = np.zeros((b, ho, wo, c), np.float64)
    for i in range(ho):
        for j in range(wo):
            for di in range(k):
                for dj in range(k):
                    pixel = x[:, i * stride + di * rate, j * stride + dj * rate, :]
                    out[:, i, j, :] += pixel * kernel[di, dj, :, 0]
    return out


def conv(x, kernel, stride, rate):
    """x (B,H,W,Ci) padded, kernel (k,k,Ci,Co) -> (B,Ho,Wo,Co), VALID, direct loops."""
    k = kernel.shape[0]
    b, h, w, _ = x.shape
    span = (k - 1) * rate + 1
    ho, wo = (h - span) // stride + 1, (w - span) // stride + 1
    out = np.zeros((b, ho, wo, kernel.shape[-1]), np.float64)
    for i in range(ho):
        for j in range(wo):
            for di in range(k):
                for dj in range(k):
                    pixel = x[:, i * stride + di * rate, j * stride + dj * rate, :]
                    out[:, i, j, :] += pixel @ kernel[di, dj]
    return out


def batch_norm_inference(x, gamma, beta, mean, var, eps):
    """Batch norm with moving statistics."""
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def randomize_batch_norm(layer, rng):
    """Sets random gamma, beta, moving mean and moving variance on a BN layer."""
    c = layer.gamma.shape[0]
    values = [rng.uniform(0.5, 1.5, c), rng.normal(size=c),
              rng.normal(size=c), rng.uniform(0.5, 2.0, c)]
    layer.set_weights([v.astype(np.float32) for v in values])
    return values
