"""Training and evaluation samples as tensors, from any source of frames.

A frame source yields dicts of numpy arrays: `image` (H, W, 3) uint8 RGB, `labels` (H, W)
uint8 class indices (255 = void), and, for simulator data, `depth` (H, W) float32 metres.
`Samples` turns them into tensors: image (3, h, w) float in [-1, 1], labels (h, w) int64,
depth (1, h, w) float metres, with one random crop shared by all of a sample's maps.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from spigan.config import ADAPTED, Config
from spigan.data.ontology import SIM_TO_ONTOLOGY
from spigan.data.real import REAL_DATASETS, real_frames
from spigan.errors import SpiganError
from spigan.sim.dataset import SimFrames, default_cache_dir


class SimSource:
    """Frames of the built-in simulator as dicts (the common frame-source interface), with
    labels in the training ontology."""

    def __init__(self, frames: SimFrames, ontology: str = "16-class"):
        self.frames = frames
        self.table = SIM_TO_ONTOLOGY[ontology]

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, index: int) -> dict:
        f = self.frames[index]
        labels = f.labels if self.table is None else self.table[f.labels]
        return {"image": f.rgb, "labels": labels, "depth": f.depth}

    def prepare(self, progress: bool = True) -> None:
        self.frames.render_all(progress)


class Samples(Dataset):
    """Tensors from a frame source, optionally randomly cropped to `crop` (h, w)."""

    def __init__(self, source, crop: tuple[int, int] | None = None, keys=("image", "labels", "depth")):
        self.source, self.crop, self.keys = source, crop, tuple(keys)

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        frame = self.source[index]
        out = {}
        if "image" in self.keys:
            out["image"] = torch.from_numpy(frame["image"]).permute(2, 0, 1).float().div_(127.5).sub_(1.0)
        if "labels" in self.keys:
            out["labels"] = torch.from_numpy(frame["labels"].astype(np.int64))
        if "depth" in self.keys:
            out["depth"] = torch.from_numpy(frame["depth"].astype(np.float32))[None]
        if self.crop:
            h, w = next(iter(out.values())).shape[-2:]
            ch, cw = self.crop
            top = int(torch.randint(0, h - ch + 1, ()))
            left = int(torch.randint(0, w - cw + 1, ()))
            out = {k: v[..., top: top + ch, left: left + cw] for k, v in out.items()}
        return out


def frame_source(cfg: Config, role: str, split: str):
    """The frames of `role` ("source" or "target") for `split`, from the configured dataset.

    Training frames have labels (and depth) resized with the images; validation frames keep
    their labels at the dataset's own resolution, where they are scored."""
    data = cfg.data
    name = data.source if role == "source" else data.target
    if name == "sim":
        domain = data.sim_source_domain if role == "source" else data.sim_target_domain
        length = {"train": data.source_frames if role == "source" else data.target_frames}.get(split, data.val_frames)
        cache = Path(data.cache_dir) if data.cache_dir else default_cache_dir()
        h, w = data.size
        return SimSource(SimFrames(domain, split, length, h, w, seed=data.sim_seed, cache_dir=cache), data.ontology)
    if name in REAL_DATASETS:
        root = data.source_root if role == "source" else data.target_root
        if not root:
            raise SpiganError(f"data.{role}_root: required for the {name} dataset")
        training = split == "train"
        labels = role == "source" or not training or cfg.train.method == "target_only"
        depth = role == "source" and training and cfg.train.method in ADAPTED
        return real_frames(name, root, split, data.ontology, data.size, labels=labels, depth=depth,
                           resize_labels=training)
    raise SpiganError(f"data.{role}: unknown dataset {name!r} (available: sim, {', '.join(REAL_DATASETS)})")


def loader(dataset: Dataset, batch_size: int, seed: int, workers: int = 0, shuffle: bool = True) -> DataLoader:
    g = torch.Generator()
    g.manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=shuffle, num_workers=workers,
                      generator=g, persistent_workers=workers > 0)


def forever(data_loader: DataLoader):
    """Iterates a loader endlessly, reshuffling at each pass."""
    while True:
        yield from data_loader
