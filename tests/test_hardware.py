"""Precision chosen by the hardware, and the thread budget, on faked machines."""

import pytest
import torch

from spigan.config import Config, load_config
from spigan.errors import SpiganError
from spigan.hardware import CpuInfo, ThreadBudget, choose_precision, cpu_info

CPU = torch.device("cpu")
AVX2 = CpuInfo("AMD EPYC (Zen 3)", "AVX2", avx512_bf16=False, amx=False)
AVX512 = CpuInfo("Intel Xeon (Skylake)", "AVX512", avx512_bf16=False, amx=False)
AVX512_BF16 = CpuInfo("AMD EPYC (Zen 4)", "AVX512", avx512_bf16=True, amx=False)
AMX = CpuInfo("Intel Xeon (Sapphire Rapids)", "AVX512", avx512_bf16=True, amx=True)


@pytest.mark.parametrize("cpu", [AVX2, AVX512, AVX512_BF16, AMX])
def test_auto_is_fp32_on_every_cpu(cpu):
    # Native bf16 kernels gave these networks non-finite gradients on a Zen 4 CPU (issue 21):
    # bf16 on a CPU is opt-in, behind spigan.bf16_check, until a native CPU shows otherwise.
    p = choose_precision("auto", CPU, cpu=cpu)
    assert p.used == "fp32" and p.requested == "auto" and not p.warning
    assert cpu.model in p.reason
    assert ("opt-in" in p.reason) == cpu.native_bf16


def test_bf16_flags_do_not_count_when_torch_runs_avx2_kernels():
    # ATEN_CPU_CAPABILITY=avx2 on an AVX512-BF16 machine: PyTorch's own kernels emulate bf16.
    limited = CpuInfo("AMD EPYC (Zen 4)", "AVX2", avx512_bf16=True, amx=False)
    assert not limited.native_bf16
    assert choose_precision("auto", CPU, cpu=limited).used == "fp32"


def test_explicit_bf16_without_native_support_runs_with_a_warning():
    p = choose_precision("bf16", CPU, cpu=AVX2)
    assert p.used == "bf16"
    assert "emulates" in p.warning and AVX2.model in p.warning and "\n" not in p.warning
    assert not choose_precision("bf16", CPU, cpu=AVX512_BF16).warning
    assert not choose_precision("fp32", CPU, cpu=AVX2).warning


def test_fp16_stays_a_gpu_choice():
    with pytest.raises(SpiganError, match="fp16 needs a GPU"):
        choose_precision("fp16", CPU, cpu=AMX)
    cuda = torch.device("cuda")
    assert choose_precision("auto", cuda, cuda_bf16=True).used == "bf16"
    assert choose_precision("auto", cuda, cuda_bf16=False).used == "fp32"
    assert choose_precision("fp16", cuda, cuda_bf16=True).used == "fp16"
    with pytest.raises(SpiganError, match="not supported"):
        choose_precision("bf16", cuda, cuda_bf16=False)


def test_auto_is_the_default_in_every_shipped_config(tmp_path):
    from importlib import resources

    assert Config().train.precision == "auto"
    folder = resources.files("spigan") / "configs"
    names = [p.name for p in folder.iterdir() if p.name.endswith(".yaml")]
    assert "demo.yaml" in names and "sim2camvid.yaml" in names
    roots = [f"data.source_root={tmp_path}", f"data.target_root={tmp_path}"]
    for name in names:
        assert load_config(folder / name, roots).train.precision == "auto", name


def test_this_machine_is_described():
    info = cpu_info()
    assert info.model and info.capability
    assert info.model in info.describe()


class FakeLoad:
    """CPU seconds as /proc/stat and os.times() would report them, advanced by hand."""

    def __init__(self):
        self.busy = self.own = 0.0

    def run(self, seconds: float, own_cpus: float, other_cpus: float) -> None:
        self.own += seconds * own_cpus
        self.busy += seconds * (own_cpus + other_cpus)

    def __call__(self):
        return self.busy, self.own


def test_thread_budget_leaves_the_cpus_other_processes_use(monkeypatch):
    clock = {"t": 0.0}
    monkeypatch.setattr("spigan.hardware.time.monotonic", lambda: clock["t"])
    monkeypatch.setattr("spigan.hardware.time.sleep", lambda s: clock.__setitem__("t", clock["t"] + s))
    load = FakeLoad()
    before = torch.get_num_threads()
    try:
        budget = ThreadBudget(0, cpus=4, sample=load)
        assert budget.threads == 4 and torch.get_num_threads() == 4

        def interval(own, other, seconds=10.0):
            load.run(seconds, own, other)
            clock["t"] += seconds
            return budget.update()

        assert budget.start() == 4  # idle machine
        assert interval(own=3.2, other=0.8) == 3  # one busy process elsewhere
        assert torch.get_num_threads() == 3
        assert interval(own=2.0, other=2.0) == 2
        assert interval(own=1.0, other=3.4) == 1  # never below one thread
        assert interval(own=1.0, other=0.3) == 4  # the others are gone: all CPUs again
    finally:
        torch.set_num_threads(before)


def test_fixed_threads_never_change():
    before = torch.get_num_threads()
    load = FakeLoad()
    try:
        budget = ThreadBudget(1, cpus=4, sample=load)
        load.run(10, 1, 3)
        assert budget.start() == 1 and budget.update() == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_negative_threads_are_refused():
    with pytest.raises(SpiganError, match="train.threads"):
        load_config(None, ["train.threads=-1"])
