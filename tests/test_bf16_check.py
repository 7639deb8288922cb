"""The bf16 check: broken kernels faked (this CPU may compute bf16 correctly, or emulate
it), the verdict cached per machine and shape, and what a run does with it."""

import json

import pytest
import torch
from torch import nn

from spigan import bf16_check
from spigan.bf16_check import Verdict, check_bf16, checked_precision, network_shapes, run_check
from spigan.errors import SpiganError
from spigan.hardware import Precision, cpu_info

CPU = torch.device("cpu")


class _Broken(torch.autograd.Function):
    """Identity whose backward, in bf16 only, returns `how(grad)`: a kernel that is right
    in float32 and wrong in bf16, as native bf16 kernels were on a Zen 4 CPU."""

    how = staticmethod(lambda g: g * float("inf"))

    @staticmethod
    def forward(ctx, y):
        return y.clone()

    @staticmethod
    def backward(ctx, grad):
        return _Broken.how(grad) if grad.dtype == torch.bfloat16 else grad


class BrokenInBf16(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        return _Broken.apply(self.conv(x))


@pytest.fixture
def broken(monkeypatch):
    """Every network the check builds is BrokenInBf16; returns the list of names built."""
    built = []

    def build(cfg, name, imagenet=True):
        built.append(name)
        return BrokenInBf16()

    monkeypatch.setattr(bf16_check, "build_network", build)
    return built


def test_the_check_covers_every_call_of_an_iteration(tiny_config):
    cfg = tiny_config()  # spigan, batch 2, 32x32 crops
    assert network_shapes(cfg) == [("generator", (2, 3, 32, 32)), ("discriminator", (4, 3, 32, 32)),
                                   ("task", (4, 3, 32, 32)), ("task", (2, 3, 32, 32)),
                                   ("privileged", (4, 3, 32, 32)), ("privileged", (2, 3, 32, 32)),
                                   ("perceptual", (2, 3, 32, 32))]
    assert network_shapes(tiny_config("train.method=source_only")) == [("task", (2, 3, 32, 32))]
    assert [n for n, _ in network_shapes(tiny_config("train.method=pretrain"))] == ["task", "privileged",
                                                                                      "perceptual"]
    assert [n for n, _ in network_shapes(tiny_config("train.method=base"))] == ["generator", "discriminator",
                                                                                  "task", "task"]


@pytest.mark.parametrize("how, what", [(lambda g: g * float("inf"), "non-finite"),
                                       (lambda g: -g, "away from float32's")])
def test_broken_bf16_kernels_fail_the_check_naming_network_and_shape(tiny_config, broken, monkeypatch, how, what):
    monkeypatch.setattr(_Broken, "how", staticmethod(how))
    verdict = run_check(tiny_config(), CPU)
    assert not verdict.ok and verdict.detail.startswith("generator at input (2, 3, 32, 32): ") and what in verdict.detail


def test_the_real_networks_pass_where_bf16_is_emulated(tiny_config):
    """Emulated bf16 computes in float32 and rounds: it must pass, or the check cries wolf.
    (On a CPU with native bf16 either verdict is possible: that is what it is for.)"""
    verdict = run_check(tiny_config(), CPU)
    assert "%" in verdict.detail or not verdict.ok
    if not cpu_info().native_bf16:
        assert verdict.ok, verdict.detail


def test_the_check_leaves_the_random_streams_as_they_were(tiny_config):
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    run_check(tiny_config("train.method=source_only"), CPU)
    assert torch.equal(torch.rand(3), expected)


def test_the_verdict_is_cached_per_machine_and_shape(tiny_config, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(bf16_check, "run_check", lambda cfg, device: calls.append(1) or Verdict(True, "1.0% (task)"))
    cfg = tiny_config("train.method=source_only")
    assert check_bf16(cfg, CPU, tmp_path) == Verdict(True, "1.0% (task)")
    assert check_bf16(cfg, CPU, tmp_path).ok and len(calls) == 1
    check_bf16(tiny_config("train.method=source_only", "train.batch_size=3"), CPU, tmp_path)  # other shapes
    assert len(calls) == 2
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")  # other kernels
    check_bf16(cfg, CPU, tmp_path)
    assert len(calls) == 3
    (tmp_path / bf16_check.CACHE_FILE).write_text("{not json")  # a damaged cache: checked again
    assert check_bf16(cfg, CPU, tmp_path).ok and len(calls) == 4
    assert len(json.loads((tmp_path / bf16_check.CACHE_FILE).read_text())) == 1


def test_auto_falls_back_to_fp32_and_explicit_bf16_is_refused_in_one_line(tiny_config, broken, tmp_path):
    cfg = tiny_config(f"data.cache_dir={tmp_path}")  # a verdict cache of its own
    gpu_auto = Precision("auto", "bf16", "the GPU supports bfloat16")  # auto picks bf16 on GPUs only
    fallback = checked_precision(gpu_auto, cfg, CPU)
    assert fallback.used == "fp32" and "bf16 fails its check" in fallback.reason and "generator" in fallback.reason
    with pytest.raises(SpiganError) as refused:
        checked_precision(Precision("bf16", "bf16", "set in the config"), cfg, CPU)
    message = str(refused.value)
    assert "\n" not in message and message.startswith("train.precision=bf16: ") and "train.precision=fp32" in message
    assert checked_precision(Precision("fp32", "fp32", "set"), cfg, CPU).used == "fp32"


def test_bf16_that_passes_says_so(tiny_config, monkeypatch, tmp_path):
    monkeypatch.setattr(bf16_check, "run_check", lambda cfg, device: Verdict(True, "largest gradient error 3.0%"))
    p = checked_precision(Precision("bf16", "bf16", "set in the config"), tiny_config(f"data.cache_dir={tmp_path}"),
                          CPU)
    assert p.used == "bf16" and p.reason.endswith("largest gradient error 3.0%")


def test_a_run_asking_for_bf16_that_fails_stops_before_making_its_folder(tiny_config, broken, tmp_path):
    from spigan.train import train

    with pytest.raises(SpiganError, match="train.precision=bf16: bfloat16 does not compute"):
        train(tiny_config("train.precision=bf16", f"data.cache_dir={tmp_path / 'cache'}"), tmp_path / "run",
              progress=False)
    assert not (tmp_path / "run").exists()


def test_auto_on_a_cpu_runs_no_check(tiny_config, broken, tmp_path):
    from spigan.train import train

    results = train(tiny_config("train.precision=auto", "train.method=source_only", "train.iterations=1"),
                    tmp_path / "run", progress=False)
    assert results["precision"]["used"] == "fp32" and broken == []
