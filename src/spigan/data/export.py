"""Writing simulator frames in real datasets' layouts and encodings, so that they are read
back through exactly the code path real data takes.

- `sim` domain -> SYNTHIA-RAND-CITYSCAPES: RGB/NNNNNNN.png; GT/LABELS/NNNNNNN.png, a 16-bit
  3-channel PNG with the SYNTHIA class id in the first (red) channel; GT/COLOR/ previews;
  Depth/Depth/NNNNNNN.png, 16-bit centimetres (sky: 65535, i.e. 655.35 m).
- `photo` domain -> Cityscapes: leftImg8bit/{split}/simcity/simcity_000000_NNNNNN_leftImg8bit.png
  and gtFine/{split}/simcity/..._gtFine_labelIds.png (void -> 0, "unlabeled").

Exports are resumable: every file is written atomically, a frame counts as done when all
its files exist, and done frames are skipped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spigan.data.io import write_png_atomic
from spigan.data.ontology import (CITYSCAPES_UNLABELED, CLASS16_TO_CITYSCAPES, CLASS16_TO_SYNTHIA, PALETTE_16,
                                  colorize, lookup_table)
from spigan.sim.dataset import SimFrames

TO_SYNTHIA = lookup_table(CLASS16_TO_SYNTHIA)
TO_SYNTHIA[255] = 0  # void
TO_CITYSCAPES = lookup_table(CLASS16_TO_CITYSCAPES)
TO_CITYSCAPES[255] = CITYSCAPES_UNLABELED


def synthia_paths(out: Path, index: int) -> dict[str, Path]:
    name = f"{index:07d}.png"
    return {"rgb": out / "RGB" / name, "labels": out / "GT" / "LABELS" / name, "color": out / "GT" / "COLOR" / name,
            "depth": out / "Depth" / "Depth" / name}


def cityscapes_paths(out: Path, split: str, index: int) -> dict[str, Path]:
    stem = f"simcity_000000_{index:06d}"
    return {"rgb": out / "leftImg8bit" / split / "simcity" / f"{stem}_leftImg8bit.png",
            "labels": out / "gtFine" / split / "simcity" / f"{stem}_gtFine_labelIds.png"}


def export(domain: str, count: int, height: int, width: int, out: str | Path, split: str = "train", seed: int = 0,
           progress: bool = True) -> int:
    """Renders and writes `count` frames; returns how many were written (not already there)."""
    from tqdm import tqdm

    out = Path(out)
    frames = SimFrames(domain, split, count, height, width, seed=seed)
    written = 0
    for index in tqdm(range(count), desc=f"export {domain}", disable=not progress):
        paths = synthia_paths(out, index) if domain == "sim" else cityscapes_paths(out, split, index)
        if all(p.exists() for p in paths.values()):
            continue
        frame = frames[index]
        if domain == "sim":
            labels = np.zeros((height, width, 3), dtype=np.uint16)
            labels[..., 2] = TO_SYNTHIA[frame.labels]  # red channel, in OpenCV's BGR order
            depth_cm = np.clip(np.round(frame.depth.astype(np.float64) * 100), 0, 65535).astype(np.uint16)
            write_png_atomic(paths["labels"], labels)
            write_png_atomic(paths["color"], colorize(frame.labels, PALETTE_16)[..., ::-1])
            write_png_atomic(paths["depth"], depth_cm)
        else:
            write_png_atomic(paths["labels"], TO_CITYSCAPES[frame.labels])
        write_png_atomic(paths["rgb"], frame.rgb[..., ::-1])  # last: its presence marks a finished frame
        written += 1
    return written
