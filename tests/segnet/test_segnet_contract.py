"""The shared model contract (tests/model_contract.py) for bayesian_segnet_tf."""

import bayesian_segnet_tf
from tests.model_contract import ModelContract


class TestSegNetContract(ModelContract):
    package = bayesian_segnet_tf
