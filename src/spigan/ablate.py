"""`spigan ablate`: the paper's ablation (Table 2) as one command.

For each seed, trains source_only, base, no_pi, spigan and target_only on the same data and
configuration, into OUT/METHOD-sSEED. Re-running skips finished runs and resumes
interrupted ones from their last checkpoint. Then writes the report (report.md/.csv/.json
and figures) from the finished runs.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import torch
import yaml

from spigan.config import Config, config_from_dict, load_config, to_dict
from spigan.errors import SpiganError
from spigan.report import load_runs, write_report


# Table 2's rows, cheapest first; source_only comes first as every negative-transfer ratio needs it.
ABLATION = ("source_only", "base", "no_pi", "spigan", "target_only")


def run_config(base: Config, method: str, seed: int) -> Config:
    return dataclasses.replace(base, name=f"{base.name}-{method}-s{seed}",
                               train=dataclasses.replace(base.train, method=method, seed=seed))


def add_oracle(run_dir: Path) -> None:
    """Scores every kept checkpoint on the target validation labels and records the best
    as the `oracle` checkpoint: a model choice no unsupervised method could make."""
    from spigan.evaluate import protocol_for
    from spigan.inference import evaluate_split
    from spigan.data.datasets import Samples, frame_source
    from spigan.train import load_checkpoint, task_net_from_checkpoint

    results = json.loads((run_dir / "results.json").read_text())
    if "oracle" in results["checkpoints"]:
        return
    best, best_iteration = None, None
    samples = None
    for path in sorted((run_dir / "checkpoints").glob("*.pt")):
        state = load_checkpoint(path)
        net, cfg = task_net_from_checkpoint(state, torch.device("cpu"))
        if samples is None:
            samples = Samples(frame_source(cfg, "target", "val"), None, ("image", "labels"))
        scores = evaluate_split(net, samples, protocol_for(cfg.data.ontology, cfg.data.protocol), torch.device("cpu"))
        if best is None or scores.miou > best.miou:
            best, best_iteration = scores, state["iteration"]
    results["checkpoints"]["oracle"] = {**best.to_dict(), "iteration": best_iteration}
    (run_dir / "results.json").write_text(json.dumps(results, indent=2))


def ablate(config: str | Path, seeds: int, out: str | Path, overrides: list[str] | None = None,
           oracle: bool = False, methods: tuple[str, ...] = ABLATION, progress: bool = True) -> dict:
    from spigan.train import resume_run, train

    base = load_config(config, overrides)
    if oracle:
        base = dataclasses.replace(base, train=dataclasses.replace(base.train, keep_checkpoints=10_000))
    out = Path(out)
    methods = tuple(m for m in ABLATION if m in methods)  # Table 2's order, whatever order they came in
    plan = [(seed, method) for seed in range(seeds) for method in methods]
    for k, (seed, method) in enumerate(plan, 1):
        cfg = run_config(base, method, seed)
        run_dir = out / f"{method}-s{seed}"
        head = f"[{k}/{len(plan)}] {method}, seed {seed}"
        saved = run_dir / "config.yaml"
        # Compared through the config layer, so a run saved before a new option existed
        # (and so without its key) still matches when the option keeps its default.
        if saved.exists() and to_dict(config_from_dict(yaml.safe_load(saved.read_text()))) != to_dict(cfg):
            raise SpiganError(f"{run_dir}: holds a run of another configuration (use another --out)")
        if (run_dir / "results.json").exists():
            print(f"{head}: finished, skipped", flush=True)
        elif (run_dir / "checkpoints" / "last.pt").exists():
            print(f"{head}: resuming from its last checkpoint", flush=True)
            resume_run(run_dir, progress)
        else:
            print(f"{head}: training", flush=True)
            train(cfg, run_dir, progress)
        if oracle:
            add_oracle(run_dir)
    runs = load_runs([out / f"{m}-s{s}" for s, m in plan])
    tables = write_report(runs, out, oracle=oracle)
    print((out / "report.md").read_text())
    return tables
