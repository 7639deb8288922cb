"""Issue 25's study: which kind of privileged information helps, alone or together?

    python benchmarks/pi_kinds.py --out runs/pi-kinds [--seeds 3] [--jobs 2]
        [--pretrained runs/warm-levers] [--pretrain-iterations 3000] [key=value ...]
    python benchmarks/pi_kinds.py --camvid data/camvid --out runs/pi-kinds-camvid
        --pretrained runs/camvid-ablation --source-only-from runs/camvid-ablation
        --only no_pi normals boundaries [--seeds 3] [--jobs 2]

Pre-registered in docs/RESULTS.md section 8 before any run. On the simulator's tuning world
(configs/demo.yaml with data.sim_seed=100: its own scenes, scored on its own photo val
frames; never CamVid), per seed: the warm start of issue 22's study B (a pretraining of T, P
and φ, `train.method=pretrain`, in PRETRAINED/pretrain-sSEED: taken where it exists, else
trained into OUT/pretrain-sSEED), then these runs, each of the demo's 500 iterations:

    source_only        T warm
    no_pi              T and φ warm
    depth              spigan, loss.pi=[depth] (the paper's)    T and φ warm, P as built
    normals            spigan, loss.pi=[normals]                  "
    boundaries         spigan, loss.pi=[boundaries]               "
    all                spigan, loss.pi=[depth,normals,boundaries] "

P starts as built in every setting, so that the settings differ in what P learns and in
nothing else (a P pretrained on each setting's kinds would take four pretrainings a seed).
γ_k = 0.1 for every kind (the paper's γ for depth) and every other weight the paper's.
`--jobs` runs at a time, resumable (finished runs are kept). Writes OUT/table.md and
OUT/table.json: per setting, mIoU per seed and mean ± std, the difference to no_pi and to
source_only per seed and on the mean, and the share of G's gradient of the privileged term
and of each kind's part (median over a run's logged iterations; mean over seeds); and
OUT/figures: miou.png (every seed's mIoU per setting) and, per PI setting, its first seed's
privileged.png (P's prediction of each kind from G(x_s) beside the simulator's).

With `--camvid ROOT` the same settings run on sim->CamVid instead (configs/sim2camvid.yaml,
scored on CamVid val at ROOT), from the pretrainings of `spigan ablate --warm-start` (section
3's, in PRETRAINED); `--source-only-from` takes that ablation's source_only runs for the
comparison rather than training them again. Section 8's second half: the two settings its
rule picked, and no_pi on the same code.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from pi_targets import CONFIG, mean_std, median_share, miou, train_all  # the same resumable runner

from spigan.ablate import folder_lock
from spigan.checkpoint import load_checkpoint, network_from_checkpoint
from spigan.errors import SpiganError
from spigan.figures import privileged_figure, pyplot
from spigan.results import load_run

WORLD = ["data.sim_seed=100"]  # the tuning world: demo.yaml's simulator, other scenes
CAMVID_CONFIG = CONFIG.parent / "sim2camvid.yaml"
KINDS = ("depth", "normals", "boundaries")
WARM = "train.init_networks=task,perceptual"  # T and φ from the pretraining; P and G, D as built
SETTINGS = {  # name -> overrides
    "source_only": ["train.method=source_only", "train.init_networks=task"],
    "no_pi": ["train.method=no_pi", WARM],
    "depth": ["train.method=spigan", WARM, "loss.pi=[depth]"],
    "normals": ["train.method=spigan", WARM, "loss.pi=[normals]"],
    "boundaries": ["train.method=spigan", WARM, "loss.pi=[boundaries]"],
    "all": ["train.method=spigan", WARM, "loss.pi=[depth,normals,boundaries]"],
}
PI_SETTINGS = ("depth", "normals", "boundaries", "all")


def shares(run_dir: Path) -> dict[str, float]:
    """The privileged term's share of G's gradient and each kind's, in % (median per run)."""
    got = {"privileged": 100 * median_share(run_dir)}
    for kind in KINDS:
        try:
            got[kind] = 100 * median_share(run_dir, f"privileged_{kind}")
        except statistics.StatisticsError:  # a kind this run's P does not learn
            pass
    return got


def _pct(value: float) -> str:
    """A share in %: one decimal, or two significant digits under 1% (a kind may carry 0.04%)."""
    return f"{value:.1f}" if value >= 1 else f"{value:.2g}"


def table(runs: dict[str, dict[int, Path]], seeds: range) -> tuple[str, dict]:
    """`runs[setting][seed]`: the run's folder."""
    done = {name: [s for s in seeds if (runs[name][s] / "results.json").exists()] for name in SETTINGS}
    result = {name: {s: 100 * miou(runs[name][s]) for s in done[name]} for name in SETTINGS}

    def diffs(name: str, against: str) -> dict[int, float]:
        return {s: result[name][s] - result[against][s] for s in result[name] if s in result[against]}

    def per_seed(values: dict[int, float], sign: str = "") -> str:
        return " / ".join(f"{values[s]:{sign}.1f}" if s in values else "-" for s in seeds)

    def mean(values: dict[int, float], sign: str = "") -> str:
        return f"{statistics.mean(values.values()):{sign}.1f}" if values else "-"

    rows, record = [], {}
    for name in SETTINGS:
        got = result[name]
        record[name] = {"miou": got}
        if not got:  # a setting this study does not run (the CamVid half runs three)
            continue
        vs_no_pi, vs_source = diffs(name, "no_pi"), diffs(name, "source_only")
        g = [shares(runs[name][s]) for s in done[name]] if name in PI_SETTINGS else []
        share = {key: statistics.mean(x[key] for x in g) for key in (g[0] if g else {})}
        share_text = ", ".join(f"{k} {_pct(v)}" for k, v in share.items() if k != "privileged" or len(share) == 1)
        if len(share) > 2:
            share_text = f"{_pct(share['privileged'])} ({share_text})"
        elif share:
            share_text = _pct(share["privileged"])
        rows.append(f"| {name} | {per_seed(got)} | **{mean_std(list(got.values()))}** | "
                    f"{per_seed(vs_no_pi, '+')} | **{mean(vs_no_pi, '+')}** | {per_seed(vs_source, '+')} | "
                    f"**{mean(vs_source, '+')}** | {share_text or '-'} |")
        record[name] = {"miou": got, "minus_no_pi": vs_no_pi, "minus_source_only": vs_source,
                        "generator_gradient_share_percent": share}
    text = "\n".join([
        "| setting | mIoU per seed | mIoU | - no_pi per seed | - no_pi | - source_only per seed | - source_only | "
        "privileged share of G's gradient, % (per kind) |",
        "|---|---|---|---|---|---|---|---|", *rows])
    return text, record


def write_figures(out: Path, record: dict, world: str) -> None:
    """miou.png (each seed's mIoU per setting, the mean as a line) and each PI setting's
    privileged.png from its lowest finished seed."""
    folder = out / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    shown = [name for name in SETTINGS if record[name]["miou"]]
    for x, name in enumerate(shown):  # a line for the mean, not a bar: the axis starts near the values
        got = record[name]["miou"]
        ax.plot(x, statistics.mean(got.values()), "_", markersize=28, markeredgewidth=2, color="0.3")
        ax.plot([x] * len(got), list(got.values()), "o", color="C0")
    ax.set_xticks(range(len(shown)), shown)
    ax.set_ylabel(f"mIoU (%), {world}")
    ax.set_title("Kinds of privileged information: each seed (dots), their mean (line)")
    fig.tight_layout()
    fig.savefig(folder / "miou.png", dpi=90)
    plt.close(fig)
    for name in PI_SETTINGS:
        if record[name]["miou"]:
            run = load_run(out / f"{name}-s{min(record[name]['miou'])}")
            G = network_from_checkpoint(load_checkpoint(run.default_checkpoint()), "generator")
            privileged_figure(run, G, folder / name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("overrides", nargs="*", metavar="key=value")
    ap.add_argument("--out", required=True, help="folder of the runs and the table")
    ap.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1")
    ap.add_argument("--jobs", type=int, default=2, help="runs at a time (one thread each)")
    ap.add_argument("--pretrained", help="a folder holding pretrain-sSEED runs to start from where they exist "
                                         "(benchmarks/warm_levers.py's)")
    ap.add_argument("--pretrain-iterations", type=int, default=3000, help="iterations of a missing pretraining")
    ap.add_argument("--only", nargs="+", choices=list(SETTINGS), help="these settings alone (default: all)")
    ap.add_argument("--camvid", metavar="ROOT", help="sim->CamVid (configs/sim2camvid.yaml, CamVid at ROOT) "
                                                     "instead of the tuning world")
    ap.add_argument("--source-only-from", metavar="DIR", help="compare with DIR/source_only-sSEED (an "
                                                              "ablation's) instead of training source_only")
    ap.add_argument("--table-only", action="store_true", help="train nothing: the table and figures of the "
                                                              "finished runs (a study stopped part way)")
    args = ap.parse_args()
    out, seeds = Path(args.out), range(args.seeds)
    config, world = (CAMVID_CONFIG, [f"data.target_root={args.camvid}"]) if args.camvid else (CONFIG, WORLD)
    base = [*world, "train.threads=1", *args.overrides]
    pretrain = {}
    for s in seeds:
        given = Path(args.pretrained) / f"pretrain-s{s}" if args.pretrained else None
        pretrain[s] = given if given and (given / "results.json").exists() else out / f"pretrain-s{s}"
    missing = [([*base, "train.method=pretrain", f"train.seed={s}", f"train.iterations={args.pretrain_iterations}"],
                pretrain[s]) for s in seeds if not (pretrain[s] / "results.json").exists()]
    names = [n for n in (args.only or SETTINGS) if not (n == "source_only" and args.source_only_from)]
    folders = {name: {s: out / f"{name}-s{s}" for s in seeds} for name in SETTINGS}
    if args.source_only_from:
        folders["source_only"] = {s: Path(args.source_only_from) / f"source_only-s{s}" for s in seeds}

    def runs(of_seeds) -> list:
        return [([*base, *SETTINGS[name], f"train.seed={s}", f"train.init_from={pretrain[s].resolve()}"],
                 out / f"{name}-s{s}") for s in of_seeds for name in names]

    ready = [s for s in seeds if (pretrain[s] / "results.json").exists()]
    try:  # a missing pretraining trains after the runs of the seeds that have theirs, then its seed's runs
        if not args.table_only:  # (reading finished runs needs no lock)
            with folder_lock(out):
                train_all(runs(ready) + missing, args.jobs, config)
                train_all(runs([s for s in seeds if s not in ready]), args.jobs, config)
    except SpiganError as e:  # a bad key=value, or the folder in use: one line, as the spigan command says it
        raise SystemExit(f"pi_kinds: {e}") from None

    text, record = table(folders, seeds)
    starts = ", ".join(f"seed {s}: {pretrain[s]}" for s in seeds)
    where = (f"sim->CamVid (configs/sim2camvid.yaml), 11-class mIoU (%) on CamVid val at {args.camvid}"
             if args.camvid else "Tuning world (configs/demo.yaml, data.sim_seed=100), 16-class mIoU (%) on its "
                                 "200 held-out photo frames")
    if args.source_only_from:
        where += f"; source_only from {args.source_only_from}"
    text = f"{where}, {args.seeds} seed(s); warm starts: {starts}.\n\n{text}"
    write_figures(out, record, "CamVid val" if args.camvid else "tuning world")
    (out / "table.md").write_text(text + "\n")
    (out / "table.json").write_text(json.dumps({"warm_starts": {s: str(p) for s, p in pretrain.items()},
                                                **record}, indent=1) + "\n")
    print(text)


if __name__ == "__main__":
    main()
