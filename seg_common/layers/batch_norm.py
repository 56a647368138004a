"""The one batch-normalisation factory of the project."""

import keras


def batch_norm(momentum=0.99, epsilon=1e-3, axis=-1, name=None, **kwargs):
    """Returns a `keras.layers.BatchNormalization` with cross-replica statistics.

    `synchronized=True` makes the layer all-reduce its batch moments across the
    replicas of a `tf.distribute` strategy, so a global batch of 16 split over
    4 replicas normalises exactly like one replica holding all 16 examples.
    With a single replica it behaves like plain batch norm.

    Args:
        momentum: moving-average decay (TF1 `decay`; PyTorch `1 - momentum`).
        epsilon: added to the variance.
        axis: the feature axis (`1` for the (B,K,D) codeword BN of EncNet).
        name: layer name.
        **kwargs: any other `BatchNormalization` argument (initialisers, ...).

    Returns:
        A `keras.layers.BatchNormalization` layer.
    """
    return keras.layers.BatchNormalization(
        axis=axis, momentum=momentum, epsilon=epsilon, synchronized=True,
        name=name, **kwargs)
