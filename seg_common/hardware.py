"""What the machine computes fast: CPU model, vector/matrix extensions, oneDNN.

bfloat16 is 2-5x faster than float32 on CPUs with AMX or AVX512-BF16 and
about 10x slower where TensorFlow has to emulate it (AVX2-only CPUs), so
the precision a user gets should follow the CPU: `resolve_precision("auto")`
picks bfloat16 exactly where it is native.

Example:
>>> describe_cpu()["extensions"]        # e.g. ['AVX2', 'AVX-512', 'AMX']
>>> resolve_precision("auto")          # "bfloat16" on AMX, else "float32"
"""

import contextlib
import functools
import os
import platform

import keras
import tensorflow as tf

PRECISIONS = ("auto", "float32", "bfloat16")
# /proc/cpuinfo flag -> the name users know, in report order.
_EXTENSIONS = (("avx2", "AVX2"), ("avx512f", "AVX-512"),
               ("avx512_bf16", "AVX512-BF16"), ("amx_bf16", "AMX-BF16"))
_NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@functools.lru_cache(maxsize=None)
def _cpuinfo():
    """(model name, set of flags) of the first CPU in /proc/cpuinfo."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:   # not Linux: no flags known
        pass
    name = (fields.get("model name") or platform.processor()
            or platform.machine())
    return name, frozenset(fields.get("flags", "").split())


def onednn_enabled():
    """Whether TensorFlow runs its oneDNN kernels in this process."""
    try:
        from tensorflow.python.util import _pywrap_util_port
        return bool(_pywrap_util_port.IsMklEnabled())
    except (ImportError, AttributeError):
        return os.environ.get("TF_ENABLE_ONEDNN_OPTS", "") == "1"


def describe_cpu():
    """The CPU and what TensorFlow makes of it.

    Returns:
        dict: "model" (str), "extensions" (list of "AVX2", "AVX-512",
        "AVX512-BF16", "AMX-BF16" present), "native_bfloat16" (bool),
        "onednn" (bool), "gpus" (int).
    """
    name, flags = _cpuinfo()
    return {"model": name,
            "extensions": [label for flag, label in _EXTENSIONS
                           if flag in flags],
            "native_bfloat16": native_bfloat16(),
            "onednn": onednn_enabled(),
            "gpus": len(tf.config.list_physical_devices("GPU"))}


def native_bfloat16():
    """True where bfloat16 arithmetic is native: a GPU TensorFlow can use
    with bf16 (compute capability >= 8.0), or a CPU with AMX-BF16 or
    AVX512-BF16."""
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        if details.get("compute_capability", (0, 0)) >= (8, 0):
            return True
    _, flags = _cpuinfo()
    return any(flag in flags for flag in _NATIVE_BF16_FLAGS)


def resolve_precision(precision="auto", environ=os.environ):
    """"auto" -> the environment's SEG_PRECISION (float32 / bfloat16) if set,
    else "bfloat16" where native (see `native_bfloat16`), else "float32";
    "float32"/"bfloat16" pass through.

    Raises:
        ValueError: `precision` or SEG_PRECISION is not a precision.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; "
                         f"got {precision!r}.")
    if precision != "auto":
        return precision
    forced = environ.get("SEG_PRECISION", "auto")
    if forced not in PRECISIONS:
        raise ValueError(f"environment variable SEG_PRECISION={forced} must "
                         f"be one of {', '.join(PRECISIONS)}.")
    if forced != "auto":
        return forced
    return "bfloat16" if native_bfloat16() else "float32"


def training_policy(flag, environ=os.environ):
    """A `--mixed_precision` value in use: "auto" -> "mixed_bfloat16" where
    bfloat16 is native, else "none" (float32); `SEG_PRECISION` in
    `environ` (float32 / bfloat16) decides auto instead; other values pass
    through."""
    if flag != "auto":
        return flag
    precision = resolve_precision("auto", environ)
    return "mixed_bfloat16" if precision == "bfloat16" else "none"


def dtype_policy(precision):
    """The Keras dtype policy of a resolved precision ("mixed_bfloat16" for
    bfloat16: variables stay float32)."""
    return {"float32": "float32",
            "bfloat16": "mixed_bfloat16"}[resolve_precision(precision)]


@contextlib.contextmanager
def precision_scope(precision):
    """Builds layers under `precision`'s dtype policy inside the block
    (the global Keras policy is restored afterwards)."""
    previous = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy(dtype_policy(precision))
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy(previous)
