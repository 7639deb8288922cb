"""The preview grid: for several scenes, the `sim` frame, the `photo` frame of the same
scene and camera, the labels in the Cityscapes palette, and the depth map."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spigan.data.ontology import CLASSES_16, PALETTE_16, colorize
from spigan.figures import draw_row, pyplot
from spigan.sim import SKY_DEPTH, render_pair


def depth_to_rgb(depth: np.ndarray, far: float = SKY_DEPTH) -> np.ndarray:
    """Log-scaled depth (1 m .. far) through matplotlib's magma colour map, as uint8 RGB."""
    import matplotlib

    scaled = np.clip(np.log(np.maximum(depth, 1.0)) / np.log(far), 0, 1)
    return (matplotlib.colormaps["magma_r"](scaled)[..., :3] * 255).astype(np.uint8)


def save_preview(path: str | Path, scenes: int = 4, height: int = 192, width: int = 384, seed: int = 0) -> Path:
    from matplotlib.patches import Patch

    plt = pyplot()

    columns = ("sim renderer", "photo renderer (same scene, same camera)", "labels (16 classes)",
               "depth (z-buffer, log scale)")
    fig, axes = plt.subplots(scenes, 4, figsize=(4 * width / 100, scenes * height / 100 + 1.2), squeeze=False)
    for row in range(scenes):
        sim, photo = render_pair(seed, row, height, width)
        draw_row(axes, row, (sim.rgb, photo.rgb, colorize(sim.labels), depth_to_rgb(sim.depth)), columns)
    handles = [Patch(color=np.asarray(c) / 255, label=n) for n, c in zip(CLASSES_16, PALETTE_16)]
    fig.legend(handles=handles, loc="lower center", ncol=8, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
