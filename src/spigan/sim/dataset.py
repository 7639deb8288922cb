"""Splits of simulator frames, rendered once and cached on disk.

Each (domain, split) pair draws from its own random stream, so no scene is shared between
train and validation, nor between the `sim` and `photo` domains. Frames are cached as
`.npz` files written atomically (temporary file, fsync, rename): a render killed at any
moment leaves either the complete file or nothing under the final name.

A cached frame holds the image, labels, depth, camera and, since version 3, the privileged
maps besides depth: normals as int16 (round(32767 n): within 3e-5 of the rendered ones)
and the 16-bit instance ids; 16 bytes a pixel in all (8 before).
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import numpy as np

from spigan.atomic import write_atomically
from spigan.cpus import usable_cpus
from spigan.sim import render_frame
from spigan.sim.geometry import Camera
from spigan.sim.knobs import SimKnobs
from spigan.sim.render import DOMAINS, Frame

# Bump when the renderer's output changes, so stale caches are never read (3: frames
# carry normals and instance ids; 4: the renderers' random values are drawn up front, in
# a new order: same scenes, cameras, labels, depth, normals and ids, other pixels).
SIM_VERSION = 4
NORMAL_SCALE = 32767  # cached normals: int16 components of 32767 n
SPLITS = {"train": 0, "val": 1, "test": 2}


def stream_seed(seed: int, domain: str, split: str) -> int:
    """The frame stream of one (domain, split): distinct for every pair at a given seed."""
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}: expected one of {DOMAINS}")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: expected one of {tuple(SPLITS)}")
    return 1_000_003 * seed + 1000 * (DOMAINS.index(domain) + 1) + SPLITS[split]


def default_cache_dir() -> Path:
    return Path(os.environ.get("SPIGAN_CACHE", Path.home() / ".cache" / "spigan"))


def frame_cache_dir(setting: str = "") -> Path:
    """The frame cache a `data.cache_dir` setting names ("" = $SPIGAN_CACHE or ~/.cache/spigan)."""
    return Path(setting) if setting else default_cache_dir()


class SimFrames:
    """`length` frames of one domain and split at `height` x `width`.

    Args:
        cache_dir: where rendered frames are kept; None renders on every access.
        knobs: the `sim` renderer's knobs (ignored for `photo`, which has none); they are
            part of the cache folder's name.
    """

    def __init__(self, domain: str, split: str, length: int, height: int, width: int, seed: int = 0,
                 cache_dir: str | Path | None = None, knobs: SimKnobs | None = None):
        self.domain, self.split, self.length = domain, split, length
        self.height, self.width, self._seed = height, width, seed
        self.knobs = (knobs or SimKnobs()) if domain == "sim" else None
        self.stream = stream_seed(seed, domain, split)
        self.folder = None
        if cache_dir is not None:
            name = f"{domain}-{split}-{self.stream}-{height}x{width}" + (f"-{self.knobs.tag()}" if self.knobs else "")
            self.folder = Path(cache_dir) / f"sim-v{SIM_VERSION}" / name
            self.folder.mkdir(parents=True, exist_ok=True)
            _remove_stale_temporaries(self.folder)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> Frame:
        if not 0 <= index < self.length:
            raise IndexError(f"frame {index} outside [0, {self.length})")
        if self.folder is None:
            return render_frame(self.stream, index, self.height, self.width, self.domain, self.knobs)
        path = self.folder / f"{index:06d}.npz"
        if path.exists():
            try:
                return _load(path)
            except (OSError, ValueError, KeyError) as e:  # damaged on disk: render it again
                warnings.warn(f"{path}: unreadable cached frame ({e}); rendering it again")
        frame = render_frame(self.stream, index, self.height, self.width, self.domain, self.knobs)
        _save_atomic(path, frame)
        return frame

    def render_all(self, progress: bool = True, workers: int | None = None) -> None:
        """Fills the cache (a no-op for frames already there), in `workers` processes
        (default: one per usable CPU): frames are independent, so this scales with cores."""
        from tqdm import tqdm

        missing = [i for i in range(self.length) if self.folder is None or not (self.folder / f"{i:06d}.npz").exists()]
        workers = min(workers or usable_cpus(), max(1, len(missing) // 8))
        bar = tqdm(total=self.length, initial=self.length - len(missing), desc=f"render {self.domain}/{self.split}",
                   disable=not progress, leave=False)
        if self.folder is None or workers <= 1:
            for i in missing:
                self[i]
                bar.update(1)
        else:
            from concurrent.futures import ProcessPoolExecutor, as_completed
            from multiprocessing import get_context

            chunks = [missing[k: k + 8] for k in range(0, len(missing), 8)]
            # spawn, not fork: the parent may hold OpenMP threads (torch), which forked children inherit badly.
            with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
                args = (self.domain, self.split, self.length, self.height, self.width, self._seed,
                        str(self.folder.parent.parent), self.knobs)
                for done in as_completed([pool.submit(_render_chunk, *args, chunk) for chunk in chunks]):
                    bar.update(done.result())
        bar.close()


def _render_chunk(domain: str, split: str, length: int, height: int, width: int, seed: int, cache_dir: str,
                  knobs: SimKnobs | None, indices: list[int]) -> int:
    """Renders and caches frames `indices` of a split (in a worker process)."""
    frames = SimFrames(domain, split, length, height, width, seed=seed, cache_dir=cache_dir, knobs=knobs)
    for i in indices:
        frames[i]
    return len(indices)


def _save_atomic(path: Path, frame: Frame) -> None:
    camera = np.array(list(frame.camera.as_dict().values()))
    normals = np.round(frame.normals * NORMAL_SCALE).astype(np.int16)
    write_atomically(path, lambda f: np.savez(f, rgb=frame.rgb, labels=frame.labels, depth=frame.depth, camera=camera,
                                              normals=normals, instances=frame.instances))


def _load(path: Path) -> Frame:
    with np.load(path, allow_pickle=False) as z:
        frame = Frame(rgb=z["rgb"], labels=z["labels"], depth=z["depth"], camera=_camera(z["camera"].tolist()),
                      normals=_unit_normals(z["normals"]), instances=z["instances"])
    h, w = frame.labels.shape
    if frame.rgb.shape != (h, w, 3) or frame.rgb.dtype != np.uint8 or frame.labels.dtype != np.uint8 \
            or frame.depth.shape != (h, w) or not np.isfinite(frame.depth).all() or (frame.depth <= 0).any() \
            or frame.normals.shape != (h, w, 3) or frame.instances.shape != (h, w) \
            or frame.instances.dtype != np.uint16:
        raise ValueError("arrays of the wrong type, shape or values")
    return frame


def _unit_normals(cached: np.ndarray) -> np.ndarray:
    """int16 normals, as cached -> (H, W, 3) float32 (rounding moved each component by at
    most 1.5e-5, so their length is 1 within 3e-5: not renormalised, which would cost more
    than the rest of a frame's loading; zero stays zero)."""
    if cached.dtype != np.int16 or cached.ndim != 3:
        raise ValueError(f"normals of type {cached.dtype} and shape {cached.shape}")
    return cached.astype(np.float32) * np.float32(1 / NORMAL_SCALE)


def _camera(values: list[float]) -> Camera:
    """A camera from its cached numbers (the last, `mirror`, is stored as 0 or 1)."""
    return Camera(*values[:-1], mirror=bool(values[-1]))


def _remove_stale_temporaries(folder: Path, age_s: float = 600.0) -> None:
    """Removes temporaries left by renders killed more than `age_s` ago (younger ones may
    belong to a render still running in another process)."""
    now = time.time()
    for tmp in folder.glob(".*.tmp"):
        try:
            if now - tmp.stat().st_mtime > age_s:
                tmp.unlink()
        except FileNotFoundError:
            pass
