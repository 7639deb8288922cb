"""Throughput of the full SPIGAN iteration (one D step + `generator_steps` adaptation
steps) against the plain reference iteration, from one run.

    python benchmarks/throughput.py CONFIG [key=value ...] [--iterations N] [--modes ...]

It first prints the CPU (model, PyTorch's kernel level, AVX512-BF16/AMX) and the precision
`train.precision: auto` picks on it. Modes, each in its own process (so peak memory is its
own); by default reference, fp32, fp32-cl, and bf16 and bf16-cl only where bf16 is native
(on an AVX2-only CPU emulated bf16 is several times slower; ask for it with --modes):
  reference   spigan.reference.plain_iteration: fp32, everything requiring grad, nothing shared
  fp32        the training step (spigan.objective) in float32
  fp32-cl     the fp32 training step with networks and inputs in channels_last memory format
  bf16        the training step under bf16 autocast
  fp16        the training step under fp16 autocast with loss scaling (GPU only)
  bf16-cl     the bf16 training step with networks and inputs in channels_last memory format
  compiled    the bf16 training step with every network wrapped in torch.compile
Reported per mode: iterations/s, images/s (source images through G per second), peak
memory, FLOPs per iteration (torch.utils.flop_counter), the machine's GEMM peak in the
mode's dtype (the faster of a square matmul and a 1x1 convolution, timed in the same
process), and model FLOP utilisation = FLOPs per iteration / seconds per iteration / GEMM
peak. The reference does more work than the training step (weight gradients of frozen
networks, a graph through φ(x_s), G(x_s) computed per term): its FLOP count includes that
waste, so compare modes by time and read MFU on the optimised modes. Inputs are random
tensors of the config's crop size: this times the networks, not data loading.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time


def best_rate(run, flops: float, repeats: int = 5) -> float:
    """FLOP/s of `run` (which returns a tensor), best of `repeats` after one warm-up;
    `.item()` waits for the device."""
    best = float("inf")
    for _ in range(repeats + 1):
        t = time.perf_counter()
        run().sum().item()
        best = min(best, time.perf_counter() - t)
    return flops / best


def gemm_peaks(dtype, device, n: int = 2048) -> dict:
    """The machine's GEMM rate in `dtype` through both of PyTorch's GEMM back ends: a square
    matmul (BLAS) and a 1x1 convolution, which is a GEMM run by oneDNN on CPU. On AMD CPUs
    the BLAS path can be the slower of the two, and the convolutions of the networks run on
    oneDNN, so the peak is the faster of the two."""
    import torch
    import torch.nn.functional as F

    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    x = torch.randn(1, n // 2, 64, 64, device=device).to(dtype)
    w = torch.randn(n // 2, n // 2, 1, 1, device=device).to(dtype)
    matmul = best_rate(lambda: a @ b, 2 * n**3)
    conv = best_rate(lambda: F.conv2d(x, w), 2 * (n // 2) ** 2 * 64 * 64)
    return {"matmul": matmul, "conv1x1": conv, "peak": max(matmul, conv)}


def top_ops(run, count: int = 8) -> list[dict]:
    """The ops that take most of one call of `run`, by self time (torch.profiler)."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if torch.cuda.is_available() else [])
    with profile(activities=activities) as prof:
        run()
    events = [e for e in prof.key_averages() if e.self_cpu_time_total > 0]
    total = sum(e.self_cpu_time_total for e in events)
    events.sort(key=lambda e: e.self_cpu_time_total, reverse=True)
    return [{"op": e.key, "calls": e.count, "self_ms": e.self_cpu_time_total / 1e3,
             "share": e.self_cpu_time_total / total} for e in events[:count]]


def worker(config: str, overrides: list[str], mode: str, iterations: int, profile: bool = False) -> dict:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from spigan.build import build_networks, build_optimizers
    from spigan.config import load_config
    from spigan.hardware import resolve_device
    from spigan.objective import adaptation_step, discriminator_step
    from spigan.reference import plain_iteration

    channels_last = mode.endswith("-cl")
    cfg = load_config(config, overrides + ["train.method=spigan", f"train.channels_last={str(channels_last).lower()}"])
    if cfg.train.threads > 0:
        torch.set_num_threads(cfg.train.threads)
    device = resolve_device(cfg.train.device)
    torch.manual_seed(0)
    nets = build_networks(cfg, device)  # in channels_last for bf16-cl (train.channels_last)
    if mode == "compiled":
        for name, net in nets.present().items():
            setattr(nets, name, torch.compile(net))
    optimizers = build_optimizers(nets, cfg)
    weights = cfg.variant().weights
    b, (h, wd) = cfg.train.batch_size, (cfg.data.crop if cfg.data.crop != (0, 0) else cfg.data.size)
    steps = cfg.train.generator_steps
    g = torch.Generator().manual_seed(1)
    batches = [{"image": (torch.rand(b, 3, h, wd, generator=g) * 2 - 1).to(device),
                "labels": torch.randint(0, len(nets.task.score_fr.bias), (b, h, wd), generator=g).to(device),
                "depth": (torch.rand(b, 1, h, wd, generator=g) * 80 + 1).to(device)} for _ in range(steps)]
    x_r = (torch.rand(b, 3, h, wd, generator=g) * 2 - 1).to(device)
    if channels_last:
        x_r = x_r.contiguous(memory_format=torch.channels_last)
        for batch in batches:
            batch["image"] = batch["image"].contiguous(memory_format=torch.channels_last)
    dtype = {"reference": None, "fp32": None, "fp32-cl": None, "bf16": torch.bfloat16, "fp16": torch.float16,
             "bf16-cl": torch.bfloat16, "compiled": torch.bfloat16}[mode]
    scaler = torch.amp.GradScaler(device.type) if mode == "fp16" else None

    def iteration():
        if mode == "reference":
            plain_iteration(nets, optimizers, weights, batches, x_r)
            return
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            discriminator_step(nets.generator, nets.discriminator, optimizers["discriminator"], batches[0]["image"],
                               x_r, scaler=scaler)
            for k, batch in enumerate(batches):
                adaptation_step(nets, optimizers, weights, batch["image"], batch["labels"], {"depth": batch["depth"]},
                                k == 0, scaler=scaler)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    iteration()  # warm-up (and compilation)
    sync()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(iterations):
        t = time.perf_counter()
        iteration()
        sync()
        times.append(time.perf_counter() - t)
    with FlopCounterMode(display=False) as counter:
        iteration()
    flops = counter.get_total_flops()
    seconds = statistics.median(times)
    peaks = gemm_peaks(dtype or torch.float32, device)
    peak = peaks["peak"]
    memory = (torch.cuda.max_memory_allocated() if device.type == "cuda"
              else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    profile_ops = top_ops(iteration) if profile else None
    return {"mode": mode, "seconds_per_iteration": seconds, "iterations_per_s": 1 / seconds,
            "images_per_s": steps * b / seconds, "flops_per_iteration": flops, "gemm_peak_flops": peak,
            "gemm_peaks": peaks, "top_ops": profile_ops, "mfu": flops / seconds / peak, "peak_memory_bytes": memory, "times": times,
            "device": str(device), "threads": torch.get_num_threads(), "batch": b, "crop": [h, wd]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config")
    parser.add_argument("overrides", nargs="*", metavar="key=value")
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--modes", help="comma-separated (default: the modes that make sense on this machine)")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--profile", action="store_true", help="also list the ops that dominate each mode")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print("RESULT " + json.dumps(worker(args.config, args.overrides, args.worker, args.iterations,
                                            args.profile)))
        return

    import torch

    from spigan.hardware import choose_precision, cpu_info

    cpu = cpu_info()
    cuda = torch.cuda.is_available()
    auto = choose_precision("auto", torch.device("cuda" if cuda else "cpu"))
    native_bf16 = cpu.native_bf16 if not cuda else auto.used == "bf16"
    print(f"CPU: {cpu.describe()}")
    if cuda:
        print(f"GPU: {torch.cuda.get_device_name()}")
    print(f"train.precision=auto -> {auto.used} ({auto.reason})", flush=True)
    modes = args.modes or ",".join(["reference", "fp32", "fp32-cl"] + (["bf16", "bf16-cl"] if native_bf16 else []))
    results = []
    for mode in modes.split(","):
        cmd = [sys.executable, __file__, args.config, *args.overrides, "--iterations", str(args.iterations),
               "--worker", mode] + (["--profile"] if args.profile else [])
        done = subprocess.run(cmd, capture_output=True, text=True, env=os.environ)
        line = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
        if done.returncode != 0 or not line:
            print(f"{mode}: failed\n{done.stderr[-2000:]}")
            continue
        results.append(json.loads(line[0][7:]))
        r = results[-1]
        print(f"{mode:10s} {r['iterations_per_s']:8.3f} it/s {r['images_per_s']:8.2f} img/s  "
              f"{r['flops_per_iteration'] / 1e12:7.3f} TFLOP/it  peak GEMM {r['gemm_peak_flops'] / 1e9:7.1f} GFLOP/s  "
              f"MFU {100 * r['mfu']:5.1f}%  memory {r['peak_memory_bytes'] / 2**30:6.2f} GiB", flush=True)
        for op in r["top_ops"] or []:
            print(f"    {100 * op['share']:5.1f}%  {op['self_ms']:9.1f} ms  {op['calls']:5d} calls  {op['op']}")
    reference = next((r for r in results if r["mode"] == "reference"), None)
    if reference:
        for r in results:
            r["speedup_vs_reference"] = reference["seconds_per_iteration"] / r["seconds_per_iteration"]
        print("speed-up over the reference: " + ", ".join(f"{r['mode']} {r['speedup_vs_reference']:.2f}x"
                                                         for r in results if r is not reference))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"config": args.config, "overrides": args.overrides, "cpu": cpu.__dict__,
                       "native_bf16": native_bf16, "auto_precision": auto.to_dict(), "machine": platform.machine(),
                       "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
