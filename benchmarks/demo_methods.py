"""All five methods on the demo benchmark, several seeds each: the table of docs/RESULTS.md.

    python benchmarks/demo_methods.py --seeds 3 --out runs/demo-methods [key=value ...]

Each (method, seed) trains `configs/demo.yaml` with `train.method` and `train.seed` set, in
out/METHOD-sSEED; finished runs are reused, so an interrupted benchmark picks up where it
stopped. Prints and writes out/table.md: every seed's mIoU (default checkpoint: early
stopping where it fired, no target labels used), the mean and standard deviation over seeds,
and the negative-transfer ratio against the same seed's source-only model.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from spigan.config import METHODS, load_config
from spigan.demo import demo_config_path
from spigan.train import negative_transfer, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", default="runs/demo-methods")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--config", default=str(demo_config_path()))
    parser.add_argument("overrides", nargs="*", metavar="key=value")
    args = parser.parse_args()
    out = Path(args.out)
    base = load_config(args.config, args.overrides)

    results: dict[tuple[str, int], dict] = {}
    for seed in range(args.seeds):
        for method in args.methods:
            run_dir = out / f"{method}-s{seed}"
            if (run_dir / "results.json").exists():
                results[method, seed] = json.loads((run_dir / "results.json").read_text())
                continue
            cfg = dataclasses.replace(base, name=f"{base.name}-{method}-s{seed}",
                                      train=dataclasses.replace(base.train, method=method, seed=seed))
            tic = time.perf_counter()
            results[method, seed] = train(cfg, run_dir, progress=True)
            print(f"{method} seed {seed}: {time.perf_counter() - tic:.0f} s")

    def miou(r: dict, which: str | None = None) -> float:
        return 100 * r["checkpoints"][which or r["default"]]["miou"]

    protocol = next(iter(results.values()))["protocol"]
    lines = [f"Protocol: {protocol}; mIoU of the default checkpoint (early stopping where it fired), "
             f"last checkpoint in brackets; negative transfer against the same seed's source_only.", "",
             "| method | " + " | ".join(f"seed {s}" for s in range(args.seeds)) + " | mean ± std | neg. transfer |",
             "|---" * (args.seeds + 3) + "|"]
    for method in args.methods:
        vals = [miou(results[method, s]) for s in range(args.seeds)]
        cells = [f"{miou(results[method, s]):.1f} ({miou(results[method, s], 'last'):.1f})" for s in range(args.seeds)]
        nt = "-"
        if method in ("spigan", "no_pi", "base") and "source_only" in args.methods:
            ratios = [negative_transfer(results[method, s], results["source_only", s]) for s in range(args.seeds)]
            nt = f"{np.mean(ratios):.2f}"
        lines.append(f"| {method} | {' | '.join(cells)} | {np.mean(vals):.1f} ± {np.std(vals):.1f} | {nt} |")
    stops = {m: [results[m, s]["early_stopping_iteration"] for s in range(args.seeds)]
             for m in args.methods if m in ("spigan", "no_pi", "base")}
    lines += ["", "Early-stopping iterations: " + "; ".join(f"{m}: {v}" for m, v in stops.items()),
              "Training seconds (mean): " + "; ".join(
                  f"{m}: {np.mean([results[m, s]['train_seconds'] for s in range(args.seeds)]):.0f}"
                  for m in args.methods)]
    text = "\n".join(lines) + "\n"
    (out / "table.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
