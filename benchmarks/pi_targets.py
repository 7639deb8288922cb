"""Issue 14's study: which depth target makes the privileged information count?

    python benchmarks/pi_targets.py --out runs/pi-targets [--seeds 3] [--jobs 2]
        [key=value ...] [--targets metres metres-skip metres-psource ...]

On the simulator's tuning world (configs/demo.yaml with data.sim_seed=100: its own scenes,
never the scored world's, never CamVid), trains `source_only`, `no_pi` and, for each
setting in `--targets`, `spigan`, over `--seeds` seeds, `--jobs` runs at a time
(resumable: finished runs are kept). A setting is a loss.depth_target (log, metres,
inverse), the far depth clamped and P trained on x_s and G(x_s) as in the paper; with
"-skip" ("metres-skip"), loss.depth_far=skip leaves the sky out of L_P; with "-psource"
("metres-psource"), loss.p_trained_on=source trains P on x_s only. Then writes
OUT/table.md and OUT/table.json: per setting, the PI share of G's gradient (the median
over a run's logged iterations of γ·L_P(G(x_s))'s share of the gradient norms G receives;
mean ± std over seeds), spigan's mIoU per seed and mean, and spigan - no_pi per seed and
mean.
γ = 0.1 and every other weight stay the paper's.
"""

from __future__ import annotations

import argparse
import json
import statistics
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

from spigan.ablate import prepare_data, train_or_resume
from spigan.config import load_config, to_dict
from spigan.errors import SpiganError
from spigan.hardware import usable_cpus

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "demo.yaml"
TARGETS = ("log", "metres", "inverse")
MODIFIERS = {"skip": "loss.depth_far=skip", "psource": "loss.p_trained_on=source"}


def train_all(plan: list[tuple[list[str], Path]], jobs: int, config: Path = CONFIG) -> None:
    """Trains (or resumes) every run of `plan` not finished yet, `jobs` at a time, as
    `spigan ablate` does (each run in its own process), from `config` and each run's overrides."""
    todo = [(load_config(config, args), out) for args, out in plan if not (out / "results.json").exists()]
    if not todo:
        return
    prepare_data(todo[0][0], progress=False)  # every setting renders the same frames: once, before the runs
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(train_or_resume, to_dict(cfg), str(out), False): out for cfg, out in todo}
        for future in as_completed(futures):
            print(f"{futures[future].name}: {future.result()}", flush=True)


def median_share(run_dir: Path, term: str = "privileged") -> float:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return statistics.median(r[f"generator_gradient_share/{term}"] for r in rows
                             if f"generator_gradient_share/{term}" in r)


def miou(run_dir: Path) -> float:
    r = json.loads((run_dir / "results.json").read_text())
    return r["checkpoints"][r["default"]]["miou"]


def mean_std(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.1f}"
    return f"{statistics.mean(values):.1f} ± {statistics.pstdev(values):.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("overrides", nargs="*", metavar="key=value")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--targets", nargs="+", default=list(TARGETS))
    args = parser.parse_args()
    out = Path(args.out)
    common = ["data.sim_seed=100", f"train.threads={max(1, usable_cpus() // args.jobs)}", *args.overrides]
    settings = {}
    for name in args.targets:
        target, *modifiers = name.split("-")
        if target not in TARGETS or not set(modifiers) <= set(MODIFIERS):
            hint = " (key=value overrides go before --targets)" if "=" in name else ""
            raise SystemExit(f"--targets: {name!r} is not a depth target ({', '.join(TARGETS)}), "
                             f"optionally with -skip and/or -psource{hint}")
        settings[name] = [f"loss.depth_target={target}", "loss.depth_far=clamp", "loss.p_trained_on=both",
                          *(MODIFIERS[m] for m in modifiers)]  # a modifier overrides its default
    plan = []  # seed by seed, no_pi first (every comparison needs it); the short source_only runs last
    for seed in range(args.seeds):
        plan.append((common + ["train.method=no_pi", f"train.seed={seed}"], out / f"no_pi-s{seed}"))
        for name, setting in settings.items():
            plan.append((common + ["train.method=spigan", *setting, f"train.seed={seed}"], out / f"spigan-{name}-s{seed}"))
    plan += [(common + ["train.method=source_only", f"train.seed={s}"], out / f"source_only-s{s}")
             for s in range(args.seeds)]
    out.mkdir(parents=True, exist_ok=True)
    try:
        train_all(plan, args.jobs)
    except SpiganError as e:  # a bad key=value: one line, as the spigan command says it
        raise SystemExit(f"pi_targets: {e}") from None

    seeds = range(args.seeds)
    no_pi = [100 * miou(out / f"no_pi-s{s}") for s in seeds]
    source = [100 * miou(out / f"source_only-s{s}") for s in seeds]
    rows, table = [], {"no_pi": no_pi, "source_only": source, "targets": {}}
    for target in settings:
        runs = [out / f"spigan-{target}-s{s}" for s in seeds]
        shares = [100 * median_share(r) for r in runs]
        spigan = [100 * miou(r) for r in runs]
        diff = [a - b for a, b in zip(spigan, no_pi)]
        table["targets"][target] = {"pi_share_percent": shares, "spigan": spigan, "spigan_minus_no_pi": diff}
        rows.append(f"| {target} | {mean_std(shares)} | {' / '.join(f'{v:.1f}' for v in spigan)} | "
                    f"**{mean_std(spigan)}** | {' / '.join(f'{v:+.1f}' for v in diff)} | "
                    f"**{statistics.mean(diff):+.1f}** |")
    text = "\n".join([
        f"Tuning world (configs/demo.yaml, data.sim_seed=100), 16-class mIoU on its held-out photo frames, "
        f"{args.seeds} seeds. no_pi: {' / '.join(f'{v:.1f}' for v in no_pi)} (**{mean_std(no_pi)}**); "
        f"source_only: {' / '.join(f'{v:.1f}' for v in source)} (**{mean_std(source)}**).", "",
        "| depth target | PI share of G's gradient, % (median per run) | spigan per seed | spigan | "
        "spigan - no_pi per seed | spigan - no_pi |", "|---|---|---|---|---|---|", *rows])
    (out / "table.md").write_text(text + "\n")
    (out / "table.json").write_text(json.dumps(table, indent=2))
    print(text)


if __name__ == "__main__":
    main()
