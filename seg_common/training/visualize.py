"""Pictures of labels, uncertainty and scores with NumPy + OpenCV (RGB uint8).
"""

import cv2
import numpy as np


def colorize(labels, colormap):
    """Paints class ids with a colour map; ids outside it (ignore) are black.

    Args:
        labels: int array (..., H, W).
        colormap: uint8 array (C, 3) RGB.

    Returns:
        uint8 array (..., H, W, 3).
    """
    colormap = np.concatenate(
        [np.asarray(colormap, np.uint8), np.zeros((1, 3), np.uint8)])
    labels = np.asarray(labels).astype(np.int64)
    labels = np.where((labels >= 0) & (labels < len(colormap) - 1), labels,
                      len(colormap) - 1)
    return colormap[labels]


def overlay(image, colors, alpha=0.5):
    """Blends a colour label map over an RGB image (both (H, W, 3) uint8)."""
    blend = (1 - alpha) * image.astype(np.float32) + alpha * colors
    return np.clip(np.round(blend), 0, 255).astype(np.uint8)


def heatmap(values, max_value=None):
    """Uncertainty map -> RGB heat map over [0, max_value] (default: max).

    Args:
        values: float array (H, W).
        max_value: value drawn at full intensity.

    Returns:
        uint8 (H, W, 3): the inverted "bone" map (white = certain, dark =
        uncertain), as the Bayesian SegNet tutorial shows it.
    """
    values = np.asarray(values, np.float32)
    top = float(values.max()) if max_value is None else float(max_value)
    scaled = np.clip(values / top, 0, 1) if top > 0 else np.zeros_like(values)
    gray = np.round(255 * (1 - scaled)).astype(np.uint8)
    return cv2.cvtColor(cv2.applyColorMap(gray, cv2.COLORMAP_BONE),
                        cv2.COLOR_BGR2RGB)


def confusion_image(matrix, class_names, cell=36):
    """Row-normalised confusion matrix as a labelled picture.

    Args:
        matrix: (C, C) counts, rows = ground truth.
        class_names: C names (drawn on the left).
        cell: pixel size of one cell; cells show their percentage when
            there are at most 25 classes.

    Returns:
        uint8 RGB image.
    """
    matrix = np.asarray(matrix, np.float64)
    rows = matrix.sum(1, keepdims=True)
    norm = np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0)
    size = len(class_names) * cell
    cells = cv2.resize(np.round(255 * norm).astype(np.uint8), (size, size),
                       interpolation=cv2.INTER_NEAREST)
    grid = cv2.cvtColor(cv2.applyColorMap(cells, cv2.COLORMAP_VIRIDIS),
                        cv2.COLOR_BGR2RGB)
    if len(class_names) <= 25:
        for (i, j), value in np.ndenumerate(norm):
            colour = (0, 0, 0) if value > 0.6 else (255, 255, 255)
            origin = (j * cell + 4, i * cell + cell // 2 + 4)
            _text(grid, f"{100 * value:.0f}", origin, colour)
    title = "rows: ground truth, columns: prediction (% of row)"
    margin = 8 * max(len(n) for n in class_names) + 10
    canvas = np.full((size + 30, max(size + margin, 7 * len(title)), 3), 255,
                     np.uint8)
    canvas[30:, margin:margin + size] = grid
    _text(canvas, title, (4, 18))
    for i, name in enumerate(class_names):
        _text(canvas, name, (2, 30 + i * cell + cell // 2 + 4))
    return canvas


def iou_chart(per_class_iou, class_names, width=300, bar=20):
    """Horizontal bar chart of per-class IoU (NaN drawn as "n/a").

    Returns:
        uint8 RGB image.
    """
    margin = 8 * max(len(n) for n in class_names) + 10
    canvas = np.full((bar * len(class_names) + 10, margin + width + 60, 3),
                     255, np.uint8)
    for i, (name, iou) in enumerate(zip(class_names, per_class_iou)):
        top = 5 + i * bar
        _text(canvas, name, (2, top + bar - 6))
        if iou is None or np.isnan(iou):
            _text(canvas, "n/a", (margin, top + bar - 6))
            continue
        right = margin + int(round(width * iou))
        cv2.rectangle(canvas, (margin, top + 2), (right, top + bar - 3),
                      (31, 119, 180), thickness=-1)
        _text(canvas, f"{iou:.3f}", (right + 4, top + bar - 6))
    return canvas


def _text(canvas, text, origin, colour=(0, 0, 0)):
    cv2.putText(canvas, text, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour,
                1, cv2.LINE_AA)


def write_rgb(path, image):
    """Writes an RGB uint8 image with OpenCV (which expects BGR)."""
    if not cv2.imwrite(path, np.ascontiguousarray(image[..., ::-1])):
        raise OSError(f"Could not write {path}")
