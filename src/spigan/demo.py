"""`spigan demo`: SPIGAN against no adaptation on the built-in simulator, sized for a CPU.

Trains `source_only` and `spigan` with configs/demo.yaml, scores both on held-out `photo`
frames, and writes a table (per-class IoU, mIoU, negative-transfer ratio) and a figure like
the paper's Figure 1.
"""

from __future__ import annotations

import json
import time
from importlib import resources
from pathlib import Path

from spigan.config import Config, load_config, with_method
from spigan.evaluate import negative_transfer
from spigan.figures import figure_one
from spigan.results import FinishedRun, RunResult, load_run
from spigan.train import train

DEMO_METHODS = ("source_only", "spigan")


def demo_config_path() -> Path:
    return Path(str(resources.files("spigan") / "configs" / "demo.yaml"))


def run_method(cfg: Config, method: str, out: Path, progress: bool) -> FinishedRun:
    """Trains one method into out/method, or reuses a finished run there."""
    run_dir = out / method
    if (run_dir / "results.json").exists():
        print(f"[{method}] reusing the finished run in {run_dir}")
    else:
        train(with_method(cfg, method, name=f"demo-{method}"), run_dir, progress=progress)
    return load_run(run_dir)


def results_table(results: dict[str, RunResult]) -> str:
    """Markdown table: one row per class, one column per method, then mIoU and negative transfer."""
    methods = list(results)
    default = {m: results[m].scores().to_dict() for m in methods}
    classes = list(default[methods[0]]["iou"])
    fmt = lambda v: "n/a" if v is None else f"{100 * v:.1f}"  # noqa: E731
    lines = [f"| class | {' | '.join(methods)} |", "|---" * (len(methods) + 1) + "|"]
    for c in classes:
        lines.append(f"| {c} | {' | '.join(fmt(default[m]['iou'][c]) for m in methods)} |")
    lines.append(f"| **mIoU** | {' | '.join('**' + fmt(default[m]['miou']) + '**' for m in methods)} |")
    if "source_only" in results:
        baseline = results["source_only"].scores()
        nt = [("-" if m == "source_only" else f"{negative_transfer(results[m].scores(), baseline):.2f}")
              for m in methods]
        lines.append(f"| negative transfer | {' | '.join(nt)} |")
    return "\n".join(lines)


def run_demo(out: str | Path, overrides: list[str] | None = None, progress: bool = True) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = load_config(demo_config_path(), overrides)
    tic = time.perf_counter()
    runs = {m: run_method(cfg, m, out, progress) for m in DEMO_METHODS}
    results = {m: r.result for m, r in runs.items()}
    table = results_table(results)
    elapsed = time.perf_counter() - tic
    fig = figure_one(cfg, out / "figure1.png", runs["spigan"], runs["source_only"])
    protocol = results["spigan"].protocol
    miou = {m: results[m].scores().miou for m in DEMO_METHODS}
    summary = {
        "protocol": protocol,
        "miou": miou,
        "gain": miou["spigan"] - miou["source_only"],
        "negative_transfer": negative_transfer(results["spigan"].scores(), results["source_only"].scores()),
        "early_stopping_iteration": results["spigan"].early_stopping_iteration,
        "seconds": elapsed,
        "imagenet_weights": results["spigan"].imagenet_weights,
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
