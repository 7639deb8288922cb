"""Runs the numerics-sensitive tests (pytest -m numerics) under every kernel set this CPU
can run, one process each, and says whether the simulator renders the same frames under
all of them: `make test-kernels`. Exit status 1 if a test fails in any kernel set.

Kernels differ in their last bits across instruction sets, and a CPU runs only its own
best ones by default, so a suite that passes here can fail on a user's CPU. Each library
can be held to a lower level, which is how one CPU stands in for older ones:
- PyTorch's own kernels: ATEN_CPU_CAPABILITY = default | avx2 | avx512;
- oneDNN (convolutions, and bf16 wherever it runs): ONEDNN_MAX_CPU_ISA = SSE41 | AVX2 |
  AVX512_CORE | AVX512_CORE_BF16 | AVX512_CORE_AMX;
- MKL (float64 convolutions and matrix products): MKL_ENABLE_INSTRUCTIONS = SSE4_2 | AVX2 |
  AVX512;
- numpy (the simulator): NPY_DISABLE_CPU_FEATURES turns off its AVX2 / AVX512 loops.
A newer CPU than this one cannot be emulated: an AVX2-only machine cannot run the AVX512
or bf16 sets, and says so in the table.

    .venv/bin/python tests/kernel_sets.py [--only NAME ...] [pytest args ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from spigan.hardware import cpuinfo_fields

ROOT = Path(__file__).resolve().parent.parent

# name -> (what the CPU needs, the environment that holds every library at that level)
NUMPY_BELOW_AVX2 = "X86_V3 X86_V4 AVX512_ICL AVX512_SPR AVX2 FMA3 AVX512F AVX512_SKX"
NUMPY_BELOW_AVX512 = "X86_V4 AVX512_ICL AVX512_SPR AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL"
KERNEL_SETS = {
    "native": ((), {}),
    "sse4.1": ((), {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41",
                    "MKL_ENABLE_INSTRUCTIONS": "SSE4_2", "NPY_DISABLE_CPU_FEATURES": NUMPY_BELOW_AVX2}),
    "avx2": (("avx2", "fma"), {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2",
                               "MKL_ENABLE_INSTRUCTIONS": "AVX2", "NPY_DISABLE_CPU_FEATURES": NUMPY_BELOW_AVX512}),
    "avx512": (("avx512f", "avx512bw", "avx512vl", "avx512dq"),
               {"ATEN_CPU_CAPABILITY": "avx512", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE",
                "MKL_ENABLE_INSTRUCTIONS": "AVX512"}),
    "avx512-bf16": (("avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_bf16"),
                    {"ATEN_CPU_CAPABILITY": "avx512", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE_BF16"}),
    "amx": (("avx512f", "amx_bf16", "amx_tile"),
            {"ATEN_CPU_CAPABILITY": "avx512", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE_AMX"}),
}

# Rendered in each kernel set and compared across them: a tiny split of each domain.
FRAMES_SNIPPET = """
import hashlib, json, sys
from spigan.sim.dataset import SimFrames
out = {}
for domain in ("sim", "photo"):
    frames = SimFrames(domain, "train", 3, 32, 64, seed=0)
    for i in range(len(frames)):
        f = frames[i]
        for key in ("rgb", "labels", "depth"):
            out[f"{domain}/{i}/{key}"] = hashlib.sha1(getattr(f, key).tobytes()).hexdigest()
json.dump(out, sys.stdout)
"""


def run(name: str, env: dict[str, str], pytest_args: list[str]) -> tuple[str, float, dict | None]:
    """(pytest's summary line, seconds, the frames' fingerprints) in one kernel set."""
    full_env = {**os.environ, **env}
    tic = time.perf_counter()
    test = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "numerics", "-p", "no:cacheprovider",
                           *pytest_args], cwd=ROOT, env=full_env, capture_output=True, text=True)
    lines = [line for line in test.stdout.splitlines() if line.strip()]
    summary = lines[-1].strip("= ") if lines else test.stderr.strip().splitlines()[-1]
    if test.returncode != 0:
        print(test.stdout[-4000:], file=sys.stderr)
    frames = subprocess.run([sys.executable, "-c", FRAMES_SNIPPET], cwd=ROOT, env=full_env, capture_output=True,
                            text=True)
    fingerprints = json.loads(frames.stdout) if frames.returncode == 0 else None
    if frames.returncode != 0:
        print(frames.stderr[-2000:], file=sys.stderr)
    return ("passed" if test.returncode == 0 else "FAILED") + f": {summary}", time.perf_counter() - tic, fingerprints


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="+", choices=list(KERNEL_SETS), help="run these kernel sets alone")
    args, pytest_args = ap.parse_known_args(argv)
    flags = cpuinfo_fields()[1]  # the CPU itself, whatever kernel set this process runs
    failed, reference, frames_differ = False, None, []
    print(f"{'kernel set':12s} {'seconds':>7s}  result")
    for name, (needs, env) in KERNEL_SETS.items():
        if args.only and name not in args.only:
            continue
        missing = [f for f in needs if f not in flags]
        if missing:
            print(f"{name:12s} {'-':>7s}  not run: this CPU lacks {', '.join(missing)}")
            continue
        result, seconds, fingerprints = run(name, env, pytest_args)
        if fingerprints is None:
            frames = "frames: could not render"
            failed = True
        elif reference is None:
            reference, frames = fingerprints, "frames: reference"
        else:
            differ = sorted(k for k in reference if reference[k] != fingerprints.get(k))
            frames = f"frames: {len(differ)} arrays differ ({', '.join(differ[:3])})" if differ else "frames: same"
            if differ:
                frames_differ.append(name)
        print(f"{name:12s} {seconds:7.1f}  {result}; {frames}", flush=True)
        failed |= not result.startswith("passed")
    if frames_differ:  # no stored number depends on them (the reference test reads PNGs)
        print(f"note: the simulator's frames differ in the last bits under: {', '.join(frames_differ)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
