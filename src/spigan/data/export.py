"""Writing simulator frames in real datasets' layouts and encodings, so that they are read
back through exactly the code path real data takes.

- `sim` domain -> SYNTHIA-RAND-CITYSCAPES: RGB/NNNNNNN.png; GT/LABELS/NNNNNNN.png, a 16-bit
  3-channel PNG with the SYNTHIA class id in the first (red) channel and the instance id
  in the second (green; spigan.sim.hits.instance_ids: 0 for stuff); GT/COLOR/ previews;
  Depth/Depth/NNNNNNN.png, 16-bit centimetres (sky: 65535, i.e. 655.35 m); and, not part
  of SYNTHIA, Normals/NNNNNNN.png, the exact camera-space normals as a 16-bit 3-channel PNG
  (io.normals_to_png16: round((n + 1) / 2 * 65535), x in red, y in green, z in blue; all
  0 = none). Or, with
  layout="carla", CARLA's raw camera outputs (rgb/, semantic/ with the 0.9.14+ tag in red,
  depth/ in CARLA's 24-bit encoding, all BGRA PNGs NNNNNN.png); or layout="folder", the
  folder dataset as a source (depth/{split}/sim_NNNNNN.png, 16-bit centimetres, beside
  images/ and labels/).
- `photo` domain -> Cityscapes: leftImg8bit/{split}/simcity/simcity_000000_NNNNNN_leftImg8bit.png
  and gtFine/{split}/simcity/..._gtFine_labelIds.png (void -> 0, "unlabeled"); or, with
  layout="vistas", Vistas v1.2 ({training,validation}/images/*.jpg, labels/*.png, config.json);
  or layout="camvid", CamVid's SegNet layout ({split}/*.png, {split}annot/*.png, void -> 11);
  or layout="folder", the generic folder dataset (images/{split}/sim_NNNNNN.png,
  labels/{split}/sim_NNNNNN_label.png holding Cityscapes' label ids, and a mapping.yaml).

Exports are resumable: every file is written atomically, a frame counts as done when all
its files exist, and done frames are skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from spigan.atomic import write_text_atomically
from spigan.data.io import (
    carla_depth_bgra,
    depth_to_cm,
    normals_to_png16,
    write_file_atomic,
    write_palette_png_atomic,
    write_png_atomic,
)
from spigan.data.real import VISTAS_SPLITS
from spigan.errors import SpiganError
from spigan.ontology import (
    CITYSCAPES_UNLABELED,
    CLASS16_TO_CARLA,
    CLASS16_TO_CITYSCAPES,
    CLASS16_TO_SYNTHIA,
    CLASS16_TO_VISTAS_NAMES,
    CLASSES_16,
    PALETTE_16,
    TABLE_16_TO_CAMVID,
    VISTAS_NAMES,
    colorize,
    lookup_table,
)
from spigan.sim.dataset import SimFrames
from spigan.sim.knobs import SimKnobs

TO_SYNTHIA = lookup_table(CLASS16_TO_SYNTHIA)
TO_SYNTHIA[255] = 0  # void
TO_CITYSCAPES = lookup_table(CLASS16_TO_CITYSCAPES)
TO_CITYSCAPES[255] = CITYSCAPES_UNLABELED
TO_VISTAS = lookup_table({CLASSES_16.index(a): VISTAS_NAMES.index(b) for a, b in CLASS16_TO_VISTAS_NAMES.items()})
TO_VISTAS[255] = VISTAS_NAMES.index("Unlabeled")
TO_CAMVID = TABLE_16_TO_CAMVID.copy()
TO_CAMVID[255] = 11  # Unlabelled
TO_CARLA = lookup_table(CLASS16_TO_CARLA)
TO_CARLA[255] = 0  # unlabeled
LAYOUTS = {"sim": ("synthia", "carla", "folder"), "photo": ("cityscapes", "vistas", "camvid", "folder")}


def synthia_paths(out: Path, index: int) -> dict[str, Path]:
    name = f"{index:07d}.png"
    return {"rgb": out / "RGB" / name, "labels": out / "GT" / "LABELS" / name, "color": out / "GT" / "COLOR" / name,
            "depth": out / "Depth" / "Depth" / name, "normals": out / "Normals" / name}


def cityscapes_paths(out: Path, split: str, index: int) -> dict[str, Path]:
    stem = f"simcity_000000_{index:06d}"
    return {"rgb": out / "leftImg8bit" / split / "simcity" / f"{stem}_leftImg8bit.png",
            "labels": out / "gtFine" / split / "simcity" / f"{stem}_gtFine_labelIds.png"}


def vistas_paths(out: Path, split: str, index: int) -> dict[str, Path]:
    folder = out / VISTAS_SPLITS[split]
    return {"rgb": folder / "images" / f"sim{index:07d}.jpg", "labels": folder / "labels" / f"sim{index:07d}.png"}


def camvid_paths(out: Path, split: str, index: int) -> dict[str, Path]:
    name = f"sim_{index:06d}.png"
    return {"rgb": out / split / name, "labels": out / f"{split}annot" / name}


def carla_paths(out: Path, index: int) -> dict[str, Path]:
    name = f"{index:06d}.png"  # CARLA's examples name files after the frame number
    return {"rgb": out / "rgb" / name, "labels": out / "semantic" / name, "depth": out / "depth" / name}


def folder_paths(out: Path, split: str, index: int, depth: bool = False) -> dict[str, Path]:
    name = f"sim_{index:06d}"
    paths = {"rgb": out / "images" / split / f"{name}.png", "labels": out / "labels" / split / f"{name}_label.png"}
    if depth:  # a source
        paths["depth"] = out / "depth" / split / f"{name}.png"
    return paths


def write_folder_mapping(out: Path, depth: bool = False) -> None:
    """mapping.yaml of a folder export: Cityscapes' label ids for the 16 classes, 0 void;
    with `depth`, the unit of the depth PNGs."""
    path = out / "mapping.yaml"
    if not path.exists():
        lines = ["# Simulator frames exported as a folder dataset; labels hold Cityscapes' label ids.",
                 "ontology: 16-class", "label_suffix: _label", "classes:"]
        lines += [f"  {name}: {CLASS16_TO_CITYSCAPES[k]}" for k, name in enumerate(CLASSES_16)]
        lines.append(f"ignore: [{CITYSCAPES_UNLABELED}]")
        if depth:
            lines.append("depth: {unit: cm}  # depth/{split}/*.png: 16-bit centimetres")
        write_text_atomically(path, "\n".join(lines) + "\n")


def vistas_colors() -> list[tuple[int, int, int]]:
    """A display colour per Vistas label: the Cityscapes colour of the class it exports
    from, grey shades for the rest (Mapillary's own colours are in the real config)."""
    colors = [(16 * (i % 16), 16 * (i % 16), 16 * (i % 16)) for i in range(len(VISTAS_NAMES))]
    for name, vistas_name in CLASS16_TO_VISTAS_NAMES.items():
        colors[VISTAS_NAMES.index(vistas_name)] = PALETTE_16[CLASSES_16.index(name)]
    return colors


def write_vistas_config(out: Path) -> None:
    path = out / "config.json"
    if not path.exists():
        labels = [{"name": n.lower().replace(" ", "-"), "readable": n, "color": list(c),
                   "evaluate": n != "Unlabeled"} for n, c in zip(VISTAS_NAMES, vistas_colors())]
        write_text_atomically(path, json.dumps({"labels": labels}, indent=1))


def export(domain: str, count: int, height: int, width: int, out: str | Path, split: str = "train", seed: int = 0,
           progress: bool = True, layout: str | None = None, knobs: SimKnobs | None = None) -> int:
    """Renders and writes `count` frames; returns how many were written (not already there).

    `layout`: synthia (default), carla or folder (with depth) for the `sim` domain;
    cityscapes (default), vistas, camvid or folder for the `photo` domain. `knobs`: the
    `sim` renderer's (ignored for `photo`)."""
    from tqdm import tqdm

    layout = layout or LAYOUTS[domain][0]
    if layout not in LAYOUTS.get(domain, ()):
        raise SpiganError(f"--layout {layout}: the {domain} domain is exported as {' or '.join(LAYOUTS[domain])}")
    out = Path(out)
    if layout == "vistas":
        out.mkdir(parents=True, exist_ok=True)
        write_vistas_config(out)
    source = domain == "sim"  # simulator frames as a source carry depth
    if layout == "folder":
        write_folder_mapping(out, depth=source)
    paths_of = {"synthia": lambda i: synthia_paths(out, i), "cityscapes": lambda i: cityscapes_paths(out, split, i),
                "vistas": lambda i: vistas_paths(out, split, i), "camvid": lambda i: camvid_paths(out, split, i),
                "folder": lambda i: folder_paths(out, split, i, depth=source), "carla": lambda i: carla_paths(out, i)}[
        layout]
    frames = SimFrames(domain, split, count, height, width, seed=seed, knobs=knobs)
    written = 0
    for index in tqdm(range(count), desc=f"export {domain}", disable=not progress):
        paths = paths_of(index)
        if all(p.exists() for p in paths.values()):
            continue
        frame = frames[index]
        if layout == "synthia":
            labels = np.zeros((height, width, 3), dtype=np.uint16)
            labels[..., 2] = TO_SYNTHIA[frame.labels]  # red channel, in OpenCV's BGR order
            labels[..., 1] = frame.instances  # green
            write_png_atomic(paths["labels"], labels)
            write_png_atomic(paths["color"], colorize(frame.labels, PALETTE_16)[..., ::-1])
            write_png_atomic(paths["depth"], depth_to_cm(frame.depth))
            write_png_atomic(paths["normals"], normals_to_png16(frame.normals))
        elif layout == "carla":  # raw camera outputs: BGRA, the tag in red
            labels = np.zeros((height, width, 4), dtype=np.uint8)
            labels[..., 2], labels[..., 3] = TO_CARLA[frame.labels], 255
            write_png_atomic(paths["labels"], labels)
            write_png_atomic(paths["depth"], carla_depth_bgra(frame.depth))
        elif layout == "vistas":  # 8-bit palette PNGs, as Mapillary distributes them
            write_palette_png_atomic(paths["labels"], TO_VISTAS[frame.labels], vistas_colors())
        else:
            table = {"cityscapes": TO_CITYSCAPES, "camvid": TO_CAMVID, "folder": TO_CITYSCAPES}[layout]
            write_png_atomic(paths["labels"], table[frame.labels])
            if "depth" in paths:
                write_png_atomic(paths["depth"], depth_to_cm(frame.depth))
        if layout == "vistas":  # Vistas ships JPEGs
            write_file_atomic(paths["rgb"], cv2.imencode(".jpg", frame.rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])[1])
        elif layout == "carla":  # CARLA's save_to_disk writes BGRA
            write_png_atomic(paths["rgb"], np.dstack([frame.rgb[..., ::-1], np.full((height, width), 255, np.uint8)]))
        else:
            write_png_atomic(paths["rgb"], frame.rgb[..., ::-1])  # last: its presence marks a finished frame
        written += 1
    return written
