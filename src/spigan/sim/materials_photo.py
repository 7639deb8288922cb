"""The `photo` renderer's materials: its own look (plainer textures than the `sim`
renderer's, base colours as tints), on the one material system of `materials`: a painter
per material writes the albedo and gloss of its hits into `Surfaces`."""

from __future__ import annotations

import numpy as np

from spigan.sim import textures as tx
from spigan.sim.color import srgb
from spigan.sim.hits import Hits, facade_masks, glass_mask, markings
from spigan.sim.materials import Surfaces, paint_surfaces


def photo_surfaces(hits: Hits) -> Surfaces:
    """Albedo and gloss of every hit (nothing shows through), material by material."""
    base = srgb(hits.table.color)[hits.pid]  # (n, 3) each hit's object colour, linear
    oid = hits.table.object_id[hits.pid]
    return paint_surfaces(hits, _PAINTERS, lambda sel: (base, oid))


def _asphalt(hits: Hits, s: np.ndarray, out: Surfaces, base: np.ndarray, oid: np.ndarray) -> None:
    p = hits.points
    x, z = p[s, 0], p[s, 2]
    grain = tx.value_noise(x * 25, z * 25, 3) - 0.5
    patches = tx.fbm(x * 0.25, z * 0.25, 4, octaves=3)
    v = 0.055 + 0.05 * patches + 0.025 * grain
    out.albedo[s] = v[:, None] * np.array([1.0, 1.0, 1.05])
    paint = markings(hits, s) & (tx.value_noise(x * 4, z * 4, 5) > 0.25)
    out.albedo[s[paint]] = 0.5 + 0.1 * grain[paint, None]


def _pavement(hits: Hits, s: np.ndarray, out: Surfaces, base: np.ndarray, oid: np.ndarray) -> None:
    p = hits.points
    x, z = p[s, 0], p[s, 2]
    top = hits.normals[s, 1] > 0.5
    tile = 0.5
    tx_i, tz_i = np.floor(x / tile).astype(np.int64), np.floor(z / tile).astype(np.int64)
    per_tile = tx._lattice(tx_i, tz_i, 11)
    grout = (np.mod(x / tile, 1) < 0.05) | (np.mod(z / tile, 1) < 0.05)
    v = 0.16 + 0.06 * per_tile - 0.06 * grout + 0.03 * (tx.value_noise(x * 20, z * 20, 12) - 0.5)
    v = np.where(top, v, 0.22 + 0.04 * tx.value_noise(z * 3, p[s, 1] * 3, 13))  # curb stone
    out.albedo[s] = v[:, None] * np.array([1.0, 0.97, 0.92])


def _facade(hits: Hits, s: np.ndarray, out: Surfaces, base: np.ndarray, oid: np.ndarray) -> None:
    local = hits.local
    axis, windows, shops = facade_masks(hits, s)
    half = hits.attr("half", s)
    _, along, height = tx.box_face(local[s], half)
    stain = 0.75 + 0.5 * tx.fbm(along * 0.4 + oid[s], height * 0.4, 21, octaves=3)
    bands = np.where(np.mod(height / hits.param("floor", 3.0, s), 1.0) < 0.06, 0.8, 1.0)
    out.albedo[s] = base[s] * 0.75 * (stain * bands)[:, None]
    roof = axis == 1
    out.albedo[s[roof]] = 0.08
    glass = (windows | shops) & ~roof
    reflect = 0.02 + 0.03 * tx.value_noise(along[glass] * 0.7, height[glass] * 0.3 + oid[s][glass], 22)
    out.albedo[s[glass]] = reflect[:, None] * np.array([0.9, 1.0, 1.15])
    out.gloss[s[glass]] = 1.0


def _wall(hits: Hits, s: np.ndarray, out: Surfaces, base: np.ndarray, oid: np.ndarray) -> None:
    p = hits.points
    v = 0.7 + 0.5 * tx.fbm(p[s, 0] * 0.8 + p[s, 2] * 0.8, p[s, 1] * 0.8, 31, octaves=3)
    out.albedo[s] = base[s] * 0.7 * v[:, None]


def _fence(hits: Hits, s: np.ndarray, out: Surfaces, base: np.ndarray, oid: np.ndarray) -> None:
    p, local = hits.points, hits.local
    along = local[s, 2]
    bars = np.mod(along / hits.param("spacing", 0.2, s), 1.0) < 0.35
    rails = (np.abs(local[s, 1]) > hits.attr("half", s)[:, 1] - 0.08)
    behind = 0.04 + 0.04 * tx.fbm(p[s, 2] * 2, p[s, 1] * 2, 32, octaves=2)  # seen through the gaps
    out.albedo[s] = np.where((bars | rails)[:, None], base[s] * 0.6, behind[:, None] * np.array([0.8, 1.0, 0.7]))


def _metal(hits: Hits, s: np.ndarray, out: Surfaces, base: np.ndarray, oid: np.ndarray) -> None:
    p = hits.points
    out.albedo[s] = base[s] * 0.6 * (0.85 + 0.3 * tx.value_noise(p[s, 1] * 3, oid[s] * 1.0, 41))[:, None]
    out.gloss[s] = 0.3


def _sign(hits: Hits, s: np.ndarray, out: Surfaces, base: np.ndarray, oid: np.ndarray) -> None:
    local = hits.local
    front = hits.normals[s, 2] < -0.5
    face = srgb(hits.param("face", (0.6, 0.6, 0.6), s))
    radial = np.hypot(local[s, 0], local[s, 1])
    border = radial > 0.27
    out.albedo[s] = np.where(front[:, None], np.where(border[:, None], 0.7, face * 0.8), 0.15)
    out.gloss[s] = 0.2


def _traffic_light(hits: Hits, s: np.ndarray, out: Surfaces, base: np.ndarray, oid: np.ndarray) -> None:
    out.albedo[s] = 0.02
    out.gloss[s] = 0.3


def _foliage(hits: Hits, s: np.ndarray, out: Surfaces, base: np.ndarray, oid: np.ndarray) -> None:
    p = hits.points
    u = p[s, 0] * 2.5 + p[s, 2] * 2.5
    leaves = tx.fbm(u, p[s, 1] * 2.5, 51, octaves=3)
    holes = tx.value_noise(u * 3, p[s, 1] * 7, 52) < 0.25
    v = (0.4 + 0.9 * leaves) * np.where(holes, 0.35, 1.0)
    out.albedo[s] = base[s] * 0.45 * v[:, None]


def _bark(hits: Hits, s: np.ndarray, out: Surfaces, base: np.ndarray, oid: np.ndarray) -> None:
    p, local = hits.points, hits.local
    streaks = tx.value_noise(np.arctan2(local[s, 0], local[s, 2]) * 6, p[s, 1] * 0.8, 61)
    out.albedo[s] = base[s] * (0.3 + 0.4 * streaks)[:, None]


def _vehicle(hits: Hits, s: np.ndarray, out: Surfaces, base: np.ndarray, oid: np.ndarray) -> None:
    """Car bodies and cabins, bus bodies: glossy paint; dark glass on cabins and buses."""
    out.albedo[s] = base[s] * 0.8
    out.gloss[s] = 0.6
    materials = hits.materials[s]
    c = np.flatnonzero(materials != "car_paint")
    if c.size:
        glass = glass_mask(hits, s[c], materials[c])
        out.albedo[s[c][glass]] = 0.02
        out.gloss[s[c][glass]] = 1.0


def _tyre(hits: Hits, s: np.ndarray, out: Surfaces, base: np.ndarray, oid: np.ndarray) -> None:
    out.albedo[s] = 0.025


def _cloth(hits: Hits, s: np.ndarray, out: Surfaces, base: np.ndarray, oid: np.ndarray) -> None:
    p = hits.points
    v = 0.7 + 0.6 * tx.value_noise(p[s, 1] * 6, (p[s, 0] + p[s, 2]) * 6, 71)
    out.albedo[s] = base[s] * 0.7 * v[:, None]


def _skin(hits: Hits, s: np.ndarray, out: Surfaces, base: np.ndarray, oid: np.ndarray) -> None:
    out.albedo[s] = base[s] * 0.8


def _distractor(hits: Hits, s: np.ndarray, out: Surfaces, base: np.ndarray, oid: np.ndarray) -> None:
    """Domain randomisation's distractors (in `render_pair` through a `sim` camera): flat."""
    out.albedo[s] = base[s]


_PAINTERS = {
    "asphalt": _asphalt, "pavement": _pavement, "facade": _facade, "wall": _wall, "fence": _fence, "metal": _metal,
    "sign": _sign, "traffic_light": _traffic_light, "foliage": _foliage, "bark": _bark,
    ("car_paint", "car_cabin", "bus_body"): _vehicle, "tyre": _tyre, "cloth": _cloth, "skin": _skin,
    "distractor": _distractor,
}
