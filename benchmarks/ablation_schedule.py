"""How long a finished ablation would take with `--jobs N`, replayed from its runs' own
training times: the order `spigan ablate` starts runs in (`spigan.ablate.RunQueue`) against
the order it used before the fifth session (every pretraining first, then the rest longest
first). A replay, not a measurement: each run takes its `train_seconds` plus `--overhead`
seconds (loading, evaluation), and runs side by side do not slow each other more than they
did when measured.

    python benchmarks/ablation_schedule.py ABLATION_DIR [--jobs 2] [--overhead 40] [--seeds N]

`--seeds N` replays N seeds from an ablation that ran fewer (say one seed, timed on a quiet
machine): seed k repeats the runs of measured seed k mod (seeds measured), as if every seed
took as long.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from spigan.ablate import COST, RunQueue
from spigan.config import config_from_dict, to_dict


def replay(jobs: list, seconds: dict, workers: int, queue_order: bool) -> float:
    """Minutes until the last run ends: `workers` at once, each free worker starting the next
    run (RunQueue's choice, or with `queue_order` False every pretraining before any run)."""
    if queue_order:
        queue = RunQueue(jobs)
    else:  # the old order: a barrier after the pretrainings, then longest first
        pretrainings = [j for j in jobs if j[0].variant().pretraining]
        queue = RunQueue(pretrainings)
        rest = sorted((j for j in jobs if not j[0].variant().pretraining), key=lambda j: -COST[j[0].variant().method])
    now, running = 0.0, {}  # run_dir -> end time
    while True:
        while len(running) < workers and (job := queue.next()) is not None:
            running[job[1]] = now + seconds[job[1]]
        if not running:
            if queue_order or not rest:
                return now / 60
            queue, rest = RunQueue(rest), []  # every pretraining has finished
            continue
        run_dir = min(running, key=running.get)
        now = running.pop(run_dir)
        queue.finished(run_dir)


def repeated(jobs: list, seconds: dict, seeds: int) -> tuple[list, dict]:
    """`jobs` and `seconds` with seeds added up to `seeds`, each a copy of a measured seed:
    the same methods and times, its own run folders, its runs warm-started from its own
    pretraining."""
    measured = sorted({cfg.train.seed for cfg, _ in jobs})
    jobs, seconds = list(jobs), dict(seconds)
    for seed in [s for s in range(seeds) if s not in measured]:
        like = measured[seed % len(measured)]
        for cfg, run_dir in [job for job in jobs if job[0].train.seed == like]:
            copy_dir = run_dir.parent / run_dir.name.replace(f"-s{like}", f"-s{seed}")
            data = to_dict(cfg)
            data["train"]["seed"] = seed
            if cfg.train.init_from:
                data["train"]["init_from"] = str(Path(cfg.train.init_from).parent / f"pretrain-s{seed}")
            jobs.append((config_from_dict(data), copy_dir))
            seconds[copy_dir] = seconds[run_dir]
    return jobs, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ablation", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--overhead", type=float, default=40.0, help="seconds a run takes besides training")
    parser.add_argument("--seeds", type=int, default=0, help="replay this many seeds, repeating the measured ones")
    args = parser.parse_args()
    jobs, seconds = [], {}
    for results in sorted(args.ablation.glob("*-s*/results.json")):
        run_dir = results.parent
        cfg = config_from_dict(yaml.safe_load((run_dir / "config.yaml").read_text()))
        jobs.append((cfg, run_dir))
        seconds[run_dir] = json.loads(results.read_text())["train_seconds"] + args.overhead
    if not jobs:
        raise SystemExit(f"{args.ablation}: no finished run (METHOD-sSEED/results.json)")
    if args.seeds:
        jobs, seconds = repeated(jobs, seconds, args.seeds)
    total = sum(seconds.values()) / 60
    print(f"{len(jobs)} runs in {args.ablation}, {total:.1f} min of training and overhead in all "
          f"({total / args.jobs:.1f} min over {args.jobs} workers at best)")
    print(f"with --jobs {args.jobs}: {replay(jobs, seconds, args.jobs, True):.1f} min in RunQueue's order, "
          f"{replay(jobs, seconds, args.jobs, False):.1f} min with every pretraining first")


if __name__ == "__main__":
    main()
