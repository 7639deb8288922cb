"""Training speed when another process keeps CPUs busy, for several thread settings.

    python benchmarks/contention.py [CONFIG] [--method spigan] [--iterations 40] [--busy 1]

Each setting trains `--iterations` iterations of CONFIG (default configs/demo.yaml, small
splits) in its own `spigan train` process, once on an idle machine and once while `--busy`
processes spin in pure Python (a stand-in for any other job), and reports iterations/s (the
run's own figure over its training iterations, after rendering). Settings:

  threads=N           train.threads=N: a fixed OpenMP team of N threads (N = all CPUs was
                      the behaviour before `train.threads: 0` adapted)
  threads=N passive   the same with OMP_WAIT_POLICY=PASSIVE (waiting threads sleep)
  threads=1           one thread
  threads=0 (auto)    spigan.hardware.ThreadBudget: the CPUs the other processes leave free
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def train_speed(config: str, overrides: list[str], env: dict, workdir: Path, name: str) -> tuple[float, list]:
    out = workdir / name
    cmd = [sys.executable, "-m", "spigan.cli", "train", config, *overrides, "--out", str(out), "--quiet"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{name}: failed\n{done.stderr[-2000:]}")
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return rows[-1]["time/iterations_per_s"], sorted({r["time/threads"] for r in rows})


def main() -> None:
    from spigan.hardware import cpu_info, usable_cpus

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", nargs="?", default=str(Path(__file__).parents[1] / "configs" / "demo.yaml"))
    parser.add_argument("--method", default="spigan")
    parser.add_argument("--iterations", type=int, default=40)
    parser.add_argument("--busy", type=int, default=1, help="busy processes to run beside training")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()

    cpus = usable_cpus()
    print(f"CPU: {cpu_info().describe()}; {cpus} usable CPU(s); busy processes: {args.busy}", flush=True)
    overrides = [f"train.method={args.method}", f"train.iterations={args.iterations}", "train.log_every=10",
                 "train.checkpoint_every=100000", "data.source_frames=200", "data.target_frames=200",
                 "data.val_frames=4", "train.precision=fp32"]
    settings = [(f"threads={cpus}", {"train.threads": cpus}, {}),
                (f"threads={cpus} passive", {"train.threads": cpus}, {"OMP_WAIT_POLICY": "PASSIVE"}),
                ("threads=1", {"train.threads": 1}, {}),
                ("threads=0 (auto)", {"train.threads": 0}, {})]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        # Render the frames once, so that no setting pays for it.
        train_speed(args.config, overrides + ["train.iterations=1"], dict(os.environ), workdir, "warm-up")
        for load in ("idle", "busy"):
            for label, options, extra_env in settings:
                busy = []
                if load == "busy":
                    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
                    time.sleep(1.0)
                try:
                    env = {**os.environ, **extra_env}
                    speed, used = train_speed(args.config, overrides + [f"{k}={v}" for k, v in options.items()], env,
                                              workdir, f"{load}-{len(results)}")
                finally:
                    for p in busy:
                        p.kill()
                        p.wait()
                results.append({"load": load, "setting": label, "iterations_per_s": speed, "threads_used": used})
                print(f"{load:5s} {label:22s} {speed:7.3f} it/s   threads used: {used}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"cpu": cpu_info().__dict__, "cpus": cpus, "results": results},
                                              indent=2))


if __name__ == "__main__":
    main()
