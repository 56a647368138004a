"""seg_common.hardware: precision follows the CPU's native arithmetic."""

import pytest

from seg_common import hardware

EPYC = ("AMD EPYC 7B13", frozenset({"sse2", "avx", "avx2", "fma"}))
XEON = ("Intel(R) Xeon(R) Platinum 8481C", frozenset(
    {"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"}))
COOPER = ("Intel(R) Xeon(R) 8380H", frozenset(
    {"avx2", "avx512f", "avx512_bf16"}))


@pytest.fixture
def cpu(monkeypatch):
    """Pretends to run on `info`'s CPU (and without SEG_PRECISION, which the
    test session sets)."""
    monkeypatch.delenv("SEG_PRECISION", raising=False)

    def use(info):
        monkeypatch.setattr(hardware, "_cpuinfo", lambda: info)
    return use


@pytest.mark.parametrize("info, want", [(EPYC, "float32"),
                                        (XEON, "bfloat16"),
                                        (COOPER, "bfloat16")])
def test_auto_picks_bfloat16_only_where_native(cpu, info, want):
    cpu(info)
    assert hardware.resolve_precision("auto") == want
    assert hardware.dtype_policy("auto") == (
        "mixed_bfloat16" if want == "bfloat16" else "float32")


def test_forced_precisions_pass_through(cpu):
    cpu(EPYC)
    assert hardware.resolve_precision("bfloat16") == "bfloat16"
    cpu(XEON)
    assert hardware.resolve_precision("float32") == "float32"


def test_seg_precision_decides_auto(cpu):
    cpu(XEON)
    assert hardware.resolve_precision("auto", {"SEG_PRECISION": "float32"}) \
        == "float32"
    cpu(EPYC)
    assert hardware.resolve_precision("auto", {"SEG_PRECISION": "bfloat16"}) \
        == "bfloat16"
    with pytest.raises(ValueError, match="SEG_PRECISION=fp16"):
        hardware.resolve_precision("auto", {"SEG_PRECISION": "fp16"})


def test_bad_precision_names_the_choices():
    with pytest.raises(ValueError, match="auto, float32, bfloat16"):
        hardware.resolve_precision("fp16")


def test_describe_cpu_names_the_extensions(cpu):
    cpu(XEON)
    info = hardware.describe_cpu()
    assert info["model"] == XEON[0]
    assert info["extensions"] == ["AVX2", "AVX-512", "AVX512-BF16", "AMX-BF16"]
    cpu(EPYC)
    assert hardware.describe_cpu()["extensions"] == ["AVX2"]


def test_reads_this_machines_cpuinfo():
    name, flags = hardware._cpuinfo()
    assert name
    with open("/proc/cpuinfo") as f:
        text = f.read()
    assert ("avx2" in flags) == (" avx2 " in text)
