"""Surface normals derived from a depth map and the camera's intrinsics, for sources that
have depth but no normals (SYNTHIA). The simulator renders its normals exactly
(`spigan.sim.hits.camera_normals`); both follow one convention:

    OpenCV's camera axes (x right, y down, z forward), unit length, turned towards the
    camera (n . p < 0 for the point p they belong to), (0, 0, 0) where there is none.

Method (`normals_from_depth`):
1. Back-project every pixel (u, v) of depth z: p = z ((u - cx) / fx, (v - cy) / fy, 1).
2. Pixels without geometry get no normal: depth missing (0, not finite) or at the far
   value FAR_DEPTH (SYNTHIA's sky, 65535 cm).
3. Depth discontinuities: neighbours along a row or column whose depths differ by more than
   a surface seen within `grazing` (3 degrees) of edge-on would show, |dz| > z / (f tan 3°),
   lie on different surfaces (an occlusion edge). A threshold in angle, not in metres or
   per cent, means the same at every resolution: at SYNTHIA's f = 532.7 px it is a 3.6%
   step, at a tenth of that a 36% one.
4. A tangent along each image axis: the difference p(b) - p(a) between points up to
   `radius` (3; the SYNTHIA loader: 3 pixels of the training resolution) pixels before
   and after the pixel, cut short at the first discontinuity or pixel without geometry.
   A baseline longer than one pixel averages out the centimetre steps of SYNTHIA's depth;
   cutting it at discontinuities keeps a pixel's tangent on its own surface. Near
   surfaces stay noisy all the same, where a centimetre is a pixel's footprint:
   benchmarks/normals_accuracy.py measures the error by distance.
5. n = normalise(t_v x t_u) (towards the camera for any surface it can see), its sign
   checked against p. A pixel with no neighbour on its surface along either axis (a
   structure one pixel thin, a surface seen edge-on) gets no normal.

Cost: about 0.2-0.3 s for a 1280x760 frame on one core, done at the file's own resolution
(resizing the depth first would misplace its samples: nearest neighbours do not sit on the
regular grid the back-projection assumes); the normals are then resized like labels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# The far value of SYNTHIA's depth (65535 cm) and of the simulator's sky: no geometry.
FAR_DEPTH = 655.35


@dataclass(frozen=True)
class Intrinsics:
    """A pinhole camera at a `width` x `height` image: focal lengths and principal point in
    pixels, with OpenCV's convention that pixel (row v, column u) is centred at (u, v)."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    def at(self, height: int, width: int) -> Intrinsics:
        """The same camera for the image resized to `height` x `width` (the image's
        rectangle maps onto the new one: u' + 0.5 = s (u + 0.5) along each axis)."""
        sx, sy = width / self.width, height / self.height
        return Intrinsics(self.fx * sx, self.fy * sy, (self.cx + 0.5) * sx - 0.5, (self.cy + 0.5) * sy - 0.5,
                          width, height)


def back_project(depth: np.ndarray, camera: Intrinsics) -> np.ndarray:
    """(H, W) z-depth -> (H, W, 3) camera-space points (OpenCV axes)."""
    x, y = _rays(camera)
    z = depth.astype(np.float64)
    return np.stack([z * x[None, :], z * y[:, None], z], axis=-1)


def _rays(camera: Intrinsics) -> tuple[np.ndarray, np.ndarray]:
    """x / z of every column and y / z of every row."""
    return ((np.arange(camera.width) - camera.cx) / camera.fx, (np.arange(camera.height) - camera.cy) / camera.fy)


def normals_from_depth(depth: np.ndarray, camera: Intrinsics, far: float = FAR_DEPTH, radius: int = 3,
                       grazing: float = 3.0) -> np.ndarray:
    """(H, W) z-depth in metres, seen by `camera` (at this size) -> (H, W, 3) float32 unit
    normals, zero where there is none (see the module docstring for the method)."""
    if depth.shape != (camera.height, camera.width):
        raise ValueError(f"depth of {depth.shape[0]}x{depth.shape[1]} for intrinsics of a "
                         f"{camera.height}x{camera.width} image")
    z = np.where(np.isfinite(depth), depth, 0).astype(np.float64)
    valid = (z > 0) & (z < far * (1 - 1e-6))  # float32 depths of 655.35 read 655.34998
    x, y = _rays(camera)
    # Tangents along the rows (u) and the columns (v), by components: t_u = (ux, uy, uz).
    tan = math.tan(math.radians(grazing))
    ux, uy, uz, ok_u = _row_tangents(z, valid, x, y, radius, 1 / (camera.fx * tan))
    vy, vx, vz, ok_v = (a.T for a in _row_tangents(z.T, valid.T, y, x, radius, 1 / (camera.fy * tan)))
    n = np.stack([vy * uz - vz * uy, vz * ux - vx * uz, vx * uy - vy * ux], axis=-1)  # t_v x t_u
    n[(n[..., 0] * x[None, :] + n[..., 1] * y[:, None] + n[..., 2]) > 0] *= -1  # n . p / z > 0: away
    length = np.sqrt((n * n).sum(-1))
    ok = valid & ok_u & ok_v & (length > 0)
    return np.where(ok[..., None], n / np.where(ok, length, 1)[..., None], 0).astype(np.float32)


def _row_tangents(z: np.ndarray, valid: np.ndarray, along: np.ndarray, across: np.ndarray, radius: int, jump: float):
    """The tangent along each row at every pixel, p(b) - p(a), with a <= pixel <= b at most
    `radius` away on the pixel's own stretch of surface (neighbours whose depths differ by
    more than `jump` times the nearer one are on different surfaces); `along` and `across`
    are the rays' coordinates (over z) along and across the rows. Returns the tangent's
    components along the rows, across them and in z, and whether there is one (a < b)."""
    w = z.shape[1]
    cut = (np.abs(np.diff(z, axis=1)) > jump * np.minimum(z[:, :-1], z[:, 1:])) | ~(valid[:, :-1] & valid[:, 1:])
    column = np.arange(w)[None, :]
    # A stretch starts at column k after a cut between k - 1 and k, and ends at k before one
    # between k and k + 1; each pixel's start is the last start at or before it, its end the
    # first end at or after it.
    starts = np.pad(cut, [(0, 0), (1, 0)], constant_values=True)
    ends = np.pad(cut, [(0, 0), (0, 1)], constant_values=True)
    start = np.maximum.accumulate(np.where(starts, column, 0), axis=1)
    end = np.minimum.accumulate(np.where(ends, column, w - 1)[:, ::-1], axis=1)[:, ::-1]
    a, b = np.maximum(column - radius, start), np.minimum(column + radius, end)
    z_a, z_b = np.take_along_axis(z, a, axis=1), np.take_along_axis(z, b, axis=1)
    # p = z (along, across, 1): only z and `along` change between a and b.
    return z_b * along[b] - z_a * along[a], (z_b - z_a) * across[:, None], z_b - z_a, b > a
