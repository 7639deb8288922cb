"""`spigan data check`: read every file of a split and report counts, sizes, the class
histogram, the depth range, and every malformed or missing file with what is wrong."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from spigan.data import io
from spigan.data.real import dataset_ontology, has_depth, real_frames
from spigan.errors import SpiganError
from spigan.ontology import ONTOLOGIES, REAL_DATASETS


@dataclass
class Report:
    dataset: str
    root: str
    split: str
    ontology: str
    frames: int = 0
    sizes: Counter = field(default_factory=Counter)  # (height, width) -> images
    class_pixels: np.ndarray | None = None  # pixels per ontology class, then ignored
    depth_min: float = float("inf")
    depth_max: float = float("-inf")
    problems: list[tuple[str, str]] = field(default_factory=list)  # (file, what is wrong)

    def text(self) -> str:
        names = ONTOLOGIES[self.ontology][0]
        lines = [f"{self.dataset} at {self.root}, split {self.split}: {self.frames} frames"]
        lines.append("image sizes (HxW, as every size option): " +
                     ", ".join(f"{h}x{w} ({n})" for (h, w), n in self.sizes.most_common()))
        if self.class_pixels is not None and self.class_pixels.sum():
            total = self.class_pixels.sum()
            lines.append(f"class histogram ({self.ontology}, share of pixels):")
            for name, n in zip(list(names) + ["(ignored)"], self.class_pixels):
                lines.append(f"  {name:<14} {100 * n / total:6.2f}%")
        if self.depth_max >= self.depth_min:
            lines.append(f"depth range: {self.depth_min:.2f} .. {self.depth_max:.2f} m")
        if self.problems:
            lines.append(f"{len(self.problems)} problem(s):")
            lines += [f"  {path}: {what}" for path, what in self.problems]
        else:
            lines.append("no problems found")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "dataset": self.dataset, "root": self.root, "split": self.split, "ontology": self.ontology,
            "frames": self.frames, "sizes_hxw": {f"{h}x{w}": n for (h, w), n in self.sizes.items()},
            "class_pixels": None if self.class_pixels is None else self.class_pixels.tolist(),
            "depth_range_m": [self.depth_min, self.depth_max] if self.depth_max >= self.depth_min else None,
            "problems": [{"file": p, "problem": w} for p, w in self.problems],
        }


def check_dataset(name: str, root: str, split: str, progress: bool = True) -> Report:
    """Reads every image, label and depth file of the split; never stops at the first problem.

    Raises SpiganError only when the split cannot be listed at all (missing root or layout)."""
    from tqdm import tqdm

    if name not in REAL_DATASETS:
        raise SpiganError(f"--dataset {name}: data check reads real datasets ({', '.join(REAL_DATASETS)}); "
                          f"check simulator exports as the layout they were written in (synthia, cityscapes, ...)")
    ontology = dataset_ontology(name, root)
    frames = real_frames(name, root, split, ontology, size=None, labels=True, depth=has_depth(name, root, split))
    report = Report(name, str(root), split, ontology, frames=len(frames))
    n_classes = len(ONTOLOGIES[ontology][0])
    report.class_pixels = np.zeros(n_classes + 1, dtype=np.int64)
    for index, item in enumerate(tqdm(frames.items, desc=f"check {name}/{split}", disable=not progress)):
        size = None
        try:
            image = io.read_rgb(item.image)
            size = image.shape[:2]
            report.sizes[size] += 1
        except SpiganError as e:
            report.problems.append(_split_message(e, item.image))
        if item.labels is not None:
            try:
                labels = frames.table[frames.raw_labels(index)]
                if size is not None and labels.shape != size:
                    raise SpiganError(f"{item.labels}: label size (HxW) {labels.shape[0]}x{labels.shape[1]} differs "
                                      f"from its image's {size[0]}x{size[1]}")
                counts = np.bincount(labels.ravel(), minlength=256)
                report.class_pixels[:n_classes] += counts[:n_classes]
                report.class_pixels[n_classes] += counts[n_classes:].sum()
            except SpiganError as e:
                report.problems.append(_split_message(e, item.labels))
        if item.depth is not None:
            try:
                depth = frames.layout.read_depth(item.depth)
                if size is not None and depth.shape != size:
                    raise SpiganError(f"{item.depth}: depth size (HxW) {depth.shape[0]}x{depth.shape[1]} differs from "
                                      f"its image's {size[0]}x{size[1]}")
                report.depth_min = min(report.depth_min, float(depth.min()))
                report.depth_max = max(report.depth_max, float(depth.max()))
            except SpiganError as e:
                report.problems.append(_split_message(e, item.depth))
    return report


def _split_message(error: SpiganError, path) -> tuple[str, str]:
    """'PATH: what' -> (PATH, what)."""
    text = str(error)
    prefix = f"{path}: "
    return (str(path), text[len(prefix):]) if text.startswith(prefix) else (str(path), text)
