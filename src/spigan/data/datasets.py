"""Training and evaluation samples as tensors, from any source of frames. Everything here
takes explicit arguments (frames, ontology, crop, keys, batch sizes); which frames a run
reads is decided from its config in spigan.sources.

A frame source yields dicts of numpy arrays: `image` (H, W, 3) uint8 RGB, `labels` (H, W)
uint8 class indices (255 = void), and, for a source's privileged information, `depth`
(H, W) float32 metres, `normals` (H, W, 3) float32 and `instances` (H, W) uint16 ids.
`Samples` turns the keys asked for into tensors, with one random crop shared by all of a
sample's maps:

    image       (3, h, w) float32 in [-1, 1]
    labels      (h, w) int64 class indices, 255 = ignored
    depth       (1, h, w) float32 z-depth in metres
    normals     (3, h, w) float32 unit normals, OpenCV camera axes (x right, y down,
                z forward), facing the camera; (0, 0, 0) where there is none (sky)
    boundaries  (1, h, w) float32 in {0, 1}: instance boundaries of the cropped sample
    instances   (h, w) int64 instance ids (0 = stuff), if asked for themselves
"""

from __future__ import annotations

import signal

import torch
from torch.utils.data import DataLoader, Dataset, default_collate

from spigan.data.boundaries import instance_boundaries
from spigan.data.transforms import (
    depth_to_tensor,
    image_to_tensor,
    instances_to_tensor,
    labels_to_tensor,
    normals_to_tensor,
    random_crop,
)
from spigan.errors import SpiganError
from spigan.ontology import SIM_TO_ONTOLOGY
from spigan.sim.dataset import SimFrames


def leave_stop_signals_to_the_main_process(worker_id: int) -> None:
    """A data worker ignores SIGINT and SIGTERM. `timeout`, a job scheduler or a terminal's
    Ctrl-C signals the whole process group: a worker killed by it makes the main process fail
    mid-iteration ("DataLoader worker is killed"), before it can save a checkpoint. The
    main process alone stops the run; its workers exit when it shuts the loader down, or
    when it is gone (their watchdog)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


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
        return {"image": f.rgb, "labels": labels, "depth": f.depth, "normals": f.normals, "instances": f.instances}

    def prepare(self, progress: bool = True) -> None:
        self.frames.render_all(progress)


# How each key of a frame becomes a tensor, in the order a sample holds them.
CONVERT = {"image": image_to_tensor, "labels": labels_to_tensor, "depth": depth_to_tensor,
           "normals": normals_to_tensor, "instances": instances_to_tensor}
SAMPLE_KEYS = (*CONVERT, "boundaries")


class Samples(Dataset):
    """Tensors of `keys` (see the module docstring) from a frame source, optionally
    randomly cropped to `crop` (h, w).

    A key is an index, or (index, crop_seed): the crop offsets then come from their own
    generator, so a sample's crop does not depend on which process loads it, or when.
    """

    def __init__(self, source, crop: tuple[int, int] | None = None, keys=("image", "labels", "depth")):
        unknown = [k for k in keys if k not in SAMPLE_KEYS]
        if unknown:
            raise SpiganError(f"sample key {unknown[0]!r}: unknown (known: {', '.join(SAMPLE_KEYS)})")
        self.source, self.crop, self.keys = source, crop, tuple(keys)
        # Boundaries are drawn on the instance ids once the sample is cropped.
        self._read = {"instances" if k == "boundaries" else k for k in self.keys}

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, key) -> dict[str, torch.Tensor]:
        index, crop_seed = key if isinstance(key, tuple) else (key, None)
        frame = self.source[index]
        missing = [k for k in CONVERT if k in self._read and k not in frame]
        if missing:
            what = "instance ids (for boundaries)" if missing[0] == "instances" else missing[0]
            raise SpiganError(f"frame {index}: its source gives no {what} (asked for: {', '.join(self.keys)})")
        out = {k: convert(frame[k]) for k, convert in CONVERT.items() if k in self._read}
        if self.crop:
            g = torch.Generator().manual_seed(crop_seed) if crop_seed is not None else None
            out = random_crop(out, self.crop, g)
        if "boundaries" in self.keys:
            ids = out["instances"] if "instances" in self.keys else out.pop("instances")
            out["boundaries"] = instance_boundaries(ids)
        return out


def data_name(dataset: str, split: str, domain: str, images: int) -> str:
    """Which data a score is on, for headers and results: `sim/val (photo), 50 images`
    (the simulator's renderer named: `sim` and `photo` frames are different test sets)."""
    return f"{dataset}/{split}{f' ({domain})' if dataset == 'sim' else ''}, {images} images"


def eval_size_name(eval_size: str, size: tuple[int, int]) -> str:
    """How scores were computed, for results files and reports: at each label's own
    resolution (`eval_size` "native"), or with labels resized to the training `size`
    ("train", the paper's protocol)."""
    if eval_size == "train":
        return f"{size[0]}x{size[1]} (labels resized to data.size, the paper's protocol)"
    return "native (each label's own resolution)"


class EndlessBatches:
    """Shuffled batches without end, resumable and shardable.

    Epoch e visits the dataset in the order torch.randperm(n) seeded by (seed, e); each
    sample carries a crop seed derived from (seed, e, its position in that order). With
    `world_size` processes, rank r takes positions r, r + W, r + 2W, ...: the union of the
    ranks' batches b is exactly the single-process batch b of size W x batch_size. The
    state is (epoch, position), saved in checkpoints; `workers` > 0 loads in subprocesses
    without changing what is loaded.
    """

    def __init__(self, dataset: Dataset, batch_size: int, seed: int, rank: int = 0, world_size: int = 1,
                 workers: int = 0):
        self.dataset, self.batch_size, self.seed = dataset, batch_size, seed
        self.rank, self.world_size, self.workers = rank, world_size, workers
        self.per_epoch = (len(dataset) // world_size) // batch_size
        if self.per_epoch < 1:
            raise SpiganError(f"{len(dataset)} samples cannot fill one batch of {batch_size} on each of "
                              f"{world_size} process(es)")
        self.epoch, self.position = 0, 0
        self._order: tuple[int, torch.Tensor] | None = None
        self._loader = None

    def batch_keys(self, epoch: int, position: int) -> list[tuple[int, int]]:
        """(index, crop seed) of every sample of this rank's batch `position` in `epoch`."""
        if self._order is None or self._order[0] != epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._order = (epoch, torch.randperm(len(self.dataset), generator=g))
        order = self._order[1]
        first = position * self.batch_size * self.world_size
        slots = [first + j * self.world_size + self.rank for j in range(self.batch_size)]
        return [(int(order[p]), (self.seed * 1_000_003 + epoch) * 10_000_019 + p) for p in slots]

    def _keys_from(self, epoch: int, position: int):
        while True:
            yield self.batch_keys(epoch, position)
            position += 1
            if position == self.per_epoch:
                epoch, position = epoch + 1, 0

    def __iter__(self):
        return self

    def __next__(self) -> dict[str, torch.Tensor]:
        if self.workers > 0:
            if self._loader is None:
                loader = DataLoader(self.dataset, batch_sampler=self._keys_from(self.epoch, self.position),
                                    num_workers=self.workers, worker_init_fn=leave_stop_signals_to_the_main_process)
                self._loader = iter(loader)
            batch = next(self._loader)
        else:
            batch = default_collate([self.dataset[k] for k in self.batch_keys(self.epoch, self.position)])
        self.position += 1
        if self.position == self.per_epoch:
            self.epoch, self.position = self.epoch + 1, 0
        return batch

    def __enter__(self) -> "EndlessBatches":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stops the loading subprocesses, if any (dropping the loader's iterator shuts its
        workers down). A run calls this on every way out of its loop: its workers ignore
        stop signals, so they must not be left for the interpreter's exit to terminate."""
        self._loader = None

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
        self._loader = None
