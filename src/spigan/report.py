"""Tables and figures from finished runs: the ablation report (Table 2's columns, mean ± std
over seeds) and figures named after the paper's (loss curves like Figures 3-4, adapted
images like Figures 5-6, segmentations like Figures 7-8)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spigan.config import ADAPTED, METHODS, Config, config_from_dict
from spigan.errors import SpiganError
from spigan.evaluate import negative_transfer_ratio
from spigan.figures import draw_row, pyplot


@dataclass
class Run:
    path: Path
    cfg: Config
    results: dict

    @property
    def method(self) -> str:
        return self.cfg.train.method

    @property
    def seed(self) -> int:
        return self.cfg.train.seed

    def scores(self, which: str) -> dict:
        """`default` (early stopping where it fired, else last), `last`, or `oracle`."""
        name = self.results["default"] if which == "default" else which
        return self.results["checkpoints"][name]


def load_runs(paths: list[str | Path]) -> list[Run]:
    runs = []
    for p in paths:
        p = Path(p)
        results, config = p / "results.json", p / "config.yaml"
        if not results.exists() or not config.exists():
            raise SpiganError(f"{p}: not a finished run (needs config.yaml and results.json)")
        import yaml

        runs.append(Run(p, config_from_dict(yaml.safe_load(config.read_text())), json.loads(results.read_text())))
    protocols = {r.results["protocol"] for r in runs}
    if len(protocols) > 1:
        raise SpiganError(f"runs scored with different protocols cannot share a table: {sorted(protocols)}")
    return runs


def _per_image(scores: dict) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in scores["per_image_miou"]])


def _mean_std(values: list[float]) -> tuple[float, float]:
    a = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    a = a[~np.isnan(a)]
    return (float(a.mean()), float(a.std())) if a.size else (float("nan"), float("nan"))


def aggregate(runs: list[Run], which: str = "default") -> dict:
    """Per method: every seed's mIoU and per-class IoU, their mean and std over seeds, and
    the negative-transfer ratio against the same seed's source_only run."""
    source = {r.seed: r for r in runs if r.method == "source_only"}
    out: dict = {"protocol": runs[0].results["protocol"], "checkpoint": which, "methods": {}}
    for method in [m for m in METHODS if any(r.method == m for r in runs)]:
        mine = sorted((r for r in runs if r.method == method), key=lambda r: r.seed)
        if which == "oracle" and not all("oracle" in r.results["checkpoints"] for r in mine):
            continue
        seeds = []
        for r in mine:
            s = r.scores(which)
            row = {"seed": r.seed, "miou": s["miou"], "iou": s["iou"], "run": str(r.path),
                   "checkpoint": r.results["default"] if which == "default" else which,
                   "early_stopping_iteration": r.results.get("early_stopping_iteration")}
            if method in ADAPTED and r.seed in source:
                row["negative_transfer"] = negative_transfer_ratio(_per_image(s),
                                                                   _per_image(source[r.seed].scores("default")))
            seeds.append(row)
        classes = list(seeds[0]["iou"])
        entry = {"seeds": seeds, "miou": _mean_std([s["miou"] for s in seeds]),
                 "iou": {c: _mean_std([s["iou"][c] for s in seeds]) for c in classes}}
        if all("negative_transfer" in s for s in seeds):
            entry["negative_transfer"] = _mean_std([s["negative_transfer"] for s in seeds])
        out["methods"][method] = entry
    return out


def _pm(value: tuple[float, float], scale: float = 100.0, digits: int = 1) -> str:
    mean, std = value
    return "n/a" if np.isnan(mean) else f"{scale * mean:.{digits}f} ± {scale * std:.{digits}f}"


def markdown(table: dict, title: str) -> str:
    methods = table["methods"]
    if not methods:
        return f"## {title}\n\n(no runs)\n"
    classes = list(next(iter(methods.values()))["iou"])
    lines = [f"## {title}", "", f"Protocol: {table['protocol']}; mean ± std over seeds.", "",
             "| method | " + " | ".join(classes) + " | mIoU | neg. transfer |",
             "|---" * (len(classes) + 3) + "|"]
    for m, e in methods.items():
        nt = _pm(e["negative_transfer"], 1, 2) if "negative_transfer" in e else "-"
        lines.append(f"| {m} | " + " | ".join(_pm(e["iou"][c]) for c in classes) + f" | **{_pm(e['miou'])}** | {nt} |")
    lines += ["", "Every seed (mIoU; negative transfer against the same seed's source_only; checkpoint used):", "",
              "| method | seed | mIoU | neg. transfer | checkpoint | early stop |", "|---|---|---|---|---|---|"]
    for m, e in methods.items():
        for s in e["seeds"]:
            nt = f"{s['negative_transfer']:.2f}" if "negative_transfer" in s else "-"
            lines.append(f"| {m} | {s['seed']} | {100 * s['miou']:.1f} | {nt} | {s['checkpoint']} | "
                         f"{s['early_stopping_iteration'] or '-'} |")
    return "\n".join(lines) + "\n"


def write_report(runs: list[Run], out: str | Path, oracle: bool = False, figures: bool = True) -> dict:
    """report.md, report.csv, report.json (and figures/) for a set of finished runs."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tables = {"default": aggregate(runs, "default"), "last": aggregate(runs, "last")}
    if oracle:
        tables["oracle"] = aggregate(runs, "oracle")
    titles = {"default": "Default checkpoint (early stopping where it fired; no target labels used)",
              "last": "Last checkpoint", "oracle": "ORACLE: best checkpoint chosen with target labels"}
    text = "# Ablation report\n\n" + "\n".join(markdown(tables[k], titles[k]) for k in tables)
    (out / "report.md").write_text(text)
    (out / "report.json").write_text(json.dumps(tables, indent=2, default=lambda v: None))
    with open(out / "report.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["checkpoint", "protocol", "method", "seed", "miou", "negative_transfer", "class", "iou"])
        for which, table in tables.items():
            for method, e in table["methods"].items():
                for s in e["seeds"]:
                    for c, v in s["iou"].items():
                        writer.writerow([which, table["protocol"], method, s["seed"], s["miou"],
                                         s.get("negative_transfer", ""), c, "" if v is None else v])
    if figures:
        tables["figures"] = {str(p): panels for p, panels in write_figures(runs, out / "figures").items()}
    return tables


# ---------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------


def plot_losses(history: list[dict], early_stop: int | None, path: str | Path, title: str = "") -> Path:
    """Loss curves like the paper's Figures 3 and 4: the task, perceptual and privileged
    terms; and the discriminator loss against the generator's adversarial loss, with the
    early-stopping iteration marked."""
    plt = pyplot()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    its = [h["iteration"] for h in history]
    adversarial = any("adversarial" in h for h in history)
    fig, axes = plt.subplots(1, 2 if adversarial else 1, figsize=(12 if adversarial else 6, 4), squeeze=False)
    ax = axes[0, 0]
    for key, label in (("task_source", "task on x_s"), ("task_adapted", "task on G(x_s)"),
                       ("perceptual", "perceptual"), ("privileged_source", "privileged on x_s"),
                       ("privileged_adapted", "privileged on G(x_s)")):
        if any(h.get(key) for h in history):  # absent, or identically zero (a term the method lacks)
            ax.plot(its, [h.get(key, float("nan")) for h in history], label=label)
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.set_title("task, perceptual and privileged terms (cf. Fig. 3)")
    ax.legend()
    ax.grid(alpha=0.3)
    if adversarial:
        ax = axes[0, 1]
        ax.plot(its, [h["discriminator"] for h in history], label="discriminator", alpha=0.35, color="C0")
        ax.plot(its, [h["adversarial"] for h in history], label="generator (adversarial)", alpha=0.35, color="C1")
        smooth = [h for h in history if "early_stopping/ema_discriminator" in h]
        ax.plot([h["iteration"] for h in smooth], [h["early_stopping/ema_discriminator"] for h in smooth], color="C0",
                label="discriminator, smoothed")
        ax.plot([h["iteration"] for h in smooth], [h["early_stopping/ema_adversarial"] for h in smooth], color="C1",
                label="generator, smoothed")
        if early_stop is not None:
            ax.axvline(early_stop, color="k", linestyle="--", label=f"early stop ({early_stop})")
        ax.set_xlabel("iteration")
        ax.set_title("adversarial losses and early stopping (cf. Fig. 4)")
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def write_figures(runs: list[Run], folder: Path, examples: int = 4) -> dict[Path, tuple[int, int]]:
    """Loss curves of each adapted method's first seed, and the qualitative grids.
    Returns each figure's (rows, columns) of panels."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    first = {}
    for r in sorted(runs, key=lambda r: r.seed):
        first.setdefault(r.method, r)
    for method, r in first.items():
        rows = [json.loads(line) for line in (r.path / "metrics.jsonl").read_text().splitlines() if line.strip()]
        if method in ADAPTED:
            written[plot_losses(rows, r.results.get("early_stopping_iteration"), folder / f"losses_{method}.png",
                                f"{method}, seed {r.seed} (cf. Fig. 3-4)")] = (1, 2)
    written.update(qualitative(first, folder, examples))
    return written


def _load_net(run: Run, which: str, device):
    """A network of a run's default checkpoint, frozen (None if the run has none)."""
    from spigan.models import ResnetGenerator
    from spigan.train import load_checkpoint, task_net_from_checkpoint

    state = load_checkpoint(run.path / "checkpoints" / f"{run.results['default']}.pt")
    if which not in state["networks"]:
        return None
    if which == "generator":
        m = run.cfg.model
        net = ResnetGenerator(m.generator_width, m.generator_blocks, skip=m.generator_skip)
        net.load_state_dict(state["networks"][which])
    else:
        net, _ = task_net_from_checkpoint(state, device, which)
    return net.to(device).eval().requires_grad_(False)


def spread(length: int, count: int) -> list[int]:
    """`count` indices spread evenly over a split: real splits are video sequences, where
    neighbouring frames look alike."""
    return [int(k) for k in np.linspace(0, length - 1, count).round()]


def qualitative(first: dict[str, Run], folder: Path, examples: int = 4) -> dict[Path, tuple[int, int]]:
    """Figures 5-6 (source frames; adapted by no_pi; adapted by spigan) and Figures 7-8
    (target photos; segmentations of source_only, no_pi, spigan; ground truth)."""
    import torch

    from spigan.data.datasets import Samples, frame_source
    from spigan.data.ontology import ONTOLOGIES, colorize
    from spigan.inference import segment, to_numpy_image

    plt = pyplot()
    device = torch.device("cpu")
    any_run = next(iter(first.values()))
    cfg = any_run.cfg
    names, palette = ONTOLOGIES[cfg.data.ontology]
    written = {}

    generators = {m: _load_net(first[m], "generator", device) for m in ("no_pi", "spigan") if m in first}
    if generators:
        source = Samples(frame_source(cfg, "source", "val"), None, ("image",))
        examples = min(examples, len(source))
        cols = ["source frame x_s"] + [f"G(x_s), {m}" for m in generators]
        fig, axes = plt.subplots(examples, len(cols), figsize=(3.2 * len(cols), 1.7 * examples + 0.4), squeeze=False)
        for i, k in enumerate(spread(len(source), examples)):
            x = source[k]["image"][None]
            draw_row(axes, i, [to_numpy_image(x[0])] + [to_numpy_image(g(x)[0]) for g in generators.values()], cols)
        fig.suptitle("Adapted source images (cf. Fig. 5-6)")
        fig.tight_layout()
        fig.savefig(folder / "adaptation.png", dpi=90)
        plt.close(fig)
        written[folder / "adaptation.png"] = (examples, len(cols))

    segmenters = {m: _load_net(first[m], "task", device) for m in ("source_only", "no_pi", "spigan") if m in first}
    if segmenters:
        from matplotlib.patches import Patch

        target = Samples(frame_source(cfg, "target", "val"), None, ("image", "labels"))
        examples = min(examples, len(target))
        cols = ["target photo"] + [f"T, {m}" for m in segmenters] + ["ground truth"]
        fig, axes = plt.subplots(examples, len(cols), figsize=(2.8 * len(cols), 1.6 * examples + 1.0), squeeze=False)
        for i, k in enumerate(spread(len(target), examples)):
            sample = target[k]
            size = tuple(sample["labels"].shape)
            panels = [to_numpy_image(sample["image"])]
            panels += [colorize(segment(t, sample["image"][None], size)[0].numpy().astype(np.uint8), palette)
                       for t in segmenters.values()]
            panels.append(colorize(sample["labels"].numpy().astype(np.uint8), palette))
            draw_row(axes, i, panels, cols)
        handles = [Patch(color=np.asarray(c) / 255, label=n) for n, c in zip(names, palette)]
        fig.legend(handles=handles, loc="lower center", ncol=min(8, len(names)), fontsize=8, frameon=False)
        fig.suptitle("Target segmentations (cf. Fig. 7-8)")
        fig.tight_layout(rect=(0, 0.08, 1, 1))
        fig.savefig(folder / "segmentation.png", dpi=90)
        plt.close(fig)
        written[folder / "segmentation.png"] = (examples, len(cols))
    return written
