"""`spigan demo`: SPIGAN against no adaptation on the built-in simulator, sized for a CPU.

Trains `source_only` and `spigan` with configs/demo.yaml, scores both on held-out `photo`
frames, and writes a table (per-class IoU, mIoU, negative-transfer ratio) and a figure like
the paper's Figure 1.
"""

from __future__ import annotations

import dataclasses
import json
import time
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from spigan.config import Config, load_config
from spigan.data.datasets import Samples, frame_source
from spigan.data.ontology import colorize
from spigan.inference import segment, to_numpy_image
from spigan.train import load_checkpoint, negative_transfer, train

DEMO_METHODS = ("source_only", "spigan")


def demo_config_path() -> Path:
    return Path(str(resources.files("spigan") / "configs" / "demo.yaml"))


def run_method(cfg: Config, method: str, out: Path, progress: bool) -> dict:
    """Trains one method into out/method, or reuses a finished run there."""
    run_dir = out / method
    done = run_dir / "results.json"
    if done.exists():
        print(f"[{method}] reusing the finished run in {run_dir}")
        return json.loads(done.read_text())
    run_cfg = dataclasses.replace(cfg, name=f"demo-{method}", train=dataclasses.replace(cfg.train, method=method))
    return train(run_cfg, run_dir, progress=progress)


def results_table(results: dict[str, dict]) -> str:
    """Markdown table: one row per class, one column per method, then mIoU and negative transfer."""
    methods = list(results)
    default = {m: results[m]["checkpoints"][results[m]["default"]] for m in methods}
    classes = list(default[methods[0]]["iou"])
    fmt = lambda v: "n/a" if v is None else f"{100 * v:.1f}"  # noqa: E731
    lines = [f"| class | {' | '.join(methods)} |", "|---" * (len(methods) + 1) + "|"]
    for c in classes:
        lines.append(f"| {c} | {' | '.join(fmt(default[m]['iou'][c]) for m in methods)} |")
    lines.append(f"| **mIoU** | {' | '.join('**' + fmt(default[m]['miou']) + '**' for m in methods)} |")
    if "source_only" in results:
        nt = [("-" if m == "source_only" else f"{negative_transfer(results[m], results['source_only']):.2f}")
              for m in methods]
        lines.append(f"| negative transfer | {' | '.join(nt)} |")
    return "\n".join(lines)


@torch.no_grad()
def figure_one(cfg: Config, out: Path, runs: dict[str, Path], examples: int = 4) -> Path:
    """Like the paper's Figure 1: simulator frame, G's adaptation, P's depth, then a photo
    frame with the segmentations of source-only and SPIGAN, and the ground truth."""
    from spigan.figures import draw_row, pyplot
    from spigan.models import FCN8s, ResnetGenerator
    from spigan.sim.preview import depth_to_rgb

    m = cfg.model
    spigan_state = load_checkpoint(runs["spigan"] / "checkpoints" / _default_checkpoint(runs["spigan"]))
    G = ResnetGenerator(m.generator_width, m.generator_blocks, skip=m.generator_skip)
    G.load_state_dict(spigan_state["networks"]["generator"])
    nets = {"spigan": spigan_state}
    nets["source_only"] = load_checkpoint(runs["source_only"] / "checkpoints" / _default_checkpoint(runs["source_only"]))
    task = {}
    for name, state in nets.items():
        task[name] = FCN8s(len(state["classes"]), m.fcn_width, m.fcn_fc_dim, input_padding=m.fcn_input_padding)
        task[name].load_state_dict(state["networks"]["task"])
        task[name].eval()
    P = None
    if "privileged" in spigan_state["networks"]:
        P = FCN8s(1, m.fcn_width, m.fcn_fc_dim, input_padding=m.fcn_input_padding)
        P.load_state_dict(spigan_state["networks"]["privileged"])
        P.eval()
    G.eval()

    source = Samples(frame_source(cfg, "source", "val"), None, ("image",))
    target = Samples(frame_source(cfg, "target", "val"), None, ("image", "labels"))
    plt = pyplot()
    titles = ["simulator frame x_s", "adapted G(x_s)", "P's depth of G(x_s)", "photo frame",
              "source-only T", "SPIGAN T", "ground truth"]
    fig, axes = plt.subplots(examples, len(titles), figsize=(2.6 * len(titles), 1.5 * examples + 0.4), squeeze=False)
    for row in range(examples):
        x_s = source[row]["image"][None]
        x_f = G(x_s)
        panels = [to_numpy_image(x_s[0]), to_numpy_image(x_f[0])]
        if P is not None:
            log_depth = P(x_f)[0, 0].clamp(0, 1).numpy()  # the encoded target: log(z) / log(max)
            panels.append(depth_to_rgb(np.exp(log_depth * np.log(cfg.loss.max_depth))))
        else:
            panels.append(np.zeros_like(panels[0]))
        sample = target[row]
        panels.append(to_numpy_image(sample["image"]))
        for name in ("source_only", "spigan"):
            panels.append(colorize(segment(task[name], sample["image"][None])[0].numpy().astype(np.uint8)))
        panels.append(colorize(sample["labels"].numpy().astype(np.uint8)))
        draw_row(axes, row, panels, titles, fontsize=9)
    fig.tight_layout()
    path = out / "figure1.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _default_checkpoint(run_dir: Path) -> str:
    results = json.loads((run_dir / "results.json").read_text())
    return f"{results['default']}.pt"


def run_demo(out: str | Path, overrides: list[str] | None = None, progress: bool = True) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = load_config(demo_config_path(), overrides)
    tic = time.perf_counter()
    results = {m: run_method(cfg, m, out, progress) for m in DEMO_METHODS}
    table = results_table(results)
    elapsed = time.perf_counter() - tic
    fig = figure_one(cfg, out, {m: out / m for m in DEMO_METHODS})
    protocol = results["spigan"]["protocol"]
    miou = {m: results[m]["checkpoints"][results[m]["default"]]["miou"] for m in DEMO_METHODS}
    summary = {
        "protocol": protocol,
        "miou": miou,
        "gain": miou["spigan"] - miou["source_only"],
        "negative_transfer": negative_transfer(results["spigan"], results["source_only"]),
        "early_stopping_iteration": results["spigan"]["early_stopping_iteration"],
        "seconds": elapsed,
        "imagenet_weights": results["spigan"]["imagenet_weights"],
    }
    text = (f"# spigan demo: {cfg.data.target_frames} unlabelled photo frames, scored on {cfg.data.val_frames} "
            f"held-out photo frames [{protocol}]\n\n{table}\n\n"
            f"SPIGAN - source-only: {100 * summary['gain']:+.1f} mIoU. "
            f"Early stopping: {summary['early_stopping_iteration'] or 'did not fire (last model used)'}. "
            f"Training and evaluation: {elapsed / 60:.1f} min.\n")
    if not all(summary["imagenet_weights"].values()):
        text += ("\nNOTE: the VGG networks started from random initialisation, not ImageNet weights "
                 "(see model.vgg16_weights / model.vgg19_weights).\n")
    (out / "results.md").write_text(text)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(text)
    print(f"wrote {out / 'results.md'}, {out / 'summary.json'}, {fig}")
    return summary
