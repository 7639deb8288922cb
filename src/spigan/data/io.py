"""Reading and writing dataset files exactly as distributed, with OpenCV.

Every reader returns arrays of a checked type and shape, or raises SpiganError naming the
file and what is wrong with it. Writers are atomic (temporary file, fsync, rename).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from spigan.atomic import write_bytes_atomically
from spigan.errors import SpiganError

cv2.setNumThreads(1)  # data loading runs in worker processes; keep OpenCV from oversubscribing
# Bad files get our one-line error naming the file; OpenCV's own log lines would only add noise.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


def _imread(path: Path, flags: int) -> np.ndarray:
    if not path.is_file():
        raise SpiganError(f"{path}: file not found")
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, flags) if data.size else None
    if image is None:
        raise SpiganError(f"{path}: not a readable image (truncated, corrupt or not an image)")
    return image


def read_rgb(path: str | Path) -> np.ndarray:
    """An 8-bit colour image (PNG or JPEG) -> (H, W, 3) uint8 RGB."""
    path = Path(path)
    if not path.is_file():
        raise SpiganError(f"{path}: image not found")
    image = _imread(path, cv2.IMREAD_UNCHANGED)
    if image.dtype != np.uint8:
        raise SpiganError(f"{path}: expected an 8-bit RGB image, got {image.dtype}")
    if image.ndim == 2 or image.shape[2] == 1:
        raise SpiganError(f"{path}: expected an 8-bit RGB image, got a grayscale one")
    if image.shape[2] == 4:
        raise SpiganError(f"{path}: expected an 8-bit RGB image, got RGBA (4 channels)")
    return np.ascontiguousarray(image[..., ::-1])


def is_palette_png(path: Path) -> bool:
    """Whether `path` is a PNG whose pixels are indices into a palette (colour type 3)."""
    with open(path, "rb") as f:
        head = f.read(26)
    return head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR" and len(head) == 26 and head[25] == 3


def read_index_png(path: str | Path) -> np.ndarray:
    """An 8-bit label PNG whose pixel values are class indices -> (H, W) uint8: single-channel
    (Cityscapes labelIds, CamVid) or palette (Vistas, whose palette holds display colours).
    OpenCV expands a palette PNG to colours and cannot return its indices; Pillow can."""
    path = Path(path)
    if path.is_file() and is_palette_png(path):
        return _read_palette_indices(path)
    image = _imread(path, cv2.IMREAD_UNCHANGED)
    if image.ndim != 2 or image.dtype != np.uint8:
        kind = f"{image.shape[2]}-channel" if image.ndim == 3 else "single-channel"
        raise SpiganError(f"{path}: expected an 8-bit single-channel label image, got a {kind} {image.dtype} image")
    return image


def _read_palette_indices(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            if image.mode != "P":
                raise SpiganError(f"{path}: expected an 8-bit palette label image, got mode {image.mode}")
            return np.array(image, dtype=np.uint8)
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as e:
        raise SpiganError(f"{path}: not a readable image (truncated, corrupt or not an image: {e})") from e


def write_palette_png_atomic(path: str | Path, indices: np.ndarray, palette: list[tuple[int, int, int]]) -> None:
    """Writes (H, W) uint8 indices as a palette PNG (how Mapillary distributes Vistas labels)."""
    import io as _io

    from PIL import Image

    image = Image.fromarray(np.ascontiguousarray(indices, dtype=np.uint8), mode="P")
    flat = [c for rgb in palette for c in rgb]
    image.putpalette(flat + [0] * (768 - len(flat)))
    buffer = _io.BytesIO()
    image.save(buffer, format="PNG")
    write_file_atomic(path, buffer.getvalue())


def read_synthia_label(path: str | Path) -> np.ndarray:
    """SYNTHIA GT/LABELS: a 16-bit multi-channel PNG whose first (red) channel is the class
    id. OpenCV returns channels in BGR order, so the class is channel 2 there. (Pillow
    reads these files as 8-bit RGB, which is how "max 3" or "max 976" surprises happen.)"""
    path = Path(path)
    image = _imread(path, cv2.IMREAD_UNCHANGED)
    if image.dtype != np.uint16 or image.ndim != 3 or image.shape[2] < 3:
        shape = "x".join(map(str, image.shape))
        raise SpiganError(f"{path}: expected SYNTHIA's 16-bit multi-channel label PNG, got {image.dtype} {shape}")
    return image[..., 2]


def read_synthia_depth(path: str | Path) -> np.ndarray:
    """SYNTHIA Depth/Depth: a 16-bit PNG in centimetres -> (H, W) float32 metres.

    A multi-channel file is accepted only if its channels agree (otherwise which one holds
    the depth would be a guess)."""
    path = Path(path)
    image = _imread(path, cv2.IMREAD_UNCHANGED)
    if image.dtype != np.uint16:
        raise SpiganError(f"{path}: expected a 16-bit depth PNG, got {image.dtype}")
    if image.ndim == 3:
        if not all(np.array_equal(image[..., 0], image[..., c]) for c in range(1, image.shape[2])):
            raise SpiganError(f"{path}: multi-channel depth PNG whose channels differ")
        image = image[..., 0]
    return check_depth(image.astype(np.float32) / 100.0, path)


def check_depth(depth: np.ndarray, path) -> np.ndarray:
    """Depth must be finite and non-negative (0 marks a missing value, skipped by the loss)."""
    if not np.isfinite(depth).all():
        raise SpiganError(f"{path}: depth has NaN or infinite values")
    if (depth < 0).any():
        raise SpiganError(f"{path}: depth has negative values (min {float(depth.min())})")
    return depth


def write_png_atomic(path: str | Path, image: np.ndarray) -> None:
    """Writes `image` (OpenCV channel order) as a PNG, atomically."""
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise SpiganError(f"{path}: OpenCV could not encode the image")
    write_file_atomic(path, buf)


def write_file_atomic(path: str | Path, data) -> None:
    """Writes bytes (or a numpy buffer) to `path` atomically; a one-line error if it cannot."""
    try:
        write_bytes_atomically(path, data)
    except OSError as e:
        raise SpiganError(f"{path}: cannot write ({e.strerror or e})") from e


def resize(image: np.ndarray, size: tuple[int, int], nearest: bool) -> np.ndarray:
    """Resizes to (H, W): nearest neighbour for labels and depth, area/linear for images."""
    h, w = size
    if image.shape[:2] == (h, w):
        return image
    if nearest:
        interp = cv2.INTER_NEAREST
    else:
        interp = cv2.INTER_AREA if image.shape[0] > h else cv2.INTER_LINEAR
    return cv2.resize(image, (w, h), interpolation=interp)
