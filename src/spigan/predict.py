"""`spigan predict`: a checkpoint's segmentations (and depth, where it has P) of image files,
folders, glob patterns and videos, through the Python API (`spigan.api.Segmenter`).

For each image NAME it writes NAME_labels.png (uint8 class indices of the training
ontology), NAME_color.png (the ontology's colours), NAME_overlay.png (the colours over the
photo), where the checkpoint has P NAME_depth_cm.png (P's depth, uint16 centimetres as
SYNTHIA stores depth; 65535 = 655.35 m or beyond) and NAME_depth.png (its colour preview,
figures.depth_to_rgb), and, with `confidence`, NAME_confidence.png (the softmax probability
of the chosen class, x255) and NAME_entropy.png (the softmax entropy divided by
log(classes), x255). A video NAME gets NAME_overlay.mp4 and, with `video_frames`, every
frame's files in the folder NAME/. Names keep the subfolders of a folder (or of a glob
pattern's folder) and are made unique when two inputs would share one. One classes.json
beside them says what the label values, colours and depth encoding mean.
"""

from __future__ import annotations

import glob
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from spigan.api import Prediction, Segmenter, load
from spigan.atomic import make_output_dir, write_text_atomically
from spigan.data import io
from spigan.errors import SpiganError
from spigan.figures import depth_to_rgb
from spigan.hardware import resolve_device

log = logging.getLogger("spigan")

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")


@dataclass(frozen=True)
class Input:
    """An image or video to predict, the name its outputs start with (a relative path
    without suffix, e.g. `street` or `seq01/frame_0001`), and whether it was named on the
    command line (an unreadable named file is an error; one found in a folder or by a
    pattern is skipped with a warning)."""

    path: Path
    name: str
    named: bool = True

    @property
    def video(self) -> bool:
        return self.path.suffix.lower() in VIDEO_SUFFIXES


def _is_media(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES + VIDEO_SUFFIXES


def _glob_base(pattern: str) -> Path:
    """The folder part of a glob pattern before its first wildcard."""
    parts = Path(pattern).parts
    for k, part in enumerate(parts):
        if glob.has_magic(part):
            return Path(*parts[:k]) if k else Path(".")
    return Path(pattern).parent


def gather_inputs(arguments: list[str], out: str | Path | None = None) -> list[Input]:
    """Files, folders (every image and video below them, sorted, but none under the output
    folder `out`) and glob patterns -> inputs with unique output names. A one-line
    SpiganError for anything that matches nothing, before any work."""
    entries: list[tuple[Path, Path]] = []  # (file, its path relative to what named it)
    named: set[Path] = set()
    outputs = Path(out).expanduser().resolve() if out is not None else None

    def media(f: Path) -> bool:  # an earlier run's outputs are not inputs
        return _is_media(f) and (outputs is None or not f.resolve().is_relative_to(outputs))

    for argument in arguments:
        path = Path(argument).expanduser()
        if path.is_dir():
            files = sorted(f for f in path.rglob("*") if media(f))
            if not files:
                raise SpiganError(f"{argument}: no images or videos in this folder (looked for "
                                  f"{', '.join(IMAGE_SUFFIXES + VIDEO_SUFFIXES)})")
            entries += [(f, f.relative_to(path)) for f in files]
        elif path.is_file():
            entries.append((path, Path(path.name)))
            named.add(path.resolve())
        elif glob.has_magic(argument):
            base = _glob_base(os.path.expanduser(argument))
            files = sorted(Path(m) for m in glob.glob(os.path.expanduser(argument), recursive=True) if media(Path(m)))
            if not files:
                raise SpiganError(f"{argument}: no image or video matches this pattern")
            entries += [(f, f.relative_to(base)) for f in files]
        else:
            raise SpiganError(f"{argument}: image not found")
    seen, unique = set(), []
    for f, rel in entries:  # the same file named twice is predicted once
        if f.resolve() not in seen:
            seen.add(f.resolve())
            unique.append((f, rel))
    return [Input(f, name, f.resolve() in named) for (f, _), name in zip(unique, _unique_names(unique))]


def _unique_names(entries: list[tuple[Path, Path]]) -> list[str]:
    """Output names: the relative path without suffix; where two collide, with the suffix
    (`x_png`, `x_jpg`); where they still collide, from their common folder on."""
    def name(k: int, level: int) -> str:
        f, rel = entries[k]
        if level == 0:
            return rel.with_suffix("").as_posix()
        tag = f"{rel.stem}_{rel.suffix.lstrip('.').lower()}" if rel.suffix else rel.name
        if level == 1:
            return (rel.parent / tag).as_posix()
        group = [entries[j][0].resolve().parent for j in range(len(entries)) if names[j] == names[k]]
        common = Path(os.path.commonpath(group)) if len(group) > 1 else f.resolve().parent
        return (f.resolve().parent.relative_to(common) / tag).as_posix()

    levels = [0] * len(entries)
    names = [name(k, 0) for k in range(len(entries))]
    for _ in range(2):
        counts: dict[str, int] = {}
        for n in names:
            counts[n] = counts.get(n, 0) + 1
        clash = [k for k, n in enumerate(names) if counts[n] > 1]
        if not clash:
            break
        for k in clash:
            levels[k] += 1
        names = [name(k, levels[k]) if k in clash else names[k] for k in range(len(entries))]
    return names


def _open_video(path: Path) -> cv2.VideoCapture:
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise SpiganError(f"{path}: not a readable video (OpenCV cannot open it)")
    return capture


def check_videos(inputs: list[Input]) -> list[Input]:
    """The inputs without the videos found in folders that cannot be read (each said in a
    warning); a named video that cannot be read is an error. Checked before any output."""
    kept = []
    for item in inputs:
        if item.video:
            try:
                capture = _open_video(item.path)
                ok, _ = capture.read()
                capture.release()
                if not ok:
                    raise SpiganError(f"{item.path}: not a readable video (no frame could be decoded)")
            except SpiganError as e:
                if item.named:
                    raise
                log.warning("skipped %s", e)
                continue
        kept.append(item)
    return kept


def write_prediction(model: Segmenter, rgb: np.ndarray, pred: Prediction, stem: Path, alpha: float) -> list[Path]:
    """The files of one image's prediction, named `stem`_KIND.png."""
    files = {"labels": pred.labels, "color": model.colorize(pred.labels)[..., ::-1],
             "overlay": model.overlay(rgb, pred.labels, alpha)[..., ::-1]}
    if pred.depth is not None:
        files["depth_cm"] = io.depth_to_cm(pred.depth)  # the numbers
        files["depth"] = depth_to_rgb(pred.depth)[..., ::-1]  # a picture of them
    if pred.confidence is not None:
        files["confidence"] = to_8bit(pred.confidence)
        files["entropy"] = to_8bit(pred.entropy)
    written = []
    for kind, image in files.items():
        path = stem.parent / f"{stem.name}_{kind}.png"
        io.write_png_atomic(path, image)
        written.append(path)
    return written


def write_classes(model: Segmenter, out: Path) -> Path:
    """out/classes.json: what the values of the files beside it mean, for readers that do not
    load the checkpoint (label id -> class name and colour; the depth encoding)."""
    path = out / "classes.json"
    description = {
        "ontology": model.ontology,
        "classes": [{"id": k, "name": name, "color": list(model.palette[k])} for k, name in enumerate(model.classes)],
        "labels": "NAME_labels.png: uint8, the id of each pixel's class (255 never occurs)",
    }
    if model.has_depth:
        description["depth_cm"] = ("NAME_depth_cm.png: uint16 centimetres, P's z-buffer depth; "
                                   "65535 = 655.35 m or beyond")
        description["depth"] = ("NAME_depth.png: a preview of the depth, log scale from 1 m (pale yellow) to "
                                "655.35 m (black), matplotlib's magma_r")
    write_text_atomically(path, json.dumps(description, indent=2) + "\n")
    return path


def to_8bit(values: np.ndarray) -> np.ndarray:
    """[0, 1] floats -> uint8 0..255."""
    return np.clip(np.rint(values * 255), 0, 255).astype(np.uint8)


def _video(model: Segmenter, item: Input, out: Path, alpha: float, confidence: bool, frames: bool, progress: bool
           ) -> list[Path]:
    """NAME_overlay.mp4 (mp4v, the input's frame rate), written to a temporary file and
    renamed when complete; with `frames`, each frame's files in NAME/."""
    from tqdm import tqdm

    capture = _open_video(item.path)
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    target = out / f"{item.name}_overlay.mp4"
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.parent / f".{target.name}.{os.getpid()}.tmp.mp4"
    writer, written, index = None, [], 0
    bar = tqdm(total=total, desc=item.name, unit="frame", disable=not progress, leave=False)
    try:
        while True:
            chunk = []
            while len(chunk) < model.batch_size:
                ok, bgr = capture.read()
                if not ok:
                    break
                chunk.append(np.ascontiguousarray(bgr[..., ::-1]))
            if not chunk:
                break
            for rgb, pred in zip(chunk, model.predict(chunk, confidence=confidence and frames, depth=frames)):
                overlay = model.overlay(rgb, pred.labels, alpha)
                if writer is None:
                    h, w = overlay.shape[:2]
                    writer = cv2.VideoWriter(str(temporary), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
                    if not writer.isOpened():
                        raise SpiganError(f"{target}: OpenCV cannot write an mp4v video here")
                writer.write(np.ascontiguousarray(overlay[..., ::-1]))
                if frames:
                    written += write_prediction(model, rgb, pred, out / item.name / f"{index:06d}", alpha)
                index += 1
                bar.update(1)
        if writer is None:
            raise SpiganError(f"{item.path}: no frame could be decoded")
        writer.release()
        writer = None
        os.replace(temporary, target)
    finally:
        bar.close()
        capture.release()
        if writer is not None:
            writer.release()
        temporary.unlink(missing_ok=True)
    return [target] + written


def predict(checkpoint: str | Path, inputs: list[str], out: str | Path, device: str = "auto",
            confidence: bool = False, alpha: float = 0.5, batch_size: int = 8, video_frames: bool = False,
            progress: bool = False) -> tuple[list[Path], int, int, int]:
    """Predicts every input into `out`; returns (files written, images, videos, inputs
    skipped). Inputs, videos, the checkpoint and the device are checked before the first
    file is written; an image found in a folder that cannot be read is skipped with a warning."""
    from tqdm import tqdm

    device = resolve_device(device, "--device")
    found = gather_inputs(inputs, out)
    items = check_videos(found)
    skipped_videos, skipped_images = len(found) - len(items), 0
    model = load(checkpoint, device=device, batch_size=batch_size)
    out = make_output_dir(out, "--out")
    images = [it for it in items if not it.video]
    written: list[Path] = []
    bar = tqdm(total=len(images), desc="predict", unit="image", disable=not progress or not images)
    for start in range(0, len(images), batch_size):
        chunk, rgbs = [], []
        for it in images[start: start + batch_size]:
            try:
                rgbs.append(io.read_rgb(it.path))
                chunk.append(it)
            except SpiganError as e:
                if it.named:
                    raise
                log.warning("skipped %s", e)
                skipped_images += 1
        for it, rgb, pred in zip(chunk, rgbs, model.predict(rgbs, confidence=confidence) if rgbs else []):
            written += write_prediction(model, rgb, pred, out / it.name, alpha)
        bar.update(len(images[start: start + batch_size]))
    bar.close()
    videos = [it for it in items if it.video]
    for it in videos:
        written += _video(model, it, out, alpha, confidence, video_frames, progress)
    if not written:
        raise SpiganError(f"{', '.join(inputs)}: no readable image or video (each skipped file is named above)")
    return [write_classes(model, out)] + written, len(images) - skipped_images, len(videos), skipped_images + skipped_videos
