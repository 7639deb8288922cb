"""Reading and writing dataset files exactly as distributed, with OpenCV (Pillow for
palette labels and what OpenCV cannot decode). OpenCV is imported where first used, so
that importing this module (as `spigan.load` does) does not load it.

Every reader returns arrays of a checked type and shape, or raises SpiganError naming the
file and what is wrong with it. Writers are atomic (temporary file, fsync, rename).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from spigan.atomic import write_bytes_atomically
from spigan.errors import SpiganError


@functools.cache
def opencv():
    """The cv2 module, imported and set up on first use."""
    import cv2

    cv2.setNumThreads(1)  # data loading runs in worker processes; keep OpenCV from oversubscribing
    # Bad files get our one-line error naming the file; OpenCV's own log lines would only add noise.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    return cv2


def _imread(path: Path) -> np.ndarray:
    """A file's pixels as stored (OpenCV's IMREAD_UNCHANGED: BGR(A), gray, 8 or 16 bits)."""
    if not path.is_file():
        raise SpiganError(f"{path}: file not found")
    cv2 = opencv()
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise SpiganError(f"{path}: not a readable image (truncated, corrupt or not an image)")
    return image


def read_rgb(path: str | Path) -> np.ndarray:
    """A photo in any format OpenCV or Pillow reads -> (H, W, 3) uint8 RGB.

    Photos come as they come: an alpha channel is dropped, gray is replicated into R, G
    and B, 16 bits are scaled by 255/65535 (rounded), palette images are expanded through
    their palette. Only labels (read_index_png) are held to an exact format."""
    path = Path(path)
    if not path.is_file():
        raise SpiganError(f"{path}: image not found")
    cv2 = opencv()
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None  # BGR(A), gray, 8 or 16 bits
    if image is not None:
        return to_rgb8(image, path, bgr=True)
    return to_rgb8(_read_with_pillow(path), path, bgr=False)


def _read_with_pillow(path: Path) -> np.ndarray:
    """What OpenCV cannot decode, as RGB(A), gray or 16-bit gray, through Pillow."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            if image.mode in ("I;16", "I;16L", "I;16B", "I"):  # 16-bit gray (Pillow's "I" holds it too)
                return np.clip(np.array(image), 0, 65535).astype(np.uint16)
            return np.array(image.convert("RGB"))
    except Exception as e:  # Pillow's decoders raise many kinds on bad bytes; all mean the same here
        raise SpiganError(f"{path}: not a readable image (truncated, corrupt or not an image)") from e


def to_rgb8(image: np.ndarray, where, bgr: bool) -> np.ndarray:
    """(H, W), (H, W, 1|2|3|4) uint8 or uint16, in BGR(A) (`bgr`, OpenCV's order) or RGB(A)
    order -> (H, W, 3) uint8 RGB; anything else is a one-line SpiganError naming `where`."""
    if image.dtype == np.uint16:
        image = ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)  # round(x * 255 / 65535)
    elif image.dtype != np.uint8:
        raise SpiganError(f"{where}: expected an 8- or 16-bit image, got {image.dtype} (convert it to 8 bits)")
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[2] not in (1, 2, 3, 4):
        raise SpiganError(f"{where}: expected a gray, RGB or RGBA image, got shape {image.shape}")
    if image.shape[2] <= 2:  # gray, or gray and alpha
        return np.ascontiguousarray(np.repeat(image[..., :1], 3, axis=2))
    return np.ascontiguousarray(image[..., 2::-1] if bgr else image[..., :3])


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
    image = _imread(path)
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
    return _synthia_label_channels(Path(path))[..., 2]


def read_synthia_instances(path: str | Path) -> np.ndarray:
    """SYNTHIA GT/LABELS' instance ids, (H, W) uint16: the second (green) channel, "the
    unique ID of the instance for those objects that are dynamic (cars, pedestrians,
    etc.)" (the dataset's README); 0 elsewhere. Channel 1 in OpenCV's BGR order."""
    return np.ascontiguousarray(_synthia_label_channels(Path(path))[..., 1])


@functools.lru_cache(maxsize=1)
def _synthia_label_file(path: Path, stamp: tuple[int, int, int]) -> np.ndarray:
    image = _imread(path)
    if image.dtype != np.uint16 or image.ndim != 3 or image.shape[2] < 3:
        shape = "x".join(map(str, image.shape))
        raise SpiganError(f"{path}: expected SYNTHIA's 16-bit multi-channel label PNG, got {image.dtype} {shape}")
    image.flags.writeable = False  # shared by the class and instance readers
    return image


def _synthia_label_channels(path: Path) -> np.ndarray:
    """A SYNTHIA label file's channels (BGR order), decoded once for its classes and its
    instance ids (the last file read is kept, keyed by its inode, modification time and size:
    a file written again is read again)."""
    if not path.is_file():
        raise SpiganError(f"{path}: file not found")
    stat = path.stat()
    return _synthia_label_file(path, (stat.st_ino, stat.st_mtime_ns, stat.st_size))


def read_synthia_depth(path: str | Path) -> np.ndarray:
    """SYNTHIA Depth/Depth: a 16-bit PNG in centimetres -> (H, W) float32 metres."""
    return read_depth_png(path, 100)


def read_depth_png(path: str | Path, units_per_metre: int) -> np.ndarray:
    """A 16-bit depth PNG in a unit `units_per_metre` of which make a metre (100: centimetres)
    -> (H, W) float32 metres (0 stays 0: no depth).

    A multi-channel file is accepted only if its channels agree (otherwise which one holds
    the depth would be a guess)."""
    path = Path(path)
    image = _imread(path)
    if image.dtype != np.uint16:
        raise SpiganError(f"{path}: expected a 16-bit depth PNG, got {image.dtype}")
    if image.ndim == 3:
        if not all(np.array_equal(image[..., 0], image[..., c]) for c in range(1, image.shape[2])):
            raise SpiganError(f"{path}: multi-channel depth PNG whose channels differ")
        image = image[..., 0]
    return check_depth(image.astype(np.float32) / units_per_metre, path)


def read_depth_npy(path: str | Path) -> np.ndarray:
    """A .npy array of depth in metres, (H, W) float -> float32 metres."""
    path = Path(path)
    if not path.is_file():
        raise SpiganError(f"{path}: file not found")
    try:
        depth = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise SpiganError(f"{path}: not a readable .npy array ({e})") from e
    if depth.ndim != 2 or depth.dtype.kind != "f":
        raise SpiganError(f"{path}: expected an (H, W) float array of metres, got {depth.dtype} {depth.shape}")
    return check_depth(depth.astype(np.float32), path)


# CARLA's depth camera, saved raw: 24 bits over R, G, B (least significant first) spanning
# 0..1000 m (CARLA's Docs/ref_sensors.md, "Depth camera").
CARLA_FAR = 1000.0


def read_carla_depth(path: str | Path) -> np.ndarray:
    """CARLA's depth camera (sensor.camera.depth) saved raw -> (H, W) float32 metres:
    1000 (R + 256 G + 65536 B) / (2^24 - 1). An 8-bit colour PNG (CARLA writes BGRA)."""
    path = Path(path)
    image = _imread(path)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (3, 4):
        raise SpiganError(f"{path}: expected CARLA's raw depth, an 8-bit colour PNG, got {image.dtype} "
                          f"{'x'.join(map(str, image.shape))}")
    b, g, r = (image[..., c].astype(np.float64) for c in range(3))  # OpenCV's BGR order
    if image[..., :3].any() and np.array_equal(r, g) and np.array_equal(g, b):
        # Real 24-bit depth never has R = G = B everywhere: this is a grey picture of it.
        raise SpiganError(f"{path}: a grey depth picture (saved with ColorConverter.Depth or LogarithmicDepth?); "
                          f"spigan reads the depth camera saved raw (ColorConverter.Raw)")
    metres = (r + 256 * g + 65536 * b) * (CARLA_FAR / (256 ** 3 - 1))
    return check_depth(metres.astype(np.float32), path)


def carla_depth_bgra(metres: np.ndarray) -> np.ndarray:
    """Depth in metres -> CARLA's raw depth image, (H, W, 4) uint8 BGRA (for exports)."""
    code = np.clip(np.round(np.asarray(metres, np.float64) * ((256 ** 3 - 1) / CARLA_FAR)), 0, 256 ** 3 - 1)
    code = code.astype(np.uint32)
    return np.stack([code >> 16, (code >> 8) & 255, code & 255, np.full_like(code, 255)], axis=-1).astype(np.uint8)


def read_carla_label(path: str | Path) -> np.ndarray:
    """CARLA's semantic camera (sensor.camera.semantic_segmentation) saved raw -> (H, W)
    uint8 tags: the red channel of an 8-bit colour PNG (channel 2 in OpenCV's BGR order)."""
    path = Path(path)
    image = _imread(path)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (3, 4):
        raise SpiganError(f"{path}: expected CARLA's raw semantic image, an 8-bit colour PNG with the tag in red, "
                          f"got {image.dtype} {'x'.join(map(str, image.shape))}")
    return np.ascontiguousarray(image[..., 2])


# Normals as a 16-bit 3-channel PNG: each component n in [-1, 1] stored as
# round((n + 1) / 2 * 65535), x in the red channel, y in green, z in blue (OpenCV's axes:
# x right, y down, z forward); all three 0 = no normal (no unit vector encodes so).
def normals_to_png16(normals: np.ndarray) -> np.ndarray:
    """(H, W, 3) unit normals (0 = none) -> (H, W, 3) uint16 in OpenCV's BGR order."""
    n = np.asarray(normals, dtype=np.float64)
    code = np.round((np.clip(n, -1, 1) + 1) / 2 * 65535).astype(np.uint16)
    code[~n.any(axis=-1)] = 0
    return np.ascontiguousarray(code[..., ::-1])


def read_normals_png(path: str | Path) -> np.ndarray:
    """A normals PNG (see normals_to_png16) -> (H, W, 3) float32 unit normals, 0 = none."""
    path = Path(path)
    image = _imread(path)
    if image.dtype != np.uint16 or image.ndim != 3 or image.shape[2] != 3:
        raise SpiganError(f"{path}: expected a 16-bit 3-channel normals PNG, got {image.dtype} "
                          f"{'x'.join(map(str, image.shape))}")
    n = image[..., ::-1].astype(np.float64) / 65535 * 2 - 1
    length = np.sqrt((n * n).sum(-1, keepdims=True))
    none = ~image.any(axis=-1)
    return np.where(none[..., None], 0, n / np.where(length > 0, length, 1)).astype(np.float32)


def depth_to_cm(depth: np.ndarray) -> np.ndarray:
    """Depth in metres -> (H, W) uint16 centimetres, SYNTHIA's encoding: rounded to the
    nearest centimetre; 65535 means 655.35 m or beyond (the sky)."""
    return np.clip(np.round(np.asarray(depth, dtype=np.float64) * 100), 0, 65535).astype(np.uint16)


def check_depth(depth: np.ndarray, path) -> np.ndarray:
    """Depth must be finite and non-negative (0 marks a missing value, skipped by the loss)."""
    if not np.isfinite(depth).all():
        raise SpiganError(f"{path}: depth has NaN or infinite values")
    if (depth < 0).any():
        raise SpiganError(f"{path}: depth has negative values (min {float(depth.min())})")
    return depth


def write_png_atomic(path: str | Path, image: np.ndarray) -> None:
    """Writes `image` (OpenCV channel order) as a PNG, atomically."""
    ok, buf = opencv().imencode(".png", image)
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
    cv2 = opencv()
    if nearest:
        interp = cv2.INTER_NEAREST
    else:
        interp = cv2.INTER_AREA if image.shape[0] > h else cv2.INTER_LINEAR
    return cv2.resize(image, (w, h), interpolation=interp)
