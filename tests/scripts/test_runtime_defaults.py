"""The scripts run TensorFlow's oneDNN kernels unless the environment says no.

Oracle: oneDNN's own verbose log. With the oneDNN graph rewrites on, a
convolution executes as a oneDNN `convolution` primitive; with them off,
TensorFlow's Eigen convolution only calls oneDNN's `gemm_api`.
"""

import os
import subprocess
import sys

import pytest

from _scripts import ROOT

_CONV_AFTER_COMMON = """
import sys
sys.path.insert(0, {scripts!r})
import _common  # noqa: F401
import tensorflow as tf
tf.nn.conv2d(tf.ones((1, 16, 16, 8)), tf.ones((3, 3, 8, 8)), 1, "SAME")
"""


def _primitives(onednn_setting):
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    env.update(ONEDNN_VERBOSE="1", TF_CPP_MIN_LOG_LEVEL="2")
    if onednn_setting is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = onednn_setting
    code = _CONV_AFTER_COMMON.format(scripts=os.path.join(ROOT, "scripts"))
    result = subprocess.run([sys.executable, "-c", code], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            timeout=300, check=True)
    return {line.split(",")[5] for line in result.stdout.splitlines()
            if line.startswith("onednn_verbose,") and ",exec," in line}


@pytest.mark.parametrize("setting, want", [(None, "convolution"),
                                           ("0", "gemm_api")])
def test_scripts_enable_onednn_kernels_unless_the_user_disables_them(
        setting, want):
    primitives = _primitives(setting)
    assert want in primitives, primitives
    assert ({"convolution", "gemm_api"} - {want}).isdisjoint(primitives)
