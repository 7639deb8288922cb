"""Does G paint the labels? T scored on the simulator's own frames x_s and on G(x_s).

    python benchmarks/task_on_adapted.py RUN [RUN ...] [--baseline SOURCE_ONLY_RUN ...] [--frames 100]

Issue 22's adapted runs fall below source_only on CamVid while G changes little but adds
coloured textures (docs/ablation-camvid-warm/figures/adaptation.png). In the paper's
objective G also minimises β·L_T(G(x_s)): G is rewarded for whatever makes T right on
G(x_s), and a texture that marks a class does that. A T that learns to read such marks
leans on cues real photos never carry. This measures it with the simulator's labels
alone (never the target's): on `--frames` frames of the source's validation split, each
RUN's T on x_s and on G(x_s) (its last checkpoint), and, with `--baseline` (one per RUN,
in order, e.g. the same seed's source_only), a T that never saw G on the same two inputs.

- T_run(G(x_s)) - T_run(x_s) > 0: the run's T does better on G's images than on the
  simulator's own, although they show the same scenes: G adds cues T reads.
- T_baseline(G(x_s)) - T_baseline(x_s) < 0: G's images lose, for a T that never saw G,
  part of what made x_s readable (content not preserved, or texture in the way).

mIoU in the config's ontology over the frames (mean over classes present).

With `--gap`, also how far G moved x_s towards the target's images, without labels: in the
features of φ from the run's warm start (`train.init_from`: the pretraining's VGG19), each
of φ's five layers pooled to one vector per image, the distance between two sets of images
as a Fréchet distance with diagonal covariances (|μ_a - μ_b|² + |σ_a - σ_b|²). "Feature
gap closed" is 1 - d(G(x_s), x_r) / d(x_s, x_r) per layer (conv1_2, conv2_2, conv3_2,
conv4_2, conv5_2), in %, on the first `--frames` frames of the target's training split
(x_r, unlabelled as in training): 0 for G = the identity, 100 for images as far from the
target as its own frames are, below 0 for images further from it than x_s. Per layer, not
averaged: the layers' distances differ by orders of magnitude, and the first layers see
colour and fine texture, the last ones the scene.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from spigan.checkpoint import load_checkpoint, network_from_checkpoint
from spigan.config import load_config
from spigan.data.datasets import Samples
from spigan.ontology import protocol_for
from spigan.scoring import evaluate_split
from spigan.sources import evaluation_samples, frame_source


def first(samples, n: int) -> list[dict]:
    """The first `n` samples of a split, read (or rendered) once for every score below."""
    return [samples[i] for i in range(min(n, len(samples)))]


@torch.no_grad()
def adapted(samples: list[dict], generator) -> list[dict]:
    """The samples with their images through G (computed once, one image at a time)."""
    return [{**item, "image": generator(item["image"][None])[0]} for item in samples]


def miou(task, samples, protocol) -> float:
    return 100 * evaluate_split(task, samples, protocol, torch.device("cpu")).miou


@torch.no_grad()
def pooled_features(phi, samples) -> list[torch.Tensor]:
    """Per layer of φ, (N, C): each image's activations averaged over its pixels."""
    per_image = [[f.mean(dim=(2, 3))[0] for f in phi(item["image"][None])] for item in samples]
    return [torch.stack(layer) for layer in zip(*per_image)]


def frechet_diagonal(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + ((a.std(0) - b.std(0)) ** 2).sum())


def gap_closed(phi, x_s, g_x_s, x_r) -> list[float]:
    """Per layer of φ, the % of the distance from x_s to x_r that G(x_s) no longer has."""
    s, g, r = (pooled_features(phi, images) for images in (x_s, g_x_s, x_r))
    return [100 * (1 - frechet_diagonal(gk, rk) / frechet_diagonal(sk, rk)) for sk, gk, rk in zip(s, g, r)]


def content_scores(run: Path, baseline: Path | None = None, frames: int = 100, gap: bool = False,
                   phi_from: Path | None = None) -> dict:
    """mIoU (%) of the run's T (and the baseline's, if given) on x_s and on G(x_s): the
    first `frames` frames of the run's source validation split, its last checkpoint; with
    `gap`, the feature gap closed, in the φ of `phi_from` (default: the run's init_from)."""
    cfg = load_config(run / "config.yaml")
    protocol = protocol_for(cfg.data.ontology, cfg.data.protocol)
    x_s = first(evaluation_samples(cfg, "sim", "val", frames=frames, domain=cfg.data.sim_source_domain), frames)
    checkpoint = load_checkpoint(run / "checkpoints" / "last.pt")
    g_x_s = adapted(x_s, network_from_checkpoint(checkpoint, "generator"))
    T = network_from_checkpoint(checkpoint, "task")
    got = {"T on x_s": miou(T, x_s, protocol), "T on G(x_s)": miou(T, g_x_s, protocol)}
    if baseline is not None:
        T0 = network_from_checkpoint(load_checkpoint(baseline / "checkpoints" / "last.pt"), "task")
        got |= {"baseline on x_s": miou(T0, x_s, protocol), "baseline on G(x_s)": miou(T0, g_x_s, protocol)}
    if gap:
        phi_from = phi_from or (Path(cfg.train.init_from) if cfg.train.init_from else None)
        phi = network_from_checkpoint(load_checkpoint(phi_from / "checkpoints" / "last.pt"), "perceptual") \
            if phi_from else None
        if phi is None:
            raise SystemExit(f"task_on_adapted: {run}: no pretrained φ (train.init_from: {phi_from or 'none'})")
        x_r = first(Samples(frame_source(cfg, "target", "train", ("image",)), None, ("image",)), frames)
        got["feature gap closed"] = gap_closed(phi, x_s, g_x_s, x_r)
    return got


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path, help="finished runs that trained G (base, no_pi, spigan)")
    ap.add_argument("--baseline", nargs="*", type=Path, default=[], help="a run whose T never saw G, one per RUN")
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--gap", action="store_true", help="also the feature gap G closes")
    args = ap.parse_args()
    if args.baseline and len(args.baseline) != len(args.runs):
        raise SystemExit("task_on_adapted: give one --baseline per RUN")
    torch.set_num_threads(1)
    print("| run | T on x_s | T on G(x_s) | difference | baseline T on x_s | on G(x_s) | difference | "
          "feature gap closed per layer of φ, % |")
    print("|---|---|---|---|---|---|---|---|")
    for i, run in enumerate(args.runs):
        got = content_scores(run, args.baseline[i] if args.baseline else None, args.frames, args.gap)
        row = f"| {run} |"
        for who in ("T", "baseline"):
            if f"{who} on x_s" in got:
                a, b = got[f"{who} on x_s"], got[f"{who} on G(x_s)"]
                row += f" {a:.1f} | {b:.1f} | {b - a:+.1f} |"
            else:
                row += " - | - | - |"
        row += (" " + " / ".join(f"{v:.0f}" for v in got["feature gap closed"]) + " |"
                if "feature gap closed" in got else " - |")
        print(row, flush=True)


if __name__ == "__main__":
    main()
