"""A shipped config's own precision (train.precision: auto) against forced fp32, side by
side in one run: does the choice the hardware made cost speed anywhere?

    python benchmarks/precision.py [CONFIG ...] [key=value ...] [--method spigan] [--iterations 30]

For each config, trains `--iterations` iterations of `--method` with the config's precision
and with train.precision=fp32, alternating `--repeats` times (so that a change of machine
load hits both alike), each in its own `spigan train` process with the same thread count,
and reports the training iterations/s of each and their ratio (own / fp32; >= 0.95 is the
goal of issue 10). The CPU (model, PyTorch kernel level, native bf16) is printed first.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def speed(config: str, overrides: list[str], workdir: Path, name: str) -> tuple[float, dict]:
    out = workdir / name
    cmd = [sys.executable, "-m", "spigan.cli", "train", config, *overrides, "--out", str(out), "--quiet"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=os.environ)
    if done.returncode != 0:
        raise SystemExit(f"{name}: failed\n{done.stderr[-2000:]}")
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    results = json.loads((out / "results.json").read_text())
    return rows[-1]["time/iterations_per_s"], results["precision"]


def main() -> None:
    from spigan.hardware import cpu_info, usable_cpus

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("configs", nargs="*", metavar="CONFIG or key=value",
                        help="configs (default: demo.yaml and sim2camvid.yaml) and overrides for all of them")
    parser.add_argument("--method", default="spigan")
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    overrides = [a for a in args.configs if "=" in a]
    configs = [a for a in args.configs if "=" not in a] or [str(CONFIGS / "demo.yaml"), str(CONFIGS / "sim2camvid.yaml")]

    print(f"CPU: {cpu_info().describe()}; {usable_cpus()} usable CPU(s)", flush=True)
    common = [f"train.method={args.method}", f"train.iterations={args.iterations}", "train.log_every=10",
              "train.checkpoint_every=100000", "data.val_frames=4", f"train.threads={usable_cpus()}", *overrides]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for config in configs:
            # Render the frames once, so that neither side pays for it.
            speed(config, common + ["train.iterations=1"], workdir, f"warm-{Path(config).stem}")
            own, fp32, used = [], [], None
            for k in range(args.repeats):
                s, used = speed(config, common, workdir, f"own-{Path(config).stem}-{k}")
                own.append(s)
                fp32.append(speed(config, common + ["train.precision=fp32"], workdir, f"fp32-{Path(config).stem}-{k}")[0])
            row = {"config": Path(config).name, "precision": used, "own_it_s": statistics.median(own),
                   "fp32_it_s": statistics.median(fp32)}
            row["ratio"] = row["own_it_s"] / row["fp32_it_s"]
            results.append(row)
            print(f"{row['config']:18s} own precision {used['used']} ({used['requested']}): {row['own_it_s']:.3f} it/s; "
                  f"fp32: {row['fp32_it_s']:.3f} it/s; ratio {row['ratio']:.3f}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"cpu": cpu_info().__dict__, "results": results}, indent=2))


if __name__ == "__main__":
    main()
