"""Every figure of the project, named after the paper's where they match: loss curves
(Figures 3-4), adapted images (5-6), segmentations (7-8), the demo's Figure 1, and the
simulator preview. matplotlib runs on the file-only Agg backend (no display needed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from spigan.checkpoint import load_checkpoint, network_from_checkpoint
from spigan.config import Config
from spigan.data.transforms import tensor_to_image
from spigan.depth import decode_depth
from spigan.errors import SpiganError
from spigan.inference import segment
from spigan.loss_config import PI_TYPES, LossConfig, pi_order, split_pi
from spigan.ontology import CLASSES_16, ONTOLOGIES, PALETTE_16, colorize
from spigan.results import FinishedRun
from spigan.sim import SKY_DEPTH, SimKnobs, render_pair
from spigan.sources import validation_samples

GRADIENT_TERMS = {"adversarial": "α·L_GAN", "task": "β·L_T(G(x_s))", "privileged": "γ·L_P(G(x_s))",
                  "perceptual": "δ·L_perc"}
# Each kind of privileged information's part of γ·L_P (objective.adaptation_step: privileged_KIND).
PI_GRADIENT_TERMS = {f"privileged_{kind}": f"γ_{kind}·L_{kind}(G(x_s))" for kind in PI_TYPES}


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def image_formats() -> set[str]:
    """File extensions matplotlib can write (png, pdf, svg, jpg, ...)."""
    plt = pyplot()
    fig = plt.figure()
    try:
        return set(fig.canvas.get_supported_filetypes())
    finally:
        plt.close(fig)


def draw_row(axes, row: int, panels, titles, fontsize: int = 10) -> None:
    """Shows `panels` (images) in row `row` of an axes grid, titled on the first row."""
    for col, panel in enumerate(panels):
        ax = axes[row, col]
        ax.imshow(panel, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if row == 0:
            ax.set_title(titles[col], fontsize=fontsize)


def depth_to_rgb(depth: np.ndarray, far: float = SKY_DEPTH) -> np.ndarray:
    """Log-scaled depth (1 m .. far) through matplotlib's magma colour map, as uint8 RGB."""
    import matplotlib

    scaled = np.clip(np.log(np.maximum(depth, 1.0)) / np.log(far), 0, 1)
    return (matplotlib.colormaps["magma_r"](scaled)[..., :3] * 255).astype(np.uint8)


def normals_to_rgb(normals: np.ndarray) -> np.ndarray:
    """(3, H, W) normals -> (H, W, 3) uint8 RGB = (n + 1) / 2, each scaled to unit length
    first (P's raw normals are not); (0, 0, 0), no geometry, is mid-grey."""
    length = np.linalg.norm(normals, axis=0, keepdims=True)
    unit = normals / np.maximum(length, 1e-3)  # as losses.cosine_normals (NORMALS_EPS)
    return np.clip((unit.transpose(1, 2, 0) + 1) / 2 * 255 + 0.5, 0, 255).astype(np.uint8)


def grey_to_rgb(values: np.ndarray) -> np.ndarray:
    """(H, W) values in [0, 1] -> (H, W, 3) uint8 grey (boundaries: white)."""
    return np.repeat((np.clip(values, 0, 1) * 255 + 0.5).astype(np.uint8)[..., None], 3, axis=2)


def privileged_to_rgb(kind: str, value: np.ndarray, loss: LossConfig | None = None) -> np.ndarray:
    """One kind of privileged information as a picture: P's raw output for it (C_k, H, W),
    given `loss` (its depth target), or the simulator's (`loss` None): depth in metres
    through depth_to_rgb, normals as (n + 1) / 2, boundaries grey (P's logit through a
    sigmoid)."""
    if kind == "depth":
        return depth_to_rgb(value[0] if loss is None else decode_depth(value[0], loss.max_depth, loss.depth_target))
    if kind == "normals":
        return normals_to_rgb(value)
    return grey_to_rgb(value[0] if loss is None else 1 / (1 + np.exp(-value[0])))


def spread(length: int, count: int) -> list[int]:
    """`count` indices spread evenly over a split: real splits are video sequences, where
    neighbouring frames look alike."""
    return [int(k) for k in np.linspace(0, length - 1, count).round()]


def _save(fig, path: Path, dpi: int) -> Path:
    plt = pyplot()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


# ---------------------------------------------------------------------------------------
# The simulator
# ---------------------------------------------------------------------------------------


def save_preview(path: str | Path, scenes: int = 4, height: int = 192, width: int = 384, seed: int = 0,
                 knobs: SimKnobs | None = None) -> Path:
    """For several scenes, seen through a camera of the `sim` distribution (`knobs`): the
    `sim` frame, the `photo` frame of the same scene and camera, the labels in the
    Cityscapes palette, and the depth map."""
    from matplotlib.patches import Patch

    plt = pyplot()
    columns = ("sim renderer", "photo renderer (same scene, same camera)", "labels (16 classes)",
               "depth (z-buffer, log scale)")
    fig, axes = plt.subplots(scenes, 4, figsize=(4 * width / 100, scenes * height / 100 + 1.2), squeeze=False)
    for row in range(scenes):
        sim, photo = render_pair(seed, row, height, width, camera_domain="sim", knobs=knobs)
        draw_row(axes, row, (sim.rgb, photo.rgb, colorize(sim.labels), depth_to_rgb(sim.depth)), columns)
    handles = [Patch(color=np.asarray(c) / 255, label=n) for n, c in zip(CLASSES_16, PALETTE_16)]
    fig.legend(handles=handles, loc="lower center", ncol=8, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return _save(fig, path, 100)


# ---------------------------------------------------------------------------------------
# Training curves (Figures 3-4)
# ---------------------------------------------------------------------------------------


def plot_losses(history: list[dict], early_stop: int | None, path: str | Path, title: str = "") -> Path:
    """Loss curves like the paper's Figures 3 and 4 (loss_figure), saved to `path`."""
    return _save(loss_figure(history, early_stop, title), path, 90)


def _curve(ax, x, y, **style) -> None:
    """One curve, without its missing (NaN) points; a lone point (a run shorter than
    log_every logs its first and last iterations only) gets a marker, or it would not show."""
    points = [(a, b) for a, b in zip(x, y) if np.isfinite(b)]
    if points:
        xs, ys = zip(*points)
        ax.plot(xs, ys, marker="o" if len(points) == 1 else None, **style)


def loss_figure(history: list[dict], early_stop: int | None, title: str = ""):
    """The figure of plot_losses: the task, perceptual and privileged terms, on a log scale
    (L_P in metres is about 60 where the others are about 1); the discriminator loss against
    the generator's adversarial loss, with the early-stopping iteration marked; and, where
    logged, each term's share of what moves G."""
    plt = pyplot()
    its = [h["iteration"] for h in history]
    adversarial = any("adversarial" in h for h in history)
    shares = [h for h in history if "generator_gradient_share/adversarial" in h]
    panels = 1 + adversarial + bool(shares)
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 4), squeeze=False)
    ax = axes[0, 0]
    # Depth's L_P keeps the paper's names; the other kinds of PI are privileged_KIND_source/_adapted.
    others = [(f"privileged_{kind}_{image}", f"{kind} on {where}") for kind in PI_TYPES[1:]
              for image, where in (("source", "x_s"), ("adapted", "G(x_s)"))]
    for key, label in (("task_source", "task on x_s"), ("task_adapted", "task on G(x_s)"),
                       ("perceptual", "perceptual"), ("privileged_source", "privileged on x_s"),
                       ("privileged_adapted", "privileged on G(x_s)"), *others,
                       ("perceptual_task", "φ's segmentation on x_s (pretraining)")):
        if any(h.get(key) for h in history):  # absent, or identically zero (a term the method lacks)
            _curve(ax, its, [h.get(key, float("nan")) for h in history], label=label)
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss (log scale)")
    ax.set_title("task, perceptual and privileged terms (cf. Fig. 3)")
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    if adversarial:
        ax = axes[0, 1]
        _curve(ax, its, [h.get("discriminator", float("nan")) for h in history], label="discriminator", alpha=0.35,
               color="C0")
        _curve(ax, its, [h.get("adversarial", float("nan")) for h in history], label="generator (adversarial)",
               alpha=0.35, color="C1")
        smooth = [h for h in history if "early_stopping/ema_discriminator" in h]
        _curve(ax, [h["iteration"] for h in smooth], [h["early_stopping/ema_discriminator"] for h in smooth],
               color="C0", label="discriminator, smoothed")
        _curve(ax, [h["iteration"] for h in smooth], [h["early_stopping/ema_adversarial"] for h in smooth],
               color="C1", label="generator, smoothed")
        if early_stop is not None:
            ax.axvline(early_stop, color="k", linestyle="--", label=f"early stop ({early_stop})")
        ax.set_xlabel("iteration")
        ax.set_title("adversarial losses and early stopping (cf. Fig. 4)")
        ax.legend()
        ax.grid(alpha=0.3)
    if shares:
        ax = axes[0, panels - 1]
        for term, label in GRADIENT_TERMS.items():
            _curve(ax, [h["iteration"] for h in shares], [100 * h[f"generator_gradient_share/{term}"] for h in shares],
                   label=label)
        logged = {k.split("/", 1)[1] for h in shares for k in h if k.startswith("generator_gradient_share/")}
        for term, label in pi_terms_shown(logged).items():  # dashed: parts of the privileged term
            _curve(ax, [h["iteration"] for h in shares],
                   [100 * h.get(f"generator_gradient_share/{term}", float("nan")) for h in shares], label=label,
                   linestyle="--")
        ax.set_xlabel("iteration")
        ax.set_ylabel("% of the gradient norms into G")
        ax.set_title("what moves G: each weighted term's share")
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def pi_terms_shown(logged) -> dict[str, str]:
    """Of the `logged` gradient terms' names, the kinds of PI whose shares are drawn and
    tabled (privileged_KIND: label): none with depth alone, the paper's setting, where the
    kind's share is the privileged term's."""
    logged = set(logged)
    shown = {t: label for t, label in PI_GRADIENT_TERMS.items() if t in logged}
    return shown if set(shown) - {"privileged_depth"} else {}


# ---------------------------------------------------------------------------------------
# The ablation's figures (Figures 3-8)
# ---------------------------------------------------------------------------------------


def _has_shares(rows: list[dict]) -> bool:
    return any("generator_gradient_share/adversarial" in r for r in rows)


def _network(run: FinishedRun, which: str) -> torch.nn.Module | None:
    """A network of a run's default checkpoint, frozen (None if the run has none)."""
    return network_from_checkpoint(load_checkpoint(run.default_checkpoint()), which)


def write_figures(runs: list[FinishedRun], folder: Path, examples: int = 4) -> dict[Path, tuple[int, int]]:
    """Loss curves of each adapted method's first seed, and the qualitative grids.
    Returns each figure's (rows, columns) of panels."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    first: dict[str, FinishedRun] = {}
    for r in sorted(runs, key=lambda r: r.seed):
        first.setdefault(r.method, r)
    for method, r in first.items():
        if not r.cfg.variant().adapted:
            continue
        rows = [json.loads(line) for line in (r.path / "metrics.jsonl").read_text().splitlines() if line.strip()]
        start = f", started from {r.result.started_from()}" if r.result.init_from else ""
        written[plot_losses(rows, r.result.early_stopping_iteration, folder / f"losses_{method}.png",
                            f"{method}, seed {r.seed}{start} (cf. Fig. 3-4)")] = (1, 3 if _has_shares(rows) else 2)
    written.update(qualitative(first, folder, examples))
    return written


@torch.no_grad()
def qualitative(first: dict[str, FinishedRun], folder: Path, examples: int = 4) -> dict[Path, tuple[int, int]]:
    """Figures 5-6 (source frames; adapted by no_pi; adapted by spigan), P's prediction of
    each kind of privileged information from spigan's G(x_s) beside the simulator's
    (privileged.png; cf. Fig. 1's third column), and Figures 7-8 (target photos;
    segmentations of source_only, no_pi, spigan; ground truth)."""
    from matplotlib.patches import Patch

    plt = pyplot()
    cfg = next(iter(first.values())).cfg
    names, palette = ONTOLOGIES[cfg.data.ontology]
    written = {}

    generators = {m: _network(first[m], "generator") for m in ("no_pi", "spigan") if m in first}
    if generators:
        source = validation_samples(cfg, "source", ("image",))
        examples = min(examples, len(source))
        cols = ["source frame x_s"] + [f"G(x_s), {m}" for m in generators]
        fig, axes = plt.subplots(examples, len(cols), figsize=(3.2 * len(cols), 1.7 * examples + 0.4), squeeze=False)
        for i, k in enumerate(spread(len(source), examples)):
            x = source[k]["image"][None]
            draw_row(axes, i, [tensor_to_image(x[0])] + [tensor_to_image(g(x)[0]) for g in generators.values()], cols)
        fig.suptitle("Adapted source images (cf. Fig. 5-6)")
        fig.tight_layout()
        written[_save(fig, folder / "adaptation.png", 90)] = (examples, len(cols))
    if "spigan" in generators:
        written.update(privileged_figure(first["spigan"], generators["spigan"], folder, examples))

    segmenters = {m: _network(first[m], "task") for m in ("source_only", "no_pi", "spigan") if m in first}
    if segmenters:
        target = validation_samples(cfg)
        examples = min(examples, len(target))
        cols = ["target photo"] + [f"T, {m}" for m in segmenters] + ["ground truth"]
        fig, axes = plt.subplots(examples, len(cols), figsize=(2.8 * len(cols), 1.6 * examples + 1.0), squeeze=False)
        for i, k in enumerate(spread(len(target), examples)):
            sample = target[k]
            size = tuple(sample["labels"].shape)
            panels = [tensor_to_image(sample["image"])]
            panels += [colorize(segment(t, sample["image"][None], size)[0].numpy().astype(np.uint8), palette)
                       for t in segmenters.values()]
            panels.append(colorize(sample["labels"].numpy().astype(np.uint8), palette))
            draw_row(axes, i, panels, cols)
        handles = [Patch(color=np.asarray(c) / 255, label=n) for n, c in zip(names, palette)]
        fig.legend(handles=handles, loc="lower center", ncol=min(8, len(names)), fontsize=8, frameon=False)
        fig.suptitle("Target segmentations (cf. Fig. 7-8)")
        fig.tight_layout(rect=(0, 0.08, 1, 1))
        written[_save(fig, folder / "segmentation.png", 90)] = (examples, len(cols))
    return written


@torch.no_grad()
def privileged_figure(run: FinishedRun, G: torch.nn.Module, folder: Path, examples: int = 4
                      ) -> dict[Path, tuple[int, int]]:
    """privileged.png: source frames x_s, G(x_s), and for each kind of privileged information
    P learnt (loss.pi), P's prediction from G(x_s) beside the simulator's (depth, normals
    as (n + 1) / 2, boundaries grey). Nothing for a run without P."""
    P = _network(run, "privileged")
    if P is None:
        return {}
    plt = pyplot()
    loss = run.cfg.loss
    kinds = pi_order(loss.pi)
    try:
        source = validation_samples(run.cfg, "source", ("image", *kinds))
    except SpiganError:  # a source without them for the frames shown: P's predictions alone
        source = validation_samples(run.cfg, "source", ("image",))
    examples = min(examples, len(source))
    cols = ["source frame x_s", "G(x_s)"]
    cols += [title for kind in kinds for title in (f"P's {kind} of G(x_s)", f"{kind} (simulator)")]
    fig, axes = plt.subplots(examples, len(cols), figsize=(2.8 * len(cols), 1.6 * examples + 0.4), squeeze=False)
    for i, k in enumerate(spread(len(source), examples)):
        sample = source[k]
        x_f = G(sample["image"][None])
        predicted = split_pi(P(x_f), loss.pi)
        panels = [tensor_to_image(sample["image"]), tensor_to_image(x_f[0])]
        for kind in kinds:
            panels.append(privileged_to_rgb(kind, predicted[kind][0].float().numpy(), loss))
            truth = sample.get(kind)  # a kind the source cannot give: a blank panel
            panels.append(privileged_to_rgb(kind, truth.numpy()) if truth is not None else np.zeros_like(panels[0]))
        draw_row(axes, i, panels, cols, fontsize=9)
    fig.suptitle(f"P's privileged information from G(x_s), beside the simulator's ({run.method}, seed {run.seed})")
    fig.tight_layout()
    return {_save(fig, folder / "privileged.png", 90): (examples, len(cols))}


# ---------------------------------------------------------------------------------------
# The demo (Figure 1)
# ---------------------------------------------------------------------------------------


@torch.no_grad()
def figure_one(cfg: Config, path: Path, spigan: FinishedRun, source_only: FinishedRun, examples: int = 4) -> Path:
    """Like the paper's Figure 1: simulator frame, G's adaptation, P's depth (or the first
    kind of privileged information P learnt, without depth), then a photo frame with the
    segmentations of source-only and SPIGAN, and the ground truth."""
    state = load_checkpoint(spigan.default_checkpoint())
    G = network_from_checkpoint(state, "generator")
    P = network_from_checkpoint(state, "privileged")
    task = {"source_only": _network(source_only, "task"), "spigan": network_from_checkpoint(state, "task")}
    source = validation_samples(cfg, "source", ("image",))
    target = validation_samples(cfg)
    plt = pyplot()
    loss = spigan.cfg.loss
    kind = (pi_order(loss.pi) or ("depth",))[0]  # depth where P learnt it: it comes first
    titles = ["simulator frame x_s", "adapted G(x_s)", f"P's {kind} of G(x_s)", "photo frame",
              "source-only T", "SPIGAN T", "ground truth"]
    fig, axes = plt.subplots(examples, len(titles), figsize=(2.6 * len(titles), 1.5 * examples + 0.4), squeeze=False)
    for row in range(examples):
        x_s = source[row]["image"][None]
        x_f = G(x_s)
        panels = [tensor_to_image(x_s[0]), tensor_to_image(x_f[0])]
        if P is not None:
            panels.append(privileged_to_rgb(kind, split_pi(P(x_f), loss.pi)[kind][0].numpy(), loss))
        else:
            panels.append(np.zeros_like(panels[0]))
        sample = target[row]
        panels.append(tensor_to_image(sample["image"]))
        for name in ("source_only", "spigan"):
            panels.append(colorize(segment(task[name], sample["image"][None])[0].numpy().astype(np.uint8)))
        panels.append(colorize(sample["labels"].numpy().astype(np.uint8)))
        draw_row(axes, row, panels, titles, fontsize=9)
    fig.tight_layout()
    return _save(fig, path, 100)
