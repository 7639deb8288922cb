"""Issue 22's study B: what makes adaptation help, from a warm start, on the tuning world.

    python benchmarks/warm_levers.py --out runs/warm-levers [--seeds 1] [--first-seed 0] [--jobs 2]
        [--pretrain-iterations 3000] [key=value ...]

Pre-registered in docs/RESULTS.md section 0 before any run. On the simulator's tuning world
(configs/demo.yaml with data.sim_seed=100: its own scenes, scored on its own photo val
frames; never CamVid), per seed: one pretraining (`train.method=pretrain`: T, P and φ on the
simulator's labels and depth) into OUT/pretrain-sSEED, then these runs, each starting from it
(`train.init_from`, `train.init_networks` naming what is warm):

    source_only      T warm
    no_pi            T warm; G, D and φ as built (the base)
    no_pi+phi        L1: φ from the pretraining too
    no_pi+resize     L2: model.generator_upsampling=resize
    no_pi+warmup     L3: train.adaptation_warmup=100 (G and D alone for 100 iterations)
    no_pi+long       L4: 1000 iterations instead of the demo's 500
    spigan           T and φ warm, P as built
    spigan+P         L5: P from the pretraining too

`--jobs` runs at a time, resumable (finished runs are kept). Writes OUT/table.md and
OUT/table.json: each run's mIoU per seed, and each lever against its base (no_pi, or spigan
for L5) per seed and on the mean. γ and every other weight stay the paper's.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from pi_targets import train_all  # the same config (demo.yaml) and the same resumable runner
WORLD = ["data.sim_seed=100"]
# name -> (overrides, the run it is measured against)
RUNS = {
    "source_only": (["train.method=source_only", "train.init_networks=task"], None),
    "no_pi": (["train.method=no_pi", "train.init_networks=task"], None),
    "no_pi+phi": (["train.method=no_pi", "train.init_networks=task,perceptual"], "no_pi"),
    "no_pi+resize": (["train.method=no_pi", "train.init_networks=task", "model.generator_upsampling=resize"],
                     "no_pi"),
    "no_pi+warmup": (["train.method=no_pi", "train.init_networks=task", "train.adaptation_warmup=100"], "no_pi"),
    "no_pi+long": (["train.method=no_pi", "train.init_networks=task", "train.iterations=1000"], "no_pi"),
    "spigan": (["train.method=spigan", "train.init_networks=task,perceptual"], None),
    "spigan+P": (["train.method=spigan", "train.init_networks=task,perceptual,privileged"], "spigan"),
}


def miou(run_dir: Path) -> float:
    r = json.loads((run_dir / "results.json").read_text())
    return 100 * r["checkpoints"][r["default"]]["miou"]  # stored as a fraction


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="folder of the runs and the table")
    ap.add_argument("--seeds", type=int, default=1, help="seeds 0..N-1")
    ap.add_argument("--first-seed", type=int, default=0,
                    help="start at this seed (seeds FIRST..N-1): more seeds for a study whose first ran elsewhere")
    ap.add_argument("--jobs", type=int, default=2, help="runs at a time (one thread each)")
    ap.add_argument("--pretrain-iterations", type=int, default=3000, help="iterations of each pretraining")
    ap.add_argument("--only", nargs="+", choices=list(RUNS), help="these runs alone (default: all)")
    args, extra = ap.parse_known_args()
    if not 0 <= args.first_seed < args.seeds:
        ap.error(f"--first-seed {args.first_seed}: must be at least 0 and below --seeds {args.seeds}")
    out, seeds = Path(args.out), range(args.first_seed, args.seeds)
    base = [*WORLD, "train.threads=1", *extra]
    pretrain = {s: out / f"pretrain-s{s}" for s in seeds}
    train_all([([*base, "train.method=pretrain", f"train.seed={s}", f"train.iterations={args.pretrain_iterations}"],
              pretrain[s]) for s in seeds], args.jobs)
    names = args.only or list(RUNS)
    train_all([([*base, *RUNS[name][0], f"train.seed={s}", f"train.init_from={pretrain[s].resolve()}"],
              out / f"{name}-s{s}") for s in seeds for name in names], args.jobs)

    table = {name: {s: miou(out / f"{name}-s{s}") for s in seeds if (out / f"{name}-s{s}" / "results.json").exists()}
             for name in names}
    lines = ["| run | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | against | difference per seed | mean |",
             "|---|" + "---|" * len(seeds) + "---|---|---|---|"]
    for name in names:
        got = table[name]
        mean = statistics.mean(got.values()) if got else float("nan")
        against = RUNS[name][1]
        diff, diff_mean = "", ""
        if against and against in table:
            d = {s: got[s] - table[against][s] for s in got if s in table[against]}
            diff = " / ".join(f"{v:+.1f}" for v in d.values())
            diff_mean = f"{statistics.mean(d.values()):+.1f}" if d else ""
        lines.append(f"| {name} | " + " | ".join(f"{got[s]:.1f}" if s in got else "-" for s in seeds)
                     + f" | {mean:.1f} | {against or '-'} | {diff} | {diff_mean} |")
    (out / "table.md").write_text("\n".join(lines) + "\n")
    (out / "table.json").write_text(json.dumps(table, indent=1) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
