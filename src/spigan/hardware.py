"""What the machine can do fast: the CPU's model and features, the precision to train in,
and how many threads to use.

bfloat16 is fast only where the hardware computes it: on a GPU that supports it, and on a
CPU with AVX512-BF16 or AMX. Elsewhere (AVX2-only CPUs: most laptops and many cloud
machines) autocast emulates it and a training step is several times slower than in
float32. And where a CPU computes it natively, its kernels have been seen to give wrong
(non-finite) gradients for these networks (issue 21), so `train.precision: auto` is fp32 on
every CPU and bf16 on a GPU that supports it; bf16 on a CPU is opt-in. Wherever a run is to
train in bf16, spigan.bf16_check first checks it against fp32 on the run's own shapes.

Threads: with all of a machine's cores in one OpenMP team, a single busy process elsewhere
stalls every parallel region (a team member waits for a core), and a 2-core run became 4x
slower in our measurement (docs/PERFORMANCE.md). `ThreadBudget` keeps the team at the
number of CPUs other processes leave free.
"""

from __future__ import annotations

import math
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from spigan.cpus import check_memory, usable_cpus
from spigan.errors import SpiganError

if TYPE_CHECKING:
    from spigan.config import Config

PRECISIONS = ("auto", "fp32", "bf16", "fp16", "fp64")


@dataclass(frozen=True)
class CpuInfo:
    """The CPU as PyTorch sees it.

    Attributes:
        model: the model name (`lscpu`'s "Model name").
        capability: the vector instruction level of PyTorch's own kernels
            (`torch.backends.cpu.get_cpu_capability()`: "AVX2", "AVX512", ...).
        avx512_bf16: the CPU has AVX512-BF16 instructions.
        amx: the CPU has AMX tiles (Sapphire Rapids and later), which compute bf16 natively.
    """

    model: str
    capability: str
    avx512_bf16: bool
    amx: bool

    @property
    def native_bf16(self) -> bool:
        # PyTorch's kernels must also run at the AVX512 level: ATEN_CPU_CAPABILITY=avx2 on
        # such a CPU brings back the emulated path for everything outside oneDNN.
        return (self.avx512_bf16 or self.amx) and self.capability.upper().startswith("AVX512")

    def describe(self) -> str:
        native = "native bf16" if self.native_bf16 else "no native bf16"
        flags = [name for name, on in (("avx512_bf16", self.avx512_bf16), ("amx", self.amx)) if on]
        flags_text = ", ".join(flags) or "no AVX512-BF16/AMX"
        return f"{self.model} (PyTorch kernels: {self.capability}; {flags_text}: {native})"


def cpuinfo_fields() -> tuple[str, set[str]]:
    """The model name and the flags of the first processor in /proc/cpuinfo (Linux)."""
    model, flags = "", set()
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return model, flags
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
            model = value.strip()
        elif key == "flags" and not flags:
            flags = set(value.split())
        if model and flags:
            break
    return model, flags


def cpu_info() -> CpuInfo:
    """Reads the CPU's features through PyTorch (cpuinfo), falling back on /proc/cpuinfo."""
    model, flags = cpuinfo_fields()
    probe = getattr(torch, "cpu", None)

    def feature(torch_name: str, *flag_names: str) -> bool:
        check = getattr(probe, torch_name, None)
        if check is not None:
            try:
                return bool(check())
            except RuntimeError:
                pass
        return any(f in flags for f in flag_names)

    return CpuInfo(
        model=model or platform.processor() or platform.machine(),
        capability=torch.backends.cpu.get_cpu_capability(),
        avx512_bf16=feature("_is_avx512_bf16_supported", "avx512_bf16"),
        amx=feature("_is_amx_tile_supported", "amx_bf16", "amx_tile"),
    )


@dataclass(frozen=True)
class Precision:
    """The precision a run uses, and why (written to the log and to results.json)."""

    requested: str
    used: str  # fp32 | bf16 | fp16 | fp64
    reason: str
    warning: str = ""  # non-empty when the choice is legal but slow

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16, "fp64": None}[self.used]

    @property
    def dtype(self) -> torch.dtype:
        """The dtype of the weights and of the images fed to the networks."""
        return torch.float64 if self.used == "fp64" else torch.float32

    def to_dict(self) -> dict:
        return {"requested": self.requested, "used": self.used, "reason": self.reason}


def choose_precision(requested: str, device: torch.device, cpu: CpuInfo | None = None,
                     cuda_bf16: bool | None = None) -> Precision:
    """`auto`: bf16 on a GPU that supports it, else fp32 (on every CPU: see the module's
    docstring). An explicit choice is kept; bf16 on a CPU without native support gets a
    warning, fp16 off a GPU an error. bf16 is then checked (spigan.bf16_check).

    `cpu` and `cuda_bf16` default to this machine's (tests pass fakes)."""
    if requested not in PRECISIONS:
        raise SpiganError(f"train.precision: {requested!r} is not one of {', '.join(PRECISIONS)}")
    if device.type == "cuda":
        if cuda_bf16 is None:
            cuda_bf16 = torch.cuda.is_bf16_supported()
        name = torch.cuda.get_device_name(device) if torch.cuda.is_available() else "GPU"
        if requested == "auto":
            used = "bf16" if cuda_bf16 else "fp32"
            return Precision(requested, used, f"{name} {'supports' if cuda_bf16 else 'lacks'} bfloat16")
        if requested == "bf16" and not cuda_bf16:
            raise SpiganError(f"train.precision: bf16 is not supported by {name} (use auto, fp32 or fp16)")
        return Precision(requested, requested, "set in the config")
    if requested == "fp16":
        raise SpiganError("train.precision: fp16 needs a GPU; on CPU use auto, fp32 or bf16")
    cpu = cpu or cpu_info()
    if requested == "auto":
        if cpu.native_bf16:
            return Precision(requested, "fp32", f"{cpu.model} computes bfloat16 natively, but bf16 on a CPU is "
                                                f"opt-in (train.precision=bf16, checked at start): native kernels "
                                                f"have given these networks wrong gradients")
        return Precision(requested, "fp32", f"{cpu.model} has no native bfloat16 (no AVX512-BF16 or AMX, "
                                            f"PyTorch kernels {cpu.capability}): bf16 would be emulated")
    warning = ""
    if requested == "bf16" and not cpu.native_bf16:
        warning = (f"train.precision=bf16 on {cpu.model}, which has no native bfloat16 (no AVX512-BF16 or AMX): "
                   f"autocast emulates it, several times slower than fp32 (use train.precision=auto or fp32)")
    return Precision(requested, requested, "set in the config", warning)


def resolve_device(name: str, option: str = "train.device") -> torch.device:
    """`auto` is a GPU where there is one, else the CPU; `cpu`, `cuda` and `cuda:N` are
    taken as they are, if the machine has them. Errors name `option`."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    kind, _, index = name.partition(":")
    if kind not in ("cpu", "cuda") or (index and (kind == "cpu" or not index.isdigit())):
        raise SpiganError(f"{option}: {name!r} is not auto, cpu, cuda or cuda:N")
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise SpiganError(f"{option}: {name} requested but no GPU is available")
        if index and int(index) >= torch.cuda.device_count():
            raise SpiganError(f"{option}: {name} requested but this machine has {torch.cuda.device_count()} GPU(s)")
    return torch.device(name)


# ---------------------------------------------------------------------------------------
# Threads
# ---------------------------------------------------------------------------------------


# Memory of one training iteration on CPU per pixel of a training image, at network width
# 16 (measured about 12 KB with the CPU configs); scaled by the widest network. A lower
# bound on purpose: it refuses sizes that cannot fit, not ones that might.
TRAIN_BYTES_PER_PIXEL_AT_WIDTH_16 = 8 * 1024


def check_training_memory(cfg: "Config") -> None:
    """Refuses (one line) training images that cannot fit in memory on this machine."""
    m, data = cfg.model, cfg.data
    h, w = data.crop if data.crop != (0, 0) else data.size
    widest = max(m.generator_width, m.fcn_width, m.perceptual_width, m.discriminator_width)
    needed = cfg.train.batch_size * h * w * TRAIN_BYTES_PER_PIXEL_AT_WIDTH_16 * max(1.0, widest / 16)
    check_memory(needed, f"training images of {h}x{w} (data.crop, or data.size without crops) in batches of "
                         f"{cfg.train.batch_size}")


def _busy_and_own_seconds() -> tuple[float, float] | None:
    """(CPU seconds all processes have been busy since boot, CPU seconds of this process),
    or None where /proc/stat is not available."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    ticks = [int(v) for v in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    busy = (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")  # guest time is already in user
    own = os.times()
    return busy, own.user + own.system


class ThreadBudget:
    """Keeps torch's intra-op thread count at the CPUs that other processes leave free.

    `fixed` > 0 sets the count once and never changes it (bit-exact reruns: results can
    differ in the last bits between thread counts). `fixed` = 0 adapts: `update()` (called
    at start and at every logging interval) measures the CPU time other processes used
    since the last call and sets threads = usable CPUs - CPUs they kept busy (at least 1).
    """

    def __init__(self, fixed: int = 0, cpus: int | None = None, sample=_busy_and_own_seconds):
        self.fixed, self.cpus, self.sample = fixed, cpus or usable_cpus(), sample
        self.threads = fixed if fixed > 0 else self.cpus
        self._last: tuple[float, float, float] | None = None
        torch.set_num_threads(self.threads)

    @property
    def adaptive(self) -> bool:
        return self.fixed <= 0 and self.sample() is not None

    def start(self, window_s: float = 0.2) -> int:
        """Measures the other processes' load over a short window, before any work."""
        if self.adaptive:
            self.update()
            time.sleep(window_s)
            self.update()
        return self.threads

    def update(self) -> int:
        """Re-measures and re-sets the thread count; returns it."""
        if not self.adaptive:
            return self.threads
        busy, own = self.sample()
        now = time.monotonic()
        if self._last is not None and now > self._last[0]:
            last_now, last_busy, last_own = self._last
            others = max(0.0, (busy - last_busy) - (own - last_own)) / (now - last_now)
            threads = max(1, min(self.cpus, self.cpus - math.floor(others + 0.5)))
            if threads != self.threads:
                self.threads = threads
                torch.set_num_threads(threads)
        self._last = (now, busy, own)
        return self.threads
