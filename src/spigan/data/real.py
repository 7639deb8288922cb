"""Loaders for SYNTHIA-RAND-CITYSCAPES, CARLA's camera outputs, Cityscapes, Mapillary
Vistas v1.2 and CamVid (SegNet layout), reading the files as their owners distribute them
(see DATASETS.md), and the generic `folder` dataset: images/, labels/, for a source depth/,
and a mapping.yaml (ADDING_A_DATASET.md).

Each loader is a frame source: `frames[i]` is a dict with `image` (H, W, 3) uint8 RGB,
`labels` (h, w) uint8 in the training ontology (255 = ignored) and, for a source, `depth`
(h, w) float32 metres; asked for, SYNTHIA's also carry `normals` (h, w, 3) float32, derived
from the depth and the camera's intrinsics at the file's own resolution
(`spigan.data.normals`) or, where a `Normals/` folder holds them (an export of the
simulator), read as they are, and `instances` (h, w) uint16, the instance channel of its label
files. Images are resized to `size`; labels, depth, normals and instances too (nearest
neighbour, which keeps normals of unit length) when `resize_labels`, and are otherwise kept
at their own resolution, where evaluation happens.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np

from spigan.data import io
from spigan.data.normals import Intrinsics, normals_from_depth
from spigan.errors import SpiganError
from spigan.ontology import (
    CAMVID_TO_CAMVID,
    CARLA_LEGACY_TAGS,
    CARLA_LEGACY_TO_7,
    CARLA_LEGACY_TO_16,
    CARLA_TAGS,
    CARLA_TO_7,
    CARLA_TO_16,
    CITYSCAPES_TO_7,
    CITYSCAPES_TO_16,
    DATASETS,
    IGNORE,
    ONTOLOGIES,
    REAL_DATASETS,
    SIM_TO_ONTOLOGY,
    SYNTHIA_CLASSES,
    SYNTHIA_TO_7,
    SYNTHIA_TO_16,
    vistas_to_7,
)


@dataclass(frozen=True)
class Item:
    image: Path
    labels: Path | None = None
    depth: Path | None = None
    normals: Path | None = None  # exact normals (a simulator's export); else derived from depth


@dataclass
class Layout:
    """What a dataset's files look like: how to read labels, which raw ids exist, and how
    they map to each training ontology."""

    name: str
    read_labels: Callable[[Path], np.ndarray]
    max_id: int  # raw label ids above this are errors
    to_ontology: dict[str, dict[int, int]]
    # If given, the only raw ids allowed (the folder dataset: mapped or ignored values).
    valid_ids: frozenset[int] | None = None
    # How a depth file becomes (H, W) float32 metres; None for a dataset without depth.
    read_depth: Callable[[Path], np.ndarray] | None = None
    # The camera that took the frames, for normals derived from depth (None: unknown).
    camera: Intrinsics | None = None
    # How a label file's instance ids are read ((H, W) uint16); None: it has none.
    read_instances: Callable[[Path], np.ndarray] | None = None


def _table(mapping: dict[int, int], size: int) -> np.ndarray:
    table = np.full(size, IGNORE, dtype=np.uint8)
    for k, v in mapping.items():
        table[k] = v
    return table


# A shipped config that trains a model of each ontology, named when a dataset cannot score
# a model of another (a demo model, 16-class, on CamVid).
SHIPPED_CONFIG = {"camvid-11": "sim2camvid", "16-class": "synthia2cityscapes_16_320x640",
                  "7-category": "synthia2cityscapes_7"}


class FileFrames:
    """Frames read from files (see module docstring).

    Decoded, resized frames are kept in memory up to `memory_bytes` (first come, first
    kept): decoding a 360x480 PNG pair costs more than a training step of a small model."""

    def __init__(self, layout: Layout, items: list[Item], ontology: str, size: tuple[int, int] | None,
                 resize_labels: bool = True, memory_bytes: int = 256 << 20, normals: bool = False,
                 instances: bool = False):
        if ontology not in layout.to_ontology:
            hints = [f"`{SHIPPED_CONFIG[o]}`" for o in layout.to_ontology if o in SHIPPED_CONFIG]
            raise SpiganError(f"{layout.name} has no mapping to the {ontology} ontology (available: "
                              f"{', '.join(layout.to_ontology)}): it scores models trained with the "
                              f"{' or '.join(layout.to_ontology)} ontology (data.ontology)"
                              + (f", e.g. by the shipped config {' or '.join(hints)}" if hints else ""))
        self.layout, self.items, self.ontology = layout, items, ontology
        self.size, self.resize_labels = size, resize_labels
        self.normals, self.instances = normals, instances
        self.table = _table(layout.to_ontology[ontology], 1 << 16)
        self.valid = None
        if layout.valid_ids is not None:
            self.valid = np.zeros(1 << 16, dtype=bool)
            self.valid[list(layout.valid_ids)] = True
        self.memory_bytes = memory_bytes
        self._kept: dict[int, dict] = {}
        self._kept_bytes = 0

    def __len__(self) -> int:
        return len(self.items)

    def raw_labels(self, index: int) -> np.ndarray:
        """The label file's own ids, checked against the dataset's id range."""
        item = self.items[index]
        raw = self.layout.read_labels(item.labels)
        if raw.size and int(raw.max()) > self.layout.max_id:
            raise SpiganError(f"{item.labels}: label id {int(raw.max())} is outside {self.layout.name}'s ids "
                              f"(0..{self.layout.max_id})")
        if self.valid is not None and not self.valid[raw].all():
            value = int(raw[~self.valid[raw]][0])
            raise SpiganError(f"{item.labels}: label value {value} is neither a class nor ignored in "
                              f"{self.layout.name} (add it under classes or ignore)")
        return raw

    def __getitem__(self, index: int) -> dict:
        if index in self._kept:
            return self._kept[index]
        frame = self._read(index)
        size = sum(a.nbytes for a in frame.values())
        if self._kept_bytes + size <= self.memory_bytes:
            for a in frame.values():
                a.flags.writeable = False  # shared by every later access
            self._kept[index] = frame
            self._kept_bytes += size
        return frame

    def _read(self, index: int) -> dict:
        item = self.items[index]
        image = io.read_rgb(item.image)
        frame = {}
        native = image.shape[:2]
        if item.labels is not None:
            frame["labels"] = self._resized(self.table[self.raw_labels(index)], item.labels, "label", native)
            if self.instances:
                ids = self.layout.read_instances(item.labels)
                frame["instances"] = self._resized(ids, item.labels, "instance", native)
        if self.normals and item.normals is not None:  # exact: no camera needed
            frame["normals"] = self._resized(io.read_normals_png(item.normals), item.normals, "normals", native)
        if item.depth is not None:
            depth = self.layout.read_depth(item.depth)
            frame["depth"] = self._resized(depth, item.depth, "depth", native)
            if self.normals and item.normals is None:  # at the file's resolution, where the intrinsics hold
                # Tangents reach 3 pixels of the training resolution each side: more of a
                # larger file's own, which also averages its centimetre steps further.
                shrink = native[1] / self.size[1] if self.size and self.resize_labels else 1.0
                normals = normals_from_depth(depth, self.layout.camera.at(*native), radius=max(3, round(3 * shrink)))
                frame["normals"] = self._resized(normals, item.depth, "depth", native)
        frame["image"] = io.resize(image, self.size, nearest=False) if self.size else image
        return frame

    def _resized(self, array: np.ndarray, path: Path, what: str, native: tuple[int, int]) -> np.ndarray:
        """A per-pixel map of a frame, checked against its image's size, resized with the
        labels (nearest neighbour: ids stay ids, unit normals stay unit)."""
        if array.shape[:2] != native:
            raise SpiganError(f"{path}: {what} size (HxW) {array.shape[0]}x{array.shape[1]} differs from its "
                              f"image's {native[0]}x{native[1]}")
        return io.resize(array, self.size, nearest=True) if self.size and self.resize_labels else array


# ---------------------------------------------------------------------------------------
# Layouts and file lists
# ---------------------------------------------------------------------------------------


def _need_dir(path: Path, expected: str) -> Path:
    if not path.is_dir():
        raise SpiganError(f"{path}: folder not found (expected the {expected})")
    return path


def _nonempty(items: list[Item], where: Path, what: str) -> list[Item]:
    if not items:
        raise SpiganError(f"{where}: no {what} found (empty split?)")
    return items


def _inside(items: list[Item], root: Path) -> list[Item]:
    """Refuses files that resolve outside the dataset root (through symlinks, say)."""
    top = root.resolve()
    for item in items:
        for path in (item.image, item.labels, item.depth, item.normals):
            if path is not None and path.exists() and not path.resolve().is_relative_to(top):
                raise SpiganError(f"{path}: resolves to {path.resolve()}, outside the dataset root {top}")
    return items


def _root(root: str | Path) -> Path:
    root = Path(root).expanduser()
    if root.is_file():
        raise SpiganError(f"{root}: is a file, not a dataset folder")
    if not root.is_dir():
        raise SpiganError(f"{root}: dataset root not found")
    return root


# SYNTHIA's camera at its 1280x760 frames (fx = fy, principal point at the centre): the
# values public code reading SYNTHIA at 1280x760 uses; the RAND-CITYSCAPES README gives no
# camera (docs/DATASETS.md says where they come from). Frames of another size scale them.
SYNTHIA_CAMERA = Intrinsics(fx=532.740352, fy=532.740352, cx=640.0, cy=380.0, width=1280, height=760)


def synthia(root: str | Path, split: str = "train", labels: bool = True, depth: bool = True):
    """SYNTHIA-RAND-CITYSCAPES: RGB/*.png, GT/LABELS/*.png, Depth/Depth/*.png. The dataset
    has no official split: every frame is a training frame (`split` is not used). A
    `Normals/` folder beside them (not SYNTHIA's: `spigan sim export` writes the simulator's
    exact normals there) is read instead of deriving normals from depth and SYNTHIA's
    camera, which is not the camera an export was rendered with."""
    root = _root(root)
    layout_name = "SYNTHIA-RAND-CITYSCAPES layout: RGB/, GT/LABELS/, Depth/Depth/"
    rgb = _need_dir(root / "RGB", layout_name)
    label_dir = _need_dir(root / "GT" / "LABELS", layout_name) if labels else None
    depth_dir = _need_dir(root / "Depth" / "Depth", layout_name) if depth else None
    normals_dir = root / "Normals" if (root / "Normals").is_dir() else None
    items = [Item(p, label_dir / p.name if labels else None, depth_dir / p.name if depth else None,
                  normals_dir / p.name if normals_dir else None)
             for p in sorted(rgb.glob("*.png"))]
    layout = Layout("SYNTHIA", io.read_synthia_label, max(SYNTHIA_CLASSES),
                    _with_16_class_tables(dict(SYNTHIA_TO_16), dict(SYNTHIA_TO_7)), read_depth=io.read_synthia_depth,
                    camera=SYNTHIA_CAMERA, read_instances=io.read_synthia_instances)
    return layout, _nonempty(items, rgb, "RGB/*.png frames")


def _with_16_class_tables(to_16: dict[int, int], to_7: dict[int, int]) -> dict[str, dict[int, int]]:
    """A simulator's id maps: its own to the 16 classes and the 7 categories, and through
    its 16 classes to the other ontologies (CamVid's 11), as the built-in simulator's."""
    others = {o: {k: int(t[v]) for k, v in to_16.items() if t[v] != IGNORE}
              for o, t in SIM_TO_ONTOLOGY.items() if t is not None and o != "7-category"}
    return {"16-class": to_16, "7-category": to_7, **others}


CARLA_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def carla(root: str | Path, split: str = "train", labels: bool = True, depth: bool = True, legacy: bool = False):
    """CARLA camera outputs saved raw (`image.save_to_disk(path)`, ColorConverter.Raw), one
    file per camera with the same name: rgb/NAME.png (sensor.camera.rgb; .jpg too),
    semantic/NAME.png (sensor.camera.semantic_segmentation: the tag in the red channel) and
    depth/NAME.png (sensor.camera.depth: 24 bits in R, G, B). Tags are CARLA 0.9.14+'s, or
    with `legacy` those of 0.9.0-0.9.13. Like SYNTHIA, no split: every frame is a training
    frame (`split` is not used)."""
    root = _root(root)
    expected = "CARLA layout: rgb/, semantic/, depth/ with one file of the same name per frame"
    rgb = _need_dir(root / "rgb", expected)
    label_dir = _need_dir(root / "semantic", expected) if labels else None
    depth_dir = _need_dir(root / "depth", expected) if depth else None
    items = [Item(p, label_dir / f"{p.stem}.png" if labels else None, depth_dir / f"{p.stem}.png" if depth else None)
             for p in sorted(rgb.iterdir()) if p.suffix.lower() in CARLA_IMAGE_SUFFIXES]
    tags, to_16, to_7 = (CARLA_LEGACY_TAGS, CARLA_LEGACY_TO_16, CARLA_LEGACY_TO_7) if legacy else \
        (CARLA_TAGS, CARLA_TO_16, CARLA_TO_7)
    layout = Layout("CARLA (tags before 0.9.14)" if legacy else "CARLA (0.9.14+ tags)", io.read_carla_label,
                    len(tags) - 1, _with_16_class_tables(dict(to_16), dict(to_7)), read_depth=io.read_carla_depth)
    return layout, _nonempty(items, rgb, "rgb/*.png frames")


def cityscapes(root: str | Path, split: str, labels: bool = True):
    """Cityscapes: leftImg8bit/{split}/{city}/*_leftImg8bit.png and
    gtFine/{split}/{city}/*_gtFine_labelIds.png."""
    root = _root(root)
    expected = "Cityscapes layout: leftImg8bit/{split}/{city}/*_leftImg8bit.png"
    images = _need_dir(root / "leftImg8bit" / split, expected)
    if labels:
        _need_dir(root / "gtFine" / split, "Cityscapes layout: gtFine/{split}/{city}/*_gtFine_labelIds.png")
    items = []
    for p in sorted(images.glob("*/*_leftImg8bit.png")):
        stem = p.name[: -len("_leftImg8bit.png")]
        label = root / "gtFine" / split / p.parent.name / f"{stem}_gtFine_labelIds.png" if labels else None
        items.append(Item(p, label))
    layout = Layout("Cityscapes", io.read_index_png, 33, {"16-class": dict(CITYSCAPES_TO_16),
                                                           "7-category": dict(CITYSCAPES_TO_7)})
    return layout, _nonempty(items, images, "*_leftImg8bit.png images")


VISTAS_SPLITS = {"train": "training", "val": "validation", "training": "training", "validation": "validation"}


def vistas_label_names(root: Path) -> list[str]:
    """The label names of the dataset's own config file (config.json or config_v1.2.json)."""
    for name in ("config_v1.2.json", "config.json"):
        path = root / name
        if path.is_file():
            try:
                labels = json.loads(path.read_text())["labels"]
                return [entry.get("readable", entry.get("name")) for entry in labels]
            except (ValueError, KeyError, TypeError, AttributeError) as e:
                raise SpiganError(f"{path}: not a Vistas config with a 'labels' list ({e})") from e
    raise SpiganError(f"{root}: no config.json or config_v1.2.json (the Vistas label list)")


def vistas(root: str | Path, split: str, labels: bool = True):
    """Mapillary Vistas v1.2: {training,validation}/images/*.jpg and .../labels/*.png."""
    root = _root(root)
    if split not in VISTAS_SPLITS:
        raise SpiganError(f"--split {split}: Vistas splits are train (training) and val (validation)")
    folder = root / VISTAS_SPLITS[split]
    expected = "Vistas layout: {training,validation}/images/*.jpg and labels/*.png"
    images = _need_dir(folder / "images", expected)
    if labels:
        _need_dir(folder / "labels", expected)
    names = vistas_label_names(root)
    items = [Item(p, folder / "labels" / f"{p.stem}.png" if labels else None) for p in sorted(images.glob("*.jpg"))]
    layout = Layout("Vistas", io.read_index_png, len(names) - 1, {"7-category": vistas_to_7(names)})
    return layout, _nonempty(items, images, "*.jpg images")


def camvid(root: str | Path, split: str, labels: bool = True):
    """CamVid in SegNet's layout: {split}/*.png and {split}annot/*.png (11 classes, 11 = void)."""
    root = _root(root)
    expected = "CamVid SegNet layout: {split}/*.png and {split}annot/*.png"
    images = _need_dir(root / split, expected)
    if labels:
        _need_dir(root / f"{split}annot", expected)
    items = [Item(p, root / f"{split}annot" / p.name if labels else None) for p in sorted(images.glob("*.png"))]
    layout = Layout("CamVid", io.read_index_png, 11, {"camvid-11": dict(CAMVID_TO_CAMVID)})
    return layout, _nonempty(items, images, "*.png images")


# ---------------------------------------------------------------------------------------
# The generic folder dataset: ROOT/images/SPLIT/**, ROOT/labels/SPLIT/** and ROOT/mapping.yaml
# ---------------------------------------------------------------------------------------

FOLDER_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
MAPPING_KEYS = ("ontology", "classes", "ignore", "image_suffix", "label_suffix", "depth")
# depth: {unit: ...} of a source's 16-bit depth PNGs: how many units make a metre.
DEPTH_UNITS = {"mm": 1000, "cm": 100, "m": 1}


@dataclass(frozen=True)
class Mapping:
    """A folder dataset's mapping.yaml: which label values mean which class of `ontology`."""

    path: Path
    ontology: str
    values: dict[int, int]  # label value -> class index in the ontology
    ignore: frozenset[int]
    image_suffix: str = ""
    label_suffix: str = ""
    depth_units: int | None = None  # units per metre of 16-bit depth PNGs (depth: {unit: cm}: 100)


def _values(entry, where: str) -> list[int]:
    values = entry if isinstance(entry, list) else [entry]
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in values):
        raise SpiganError(f"{where}: expected label values 0..255 (a number or a list of numbers), got {entry!r}")
    return values


def read_mapping(root: str | Path) -> Mapping:
    """ROOT/mapping.yaml, checked: a known ontology, its class names, each value used once."""
    import yaml

    path = _root(root) / "mapping.yaml"
    if not path.is_file():
        raise SpiganError(f"{path}: not found (a folder dataset's class mapping; see docs/ADDING_A_DATASET.md)")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise SpiganError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from e
    if not isinstance(data, dict):
        raise SpiganError(f"{path}: expected a mapping with {', '.join(MAPPING_KEYS)}")
    unknown = [k for k in data if k not in MAPPING_KEYS]
    if unknown:
        raise SpiganError(f"{path}: {unknown[0]}: unknown key (known: {', '.join(MAPPING_KEYS)})")
    ontology = data.get("ontology")
    if ontology not in ONTOLOGIES:
        raise SpiganError(f"{path}: ontology: {ontology!r} is not one of {', '.join(ONTOLOGIES)}")
    names = ONTOLOGIES[ontology][0]
    classes = data.get("classes")
    if not isinstance(classes, dict) or not classes:
        raise SpiganError(f"{path}: classes: expected class names of {ontology} with their label values")
    values: dict[int, int] = {}
    for name, entry in classes.items():
        if name not in names:
            raise SpiganError(f"{path}: classes: {name!r} is not a {ontology} class ({', '.join(names)})")
        for v in _values(entry, f"{path}: classes: {name}"):
            if v in values:
                raise SpiganError(f"{path}: classes: label value {v} is given to both {names[values[v]]!r} and "
                                  f"{name!r}")
            values[v] = names.index(name)
    ignore = frozenset(_values(data["ignore"], f"{path}: ignore") if data.get("ignore") is not None else [])
    both = sorted(ignore & set(values))
    if both:
        raise SpiganError(f"{path}: ignore: label value {both[0]} is also a class")
    suffixes = {}
    for key in ("image_suffix", "label_suffix"):
        value = data.get(key) or ""
        if not isinstance(value, str) or "/" in value:
            raise SpiganError(f"{path}: {key}: expected a file-name ending such as _gtFine_labelIds, got {value!r}")
        suffixes[key] = value
    return Mapping(path, ontology, values, ignore, **suffixes, depth_units=_depth_units(data.get("depth"), path))


def _depth_units(entry, path: Path) -> int | None:
    """mapping.yaml's `depth: {unit: mm | cm | m}` -> units per metre (None if absent)."""
    if entry is None:
        return None
    if not isinstance(entry, dict) or set(entry) != {"unit"} or entry["unit"] not in DEPTH_UNITS:
        raise SpiganError(f"{path}: depth: expected {{unit: mm | cm | m}} (the unit of the 16-bit depth PNGs), "
                          f"got {entry!r}")
    return DEPTH_UNITS[entry["unit"]]


def folder(root: str | Path, split: str, labels: bool = True, depth: bool = False):
    """A folder dataset: images/SPLIT/**/*.{png,jpg,jpeg}, and for each image
    labels/SPLIT/SAME/SUBFOLDERS/STEM{label_suffix}.png (STEM without image_suffix), an 8-bit
    single-channel or palette PNG whose values mapping.yaml maps to a training ontology; as
    a source (`depth`), depth/SPLIT/SAME/SUBFOLDERS/STEM.npy (float metres) or STEM.png
    (16-bit, in mapping.yaml's depth unit)."""
    root = _root(root)
    mapping = read_mapping(root)
    expected = "folder dataset layout: images/{split}/ and labels/{split}/ beside mapping.yaml"
    images = _need_dir(root / "images" / split, expected)
    label_dir = _need_dir(root / "labels" / split, expected) if labels else None
    depth_dir = _need_dir(root / "depth" / split, "folder dataset layout: depth/{split}/ beside images/ (a "
                          "source's depth)") if depth else None
    items = []
    for p in sorted(f for f in images.rglob("*") if f.is_file() and f.suffix.lower() in FOLDER_IMAGE_SUFFIXES):
        if not p.stem.endswith(mapping.image_suffix):
            continue
        stem = p.stem[: len(p.stem) - len(mapping.image_suffix)]
        rel = p.parent.relative_to(images)
        depth_file = None
        if depth:
            depth_file = depth_dir / rel / f"{stem}.npy"
            if not depth_file.exists():
                depth_file = depth_file.with_suffix(".png")
        items.append(Item(p, label_dir / rel / f"{stem}{mapping.label_suffix}.png" if labels else None, depth_file))
    to_ontology = {mapping.ontology: dict(mapping.values)}
    if mapping.ontology == "16-class":  # a 16-class mapping also gives the ontologies built from it
        for name, table in SIM_TO_ONTOLOGY.items():
            if table is not None:
                to_ontology[name] = {v: int(table[c]) for v, c in mapping.values.items() if table[c] != IGNORE}
    layout = Layout(f"{mapping.path}", io.read_index_png, 255, to_ontology,
                    valid_ids=frozenset(mapping.values) | mapping.ignore, read_depth=partial(_folder_depth, mapping))
    pattern = f"*{mapping.image_suffix}{{{','.join(FOLDER_IMAGE_SUFFIXES)}}} images"
    return layout, _nonempty(items, images, pattern)


def _folder_depth(mapping: Mapping, path: Path) -> np.ndarray:
    if path.suffix == ".npy":
        return io.read_depth_npy(path)
    if mapping.depth_units is None:
        raise SpiganError(f"{path}: a 16-bit depth PNG, but {mapping.path} says no unit (add depth: {{unit: cm}}, "
                          f"or mm or m)")
    return io.read_depth_png(path, mapping.depth_units)


def has_depth(name: str, root: str | Path, split: str) -> bool:
    """Whether a dataset's split comes with depth (a folder dataset: if it has depth/SPLIT/)."""
    if name == "folder":
        return (Path(root).expanduser() / "depth" / split).is_dir()
    return name in ("synthia", "carla", "carla_legacy")


def has_split(name: str, root: str | Path, split: str) -> bool:
    """Whether a dataset has `split` (SYNTHIA and CARLA captures have one set of frames,
    read for any split)."""
    if name == "folder":
        return (Path(root).expanduser() / "images" / split).is_dir()
    return True


def dataset_ontology(name: str, root: str | Path) -> str:
    """The ontology a dataset's labels are read in by default (a folder dataset: its mapping's)."""
    return DATASETS[name]["ontology"] or read_mapping(root).ontology


# The real datasets whose frames give normals (a camera, for normals derived from depth)
# and instance ids (for boundaries), as the simulator's do; why the others do not (a target
# gives images and labels, all that a target needs).
PRIVILEGED_SOURCES = ("synthia",)
NO_NORMALS = {"carla": "CARLA's saved images do not record the camera's field of view, which normals derived from "
                       "depth need",
              "folder": "a folder dataset names no camera intrinsics, which normals derived from depth need"}
NO_INSTANCES = {"carla": "of CARLA's cameras only the semantic one is read, not the instance one",
                "folder": "a folder dataset has class labels but no instance ids"}


def _no_privileged(name: str, what: str, reasons: dict[str, str]) -> SpiganError:
    reason = reasons.get(name.removesuffix("_legacy"), f"it is read as a target (images, labels); privileged "
                                                         f"information comes from a source (sim, synthia)")
    return SpiganError(f"{name} gives no {what}: {reason}")


def real_frames(name: str, root: str | Path, split: str, ontology: str, size: tuple[int, int] | None,
                labels: bool = True, depth: bool = False, resize_labels: bool = True, normals: bool = False,
                instances: bool = False) -> FileFrames:
    """The frame source of a real dataset (see module docstring): with `normals` (derived
    from depth) and `instances` (for boundaries), where the dataset has them."""
    if ontology not in ONTOLOGIES:
        raise SpiganError(f"unknown ontology {ontology!r} (available: {', '.join(ONTOLOGIES)})")
    if normals and name not in PRIVILEGED_SOURCES:
        raise _no_privileged(name, "normals", NO_NORMALS)
    if instances and name not in PRIVILEGED_SOURCES:
        raise _no_privileged(name, "instance boundaries", NO_INSTANCES)
    labels, depth_files = labels or instances, depth or normals  # the files they are read from
    if name == "synthia":
        layout, items = synthia(root, split, labels=labels, depth=depth_files)
    elif name in ("carla", "carla_legacy"):
        layout, items = carla(root, split, labels=labels, depth=depth, legacy=name == "carla_legacy")
    elif name == "cityscapes":
        layout, items = cityscapes(root, split, labels=labels)
    elif name == "vistas":
        layout, items = vistas(root, split, labels=labels)
    elif name == "camvid":
        layout, items = camvid(root, split, labels=labels)
    elif name == "folder":
        layout, items = folder(root, split, labels=labels, depth=depth)
    else:
        raise SpiganError(f"unknown dataset {name!r} (available: sim, {', '.join(REAL_DATASETS)})")
    if depth and layout.read_depth is None:
        raise SpiganError(f"{name} has no depth: SPIGAN's source is the simulator, SYNTHIA, CARLA or a folder "
                          f"dataset with depth/")
    return FileFrames(layout, _inside(items, Path(root).expanduser()), ontology, size, resize_labels,
                      normals=normals, instances=instances)
