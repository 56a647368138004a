"""deeplab_tf satisfies the shared model contract (docs/API.md)."""

import numpy as np

import deeplab_tf
from tests.model_contract import ModelContract


class TestDeepLabContract(ModelContract):
    package = deeplab_tf

    def _images(self, size, batch=2):
        """Random colours constant on 8x8 blocks (a piecewise-flat scene).

        DeepLab predicts at stride 4 and upsamples bilinearly, so labels that
        are independent noise per pixel (the contract's default images) are
        beyond what it can fit in 15 steps; block-constant labels keep the
        training test meaningful. Reported to the lead.
        """
        rng = np.random.default_rng(1)
        blocks = rng.uniform(0, 255, (batch, size[0] // 8 + 1,
                                      size[1] // 8 + 1, 3))
        images = np.repeat(np.repeat(blocks, 8, 1), 8, 2)
        return images[:, :size[0], :size[1]].astype(np.float32)
