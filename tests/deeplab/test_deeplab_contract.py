"""deeplab_tf satisfies the shared model contract (docs/API.md)."""

import deeplab_tf
from tests.model_contract import ModelContract


class TestDeepLabContract(ModelContract):
    package = deeplab_tf
