"""Test-session setup: two logical CPU devices, quiet TF logs, seeded numpy."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Scripts default to --precision=auto (bfloat16 on AMX / AVX512-BF16 CPUs);
# the tests compare with float32 oracles, so they pin float32 unless asked.
os.environ.setdefault("SEG_PRECISION", "float32")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

# Split the CPU into two logical devices before TF initialises, so that
# MirroredStrategy tests can run two replicas on a one-CPU machine.
_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    _cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)


@pytest.fixture
def rng():
    """A seeded NumPy generator."""
    return np.random.default_rng(0)
