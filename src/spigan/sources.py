"""What a run reads, from its config: the one place datasets are built from a config.

spigan.data takes explicit arguments (sizes, roots, ontology, frame counts, keys); here
they are read from the config's `data` section: the source and target frames of each
split (`frame_source`), the simulator's frames at the configured size, world and cache
(`sim_frames`), the validation split runs are scored on and figures show
(`validation_samples`), and a labelled split a checkpoint is scored on
(`evaluation_samples`, `spigan evaluate`). What a training frame carries (labels, depth,
normals, boundaries) is the variant's `batch_keys` / `target_keys`, passed in.
"""

from __future__ import annotations

from spigan.config import Config
from spigan.data.datasets import Samples, SimSource
from spigan.data.real import has_split, real_frames
from spigan.errors import SpiganError
from spigan.ontology import REAL_DATASETS
from spigan.sim import check_render_memory
from spigan.sim.dataset import SPLITS, SimFrames, frame_cache_dir
from spigan.sim.knobs import SimKnobs

# What a validation frame carries: scored (target) or shown (source) against its labels.
VALIDATION_KEYS = ("image", "labels")


def frame_source(cfg: Config, role: str, split: str, keys: tuple[str, ...] = VALIDATION_KEYS):
    """The frames of `role` ("source" or "target") for `split`, from the configured dataset.

    A real dataset's frames carry the `keys` asked for: labels, and a source's depth,
    normals, instance ids (for boundaries) beside the image; its files are listed, and
    required, accordingly. Training frames have them resized with the images; validation
    frames keep their labels at the dataset's own resolution, where they are scored, unless
    data.eval_size is "train" (the paper's protocol: labels resized to data.size). The
    simulator's frames carry them all."""
    data = cfg.data
    name = data.source if role == "source" else data.target
    if name == "sim":
        domain = data.sim_source_domain if role == "source" else data.sim_target_domain
        length = {"train": data.source_frames if role == "source" else data.target_frames}.get(split, data.val_frames)
        return sim_frames(cfg, domain, split, length)
    if name in REAL_DATASETS:
        root = data.source_root if role == "source" else data.target_root
        if not root:
            raise SpiganError(f"data.{role}_root: required for the {name} dataset")
        if role == "source" and not has_split(name, root, split):
            split = "train"  # a source's frames are shown (figures, TensorBoard), never scored
        training = split == "train"
        return real_frames(name, root, split, data.ontology, data.size, labels="labels" in keys,
                           depth="depth" in keys, resize_labels=training or data.eval_size == "train",
                           normals="normals" in keys, instances="boundaries" in keys or "instances" in keys)
    raise SpiganError(f"data.{role}: unknown dataset {name!r} (available: sim, {', '.join(REAL_DATASETS)})")


def sim_frames(cfg: Config, domain: str, split: str, length: int) -> SimSource:
    """`length` frames of the simulator's `domain` renderer at the config's size and world."""
    data = cfg.data
    h, w = data.size
    check_render_memory(h, w, f"data.size {h}x{w}: rendering one simulator frame")
    cache = frame_cache_dir(data.cache_dir)
    knobs = SimKnobs(data.sim_camera, data.sim_randomization, data.sim_degenerate)
    where = f"data.cache_dir {cache}" if data.cache_dir else f"the frame cache {cache} (SPIGAN_CACHE)"
    if cache.is_file():
        raise SpiganError(f"{where}: is a file, not a folder")
    try:  # creates the cache's folder
        frames = SimFrames(domain, split, length, *data.size, seed=data.sim_seed, cache_dir=cache, knobs=knobs)
    except OSError as e:
        raise SpiganError(f"{where}: cannot keep the simulator's frames there ({e.strerror or e})") from e
    return SimSource(frames, data.ontology)


def validation_samples(cfg: Config, role: str = "target", keys: tuple[str, ...] = VALIDATION_KEYS) -> Samples:
    """The whole frames of `role`'s validation split (labels at their own resolution) as
    tensors of `keys`: what runs are scored on (target) and what figures show."""
    return Samples(frame_source(cfg, role, "val"), None, keys)


def evaluation_samples(cfg: Config, dataset: str, split: str, root: str | None = None, frames: int | None = None,
                       domain: str = "photo", eval_size: str | None = None) -> Samples:
    """A labelled split to score a model of `cfg` on: the simulator's `domain` renderer
    (`frames` long, default data.val_frames) or a real dataset under `root` (its first
    `frames` images if given), scored at `eval_size` (default: the config's)."""
    if dataset == "sim":
        if split not in SPLITS:
            raise SpiganError(f"--split {split}: the simulator's splits are {', '.join(SPLITS)}")
        return Samples(sim_frames(cfg, domain, split, frames or cfg.data.val_frames), None, VALIDATION_KEYS)
    if dataset not in REAL_DATASETS:
        raise SpiganError(f"--dataset {dataset}: unknown dataset (available: sim, {', '.join(REAL_DATASETS)})")
    if not root:
        raise SpiganError(f"--root: required for --dataset {dataset}")
    resize = (eval_size or cfg.data.eval_size) == "train"
    source = real_frames(dataset, root, split, cfg.data.ontology, cfg.data.size, labels=True, resize_labels=resize)
    if frames:
        source.items = source.items[:frames]
    return Samples(source, None, VALIDATION_KEYS)
