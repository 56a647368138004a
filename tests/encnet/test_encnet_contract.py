"""EncNet satisfies the shared model contract (tests/model_contract.py)."""

import encnet_tf
from tests.model_contract import ModelContract


class TestEncNet(ModelContract):
    package = encnet_tf
