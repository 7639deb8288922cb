"""Procedural patterns shared by the renderers: value noise and the geometric layouts of
windows, lane markings and lamps (which the `sim` renderer draws flat and the `photo`
renderer draws with materials)."""

from __future__ import annotations

import numpy as np

_TABLE = np.random.default_rng(20190506).random(1 << 16)


def _lattice(ix: np.ndarray, iy: np.ndarray, seed: int) -> np.ndarray:
    """A fixed pseudo-random value in [0, 1) per integer lattice point (integer hash)."""
    h = (ix * 374761393 + iy * 668265263 + seed * 1442695041) & 0xFFFFFFFF
    h = ((h ^ (h >> 13)) * 1274126177) & 0xFFFFFFFF
    return _TABLE[(h ^ (h >> 16)) & 0xFFFF]


def value_noise(x: np.ndarray, y: np.ndarray, seed: int = 0) -> np.ndarray:
    """Smooth 2-D value noise in [0, 1) with unit lattice spacing."""
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = x - x0, y - y0
    fx, fy = fx * fx * (3 - 2 * fx), fy * fy * (3 - 2 * fy)
    ix, iy = x0.astype(np.int64), y0.astype(np.int64)
    a, b = _lattice(ix, iy, seed), _lattice(ix + 1, iy, seed)
    c, d = _lattice(ix, iy + 1, seed), _lattice(ix + 1, iy + 1, seed)
    top = a + (b - a) * fx
    return top + (c + (d - c) * fx - top) * fy


def fbm(x: np.ndarray, y: np.ndarray, seed: int = 0, octaves: int = 4) -> np.ndarray:
    """Fractal sum of value noise, normalised to [0, 1)."""
    total, amp, norm = np.zeros_like(x, dtype=np.float64), 1.0, 0.0
    for k in range(octaves):
        total += amp * value_noise(x * (1 << k), y * (1 << k), seed + 7919 * k)
        norm += amp
        amp *= 0.5
    return total / norm


def ipow(x: np.ndarray, n: int) -> np.ndarray:
    """x ** n for a positive integer n by repeated squaring: a few multiplications, where
    numpy's float power calls pow() per element."""
    result, square = None, x
    while n:
        if n & 1:
            result = square if result is None else result * square
        n >>= 1
        if n:
            square = square * square
    return result


def box_face(local: np.ndarray, half: np.ndarray):
    """For points on a box: the face axis (0 x, 1 y, 2 z), the coordinate along the face
    (horizontal, m) and the height above the box's bottom (m)."""
    q = np.abs(local / half)
    axis = q.argmax(axis=-1)
    along = np.where(axis == 0, local[..., 2], local[..., 0])
    height = local[..., 1] + half[..., 1]
    return axis, along, height


def window_mask(along, height, top, floor, bay, win_w, win_h) -> np.ndarray:
    """Windows of a facade: one per bay and floor above the ground floor."""
    fu = np.mod(along / bay, 1.0)
    fv = np.mod(height / floor, 1.0)
    return (np.abs(fu - 0.5) < win_w / 2) & (np.abs(fv - 0.5) < win_h / 2) & (height > floor) & (height < top - 0.6)


def shop_mask(along, height, floor, bay) -> np.ndarray:
    """Large ground-floor windows, one per two bays."""
    fu = np.mod(along / (2 * bay), 1.0)
    return (height > 0.5) & (height < 0.8 * floor) & (np.abs(fu - 0.5) < 0.38)


def lane_marking_mask(x, z, road_half, lane_width, lanes, zebra_z) -> np.ndarray:
    """Painted lines on the road plane: dashed centre line, dashed lane separators, solid
    edge lines between the lanes and the parking strips, and an optional zebra crossing."""
    dash = np.mod(z, 9.0) < 3.0
    centre = (np.abs(x) < 0.075) & dash
    sep = np.zeros_like(centre)
    for k in range(1, int(lanes)):
        sep |= (np.abs(np.abs(x) - k * lane_width) < 0.07) & dash
    edge = np.abs(np.abs(x) - lanes * lane_width) < 0.07
    zebra = (np.abs(z - zebra_z) < 2.0) & (np.mod(x, 1.0) < 0.5) & (np.abs(x) < road_half - 0.5)
    return (centre | sep | edge | zebra) & (np.abs(x) < road_half)


def lamp_layout(local: np.ndarray, half: np.ndarray):
    """Traffic-light head: which of the three lamps (0 top red, 1 amber, 2 bottom green)
    each point of the front face (-z) falls in, -1 elsewhere."""
    front = local[..., 2] < -half[..., 2] + 1e-3
    lamp = np.full(local.shape[:-1], -1)
    for k, y in enumerate((0.3, 0.0, -0.3)):
        inside = front & ((local[..., 0] ** 2 + (local[..., 1] - y) ** 2) < 0.11**2)
        lamp[inside] = k
    return lamp


LAMP_COLORS = np.array([(1.0, 0.1, 0.05), (1.0, 0.65, 0.0), (0.1, 1.0, 0.4)])
