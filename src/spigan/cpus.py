"""What this process may use of the machine: how many CPUs, and whether an amount of
memory is available (a leaf: no torch, so the simulator can use it too)."""

from __future__ import annotations

import math
import os
from pathlib import Path

from spigan.errors import SpiganError


def usable_cpus() -> int:
    """CPUs this process may run on: its affinity mask, capped by a cgroup CPU quota
    (a container limited to 2 CPUs on a 64-core host sees 64 in os.cpu_count())."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            count = min(count, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, count)


def available_memory() -> int | None:
    """Bytes of memory available to new allocations (MemAvailable), None where unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_memory(needed: float, what: str) -> None:
    """A one-line SpiganError when `needed` bytes (an estimate) exceed the available memory:
    a size that cannot fit fails in a second, not after minutes of work."""
    available = available_memory()
    if available is not None and needed > available:
        raise SpiganError(f"{what} needs about {needed / 2**30:.1f} GiB of memory; {available / 2**30:.1f} GiB "
                          f"are available")
