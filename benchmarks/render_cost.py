"""What rendering a run's simulator frames costs, against that run's training time (issue 25:
at most 10% at every shipped config).

    python benchmarks/render_cost.py CONFIG [key=value ...] (--run RUN_DIR | --train-seconds S)
        [--sample 30] [--workers N]

Lists the frames a run of CONFIG renders (as `spigan ablate` prepares them: source train,
target train and target val, where the dataset is the simulator), renders
`--sample` frames of each into a temporary cache (ray casting, shading, privileged maps and
the compressed write, on one core) and scales each split by its frame count, divided by the
processes that render in parallel (`--workers`, default the usable CPUs, as
`SimFrames.render_all`). The training time is a finished run's `train_seconds`
(`--run`), or given (`--train-seconds`, e.g. an estimate for another machine: say so).
Frames are cached: every later run of the same world and size renders none.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from spigan.config import load_config  # noqa: E402
from spigan.hardware import usable_cpus  # noqa: E402
from spigan.sim.dataset import SimFrames  # noqa: E402
from spigan.sim.knobs import SimKnobs  # noqa: E402
from spigan.sources import VALIDATION_KEYS  # noqa: E402


def rendered_splits(cfg) -> list[tuple[str, str, str, int]]:
    """(role, split, domain, frames) of every simulator split a run renders."""
    data, variant = cfg.data, cfg.variant()
    roles = [("source", "train", variant.batch_keys), ("target", "train", variant.target_keys),
             ("target", "val", VALIDATION_KEYS)]  # a handful of source val frames are shown: not counted
    splits = []
    for role, split, keys in roles:
        if (data.source if role == "source" else data.target) != "sim" or (role == "target" and not keys):
            continue
        domain = data.sim_source_domain if role == "source" else data.sim_target_domain
        length = {"train": data.source_frames if role == "source" else data.target_frames}.get(split, data.val_frames)
        splits.append((role, split, domain, length))
    return splits


def seconds_per_frame(cfg, domain: str, split: str, sample: int) -> float:
    data = cfg.data
    knobs = SimKnobs(data.sim_camera, data.sim_randomization, data.sim_degenerate)
    with tempfile.TemporaryDirectory() as cache:
        frames = SimFrames(domain, split, sample, *data.size, seed=data.sim_seed, cache_dir=cache, knobs=knobs)
        tic = time.perf_counter()
        for i in range(sample):
            frames[i]
        return (time.perf_counter() - tic) / sample


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("config")
    ap.add_argument("overrides", nargs="*", metavar="key=value")
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--run", help="a finished run of CONFIG: its train_seconds")
    which.add_argument("--train-seconds", type=float, help="the run's training time, if not from --run")
    ap.add_argument("--sample", type=int, default=30, help="frames rendered per split to time it")
    ap.add_argument("--workers", type=int, default=usable_cpus(), help="processes rendering in parallel")
    args = ap.parse_args()
    cfg = load_config(args.config, args.overrides)
    if args.run:
        train = json.loads((Path(args.run) / "results.json").read_text())["train_seconds"]
    else:
        train = args.train_seconds
    h, w = cfg.data.size
    print(f"# {args.config} ({cfg.variant().method}), {h}x{w}; {platform.processor() or platform.machine()}, "
          f"{args.workers} rendering processes; load average {os.getloadavg()[0]:.2f}")
    print("| split | renderer | frames | ms a frame (1 core) | seconds |")
    print("|---|---|---|---|---|")
    total = 0.0
    for role, split, domain, length in rendered_splits(cfg):
        per_frame = seconds_per_frame(cfg, domain, split, min(args.sample, length))
        seconds = length * per_frame / args.workers
        total += seconds
        print(f"| {role} {split} | {domain} | {length} | {1000 * per_frame:.1f} | {seconds:.0f} |")
    print(f"\nrendering {total:.0f} s; training {train:.0f} s: **{100 * total / train:.1f}%** of the training time")


if __name__ == "__main__":
    main()
