"""Lookup tables from source label values (0..255) to project class ids.

Every table is an int16 array of 256 entries: `table[value]` is the class id
of a source value, 255 (= ignore) for values that are ignored on purpose
(void, unlabelled, 255 borders) and `INVALID` (-1) for values that should
never occur (the builders stop or, if asked, map them to 255).
"""

import numpy as np

IGNORE = 255
INVALID = -1

# Cityscapes labelIds -> the 19 trainIds (cityscapesScripts labels.py).
_CITYSCAPES_TRAIN_IDS = {7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6,
                         20: 7, 21: 8, 22: 9, 23: 10, 24: 11, 25: 12, 26: 13,
                         27: 14, 28: 15, 31: 16, 32: 17, 33: 18}


def _table():
    table = np.full(256, INVALID, np.int16)
    table[IGNORE] = IGNORE
    return table


def identity_map(num_classes, void=None):
    """Ids 0..num_classes-1 kept, 255 and the optional `void` id -> 255.

    Args:
        num_classes: number of classes.
        void: the dataset's void id (CamVid: 11), or None.

    Returns:
        int16 (256,) lookup table.
    """
    table = _table()
    table[:num_classes] = np.arange(num_classes)
    if void is not None:
        table[void] = IGNORE
    return table


def shift_map(num_classes):
    """0 -> 255 and c -> c-1 for c in 1..num_classes (ADE20K, Context)."""
    table = _table()
    table[0] = IGNORE
    table[1:num_classes + 1] = np.arange(num_classes)
    return table


def cityscapes_map():
    """Cityscapes labelIds 0..33 -> trainIds 0..18, the other ids -> 255."""
    table = _table()
    table[:34] = IGNORE
    for label_id, train_id in _CITYSCAPES_TRAIN_IDS.items():
        table[label_id] = train_id
    return table


def oxford_pet_map():
    """Oxford-IIIT Pet trimap: 1 pet -> 1, 2 background -> 0, 3 border -> 255."""
    table = _table()
    table[1], table[2], table[3] = 1, 0, IGNORE
    return table


def apply_map(table, label, invalid_to_ignore=True):
    """Maps a source label array through a table.

    Args:
        table: int16 (256,) lookup table.
        label: uint8 array of source values.
        invalid_to_ignore: map INVALID values to 255 (else keep -1).

    Returns:
        (mapped int16 array, number of invalid pixels).
    """
    mapped = table[label]
    invalid = mapped == INVALID
    count = int(np.count_nonzero(invalid))
    if invalid_to_ignore and count:
        mapped = np.where(invalid, IGNORE, mapped).astype(np.int16)
    return mapped, count
