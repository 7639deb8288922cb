"""The material system both renderers share (`Surfaces`, `paint_surfaces`: one painter per
material) and the `sim` renderer's materials (`photo`'s are in `materials_photo`):
procedural textures with per-object variation, in the spirit of SYNTHIA's textured city (asphalt with patches and worn markings, paving slabs,
plaster, brick, concrete and glass facades with framed windows, shop fronts and doors,
seasonal foliage, car paint and glass), plainly synthetic: no dirt map, no photo texture.

Every function returns linear albedo. Details finer than a pixel's footprint on the surface
fade to their average (`_detail`), as mip-mapping does, so distant facades and roads do
not alias into noise. Each object's choices (palette entry, pattern, tint) come from a hash
of its id and a per-frame salt, so they vary from object to object and frame to frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spigan.sim import textures as tx
from spigan.sim.color import srgb
from spigan.sim.environment import Environment
from spigan.sim.hits import Hits, facade_masks, glass_mask, markings
from spigan.sim.table import ELLIPSOID


ASPHALT = srgb([(0.42, 0.42, 0.43), (0.36, 0.36, 0.38), (0.48, 0.47, 0.46), (0.3, 0.3, 0.32), (0.45, 0.44, 0.47)])
# Weathered concrete and stone: albedo 0.2-0.35.
PAVING = srgb([(0.52, 0.51, 0.5), (0.6, 0.57, 0.52), (0.5, 0.42, 0.4), (0.46, 0.46, 0.48), (0.62, 0.6, 0.57)])
TARMAC = srgb([(0.45, 0.45, 0.46), (0.4, 0.4, 0.42), (0.5, 0.49, 0.48), (0.36, 0.35, 0.36)])
CURB = srgb([(0.66, 0.66, 0.64), (0.58, 0.58, 0.58)])
PLASTER = srgb([(0.85, 0.8, 0.7), (0.9, 0.88, 0.84), (0.8, 0.68, 0.5), (0.72, 0.72, 0.7), (0.78, 0.6, 0.5),
                (0.7, 0.75, 0.78), (0.88, 0.82, 0.6), (0.62, 0.58, 0.52)])
BRICK = srgb([(0.55, 0.3, 0.22), (0.62, 0.4, 0.3), (0.45, 0.28, 0.22), (0.7, 0.55, 0.4), (0.5, 0.42, 0.38)])
CONCRETE = srgb([(0.6, 0.6, 0.58), (0.52, 0.52, 0.52), (0.68, 0.66, 0.62)])
CURTAIN_GLASS = srgb([(0.25, 0.32, 0.38), (0.3, 0.35, 0.32), (0.35, 0.35, 0.38)])
FRAMES = srgb([(0.9, 0.9, 0.88), (0.2, 0.2, 0.2), (0.45, 0.3, 0.2), (0.6, 0.62, 0.62)])
SHOP_SIGNS = srgb([(0.7, 0.1, 0.1), (0.1, 0.25, 0.55), (0.1, 0.4, 0.2), (0.9, 0.75, 0.2), (0.15, 0.15, 0.15),
                   (0.85, 0.85, 0.85)])
WALLS = srgb([(0.62, 0.6, 0.55), (0.5, 0.35, 0.28), (0.7, 0.68, 0.62), (0.45, 0.45, 0.43)])
FENCES = srgb([(0.15, 0.2, 0.15), (0.12, 0.12, 0.12), (0.5, 0.38, 0.25), (0.55, 0.55, 0.55)])
POLES = srgb([(0.5, 0.5, 0.5), (0.15, 0.22, 0.17), (0.12, 0.12, 0.13), (0.62, 0.62, 0.6)])
# Foliage per season: (leaf colour, second leaf colour, share of sky seen through the crown).
FOLIAGE = {
    "summer": (srgb((0.22, 0.38, 0.12)), srgb((0.32, 0.45, 0.15)), 0.04),
    "spring": (srgb((0.35, 0.52, 0.2)), srgb((0.45, 0.58, 0.22)), 0.08),
    "autumn": (srgb((0.55, 0.42, 0.12)), srgb((0.45, 0.22, 0.08)), 0.15),
    "winter": (srgb((0.24, 0.2, 0.17)), srgb((0.3, 0.27, 0.24)), 0.3),
}
BARK = srgb([(0.35, 0.3, 0.25), (0.4, 0.38, 0.34), (0.28, 0.22, 0.18)])
# Car colours roughly as common as on European streets: white, black, greys and silvers lead.
CAR_PAINTS = srgb([(0.9, 0.9, 0.9), (0.08, 0.08, 0.09), (0.55, 0.56, 0.58), (0.35, 0.36, 0.38),
                   (0.75, 0.76, 0.78), (0.15, 0.2, 0.45), (0.6, 0.08, 0.08), (0.2, 0.3, 0.22), (0.6, 0.5, 0.35),
                   (0.9, 0.9, 0.9), (0.08, 0.08, 0.09), (0.55, 0.56, 0.58)])
BUS_PAINTS = srgb([(0.75, 0.1, 0.1), (0.9, 0.9, 0.88), (0.9, 0.75, 0.15), (0.15, 0.35, 0.65), (0.2, 0.5, 0.3)])
CLOTHES = srgb([(0.08, 0.08, 0.1), (0.15, 0.18, 0.3), (0.3, 0.3, 0.32), (0.5, 0.1, 0.1), (0.8, 0.8, 0.78),
                (0.45, 0.35, 0.25), (0.2, 0.3, 0.2), (0.6, 0.55, 0.45), (0.1, 0.25, 0.5)])
SKIN = srgb([(0.87, 0.7, 0.58), (0.7, 0.52, 0.4), (0.45, 0.32, 0.24)])
SIGN_BORDER = srgb((0.9, 0.9, 0.9))


@dataclass
class Surfaces:
    """What the materials say about each hit, for the lighting to use."""

    albedo: np.ndarray  # (n, 3) linear diffuse albedo
    gloss: np.ndarray  # (n,) share of the light reflected as a mirror (Fresnel-weighted later)
    through: np.ndarray  # (n,) share of the pixel where the sky shows through (sparse tree crowns)


class _Objects:
    """Per-object random values in [0, 1): the same for every hit on one object. Drawn for
    every primitive and key at once (one hash call), then looked up per hit."""

    KEYS = 24

    def __init__(self, hits: Hits, salt: int):
        ids = hits.table.object_id if len(hits.table) else np.zeros(1, np.int64)
        keys = np.arange(self.KEYS, dtype=np.int64)[:, None]
        self.table = tx._lattice(np.broadcast_to(ids, (self.KEYS, len(ids))), keys, salt)  # (KEYS, P)
        self.pid, self.salt = hits.pid, salt

    def random(self, key: int, sel: np.ndarray) -> np.ndarray:
        return self.table[key, self.pid[sel]]

    def pick(self, palette: np.ndarray, key: int, sel: np.ndarray) -> np.ndarray:
        return palette[(self.random(key, sel) * len(palette)).astype(np.int64)]

    def tint(self, colors: np.ndarray, sel: np.ndarray, amount: float = 0.1) -> np.ndarray:
        """Colours with a per-object brightness and hue jitter (keys 20-23, kept for it)."""
        shift = np.stack([self.random(20 + c, sel) for c in range(3)], axis=1) - 0.5
        bright = 1 + amount * 2 * (self.random(23, sel) - 0.5)
        return colors * bright[:, None] * (1 + amount * shift)


def _detail(period: float | np.ndarray, footprint: np.ndarray) -> np.ndarray:
    """How much of a pattern of `period` (m) survives at a pixel footprint: 1 when it spans
    three pixels or more, 0 when it is finer than one."""
    return np.clip((period / footprint - 1.0) * 0.5, 0, 1)


def paint_surfaces(hits: Hits, painters: dict, context) -> Surfaces:
    """The material system of both renderers: every material's painter (`painters`: a
    material name, or a tuple of them, -> painter) writes the albedo, gloss and see-through
    of its hits into one `Surfaces`. A painter is called as
    `painter(hits, sel, surfaces, *context(sel))` for the hits `sel` on its materials."""
    n = len(hits.pid)
    out = Surfaces(np.zeros((n, 3)), np.zeros(n), np.zeros(n))
    for name, paint in painters.items():
        sel = hits.of(*name) if isinstance(name, tuple) else hits.of(name)
        if sel.size:
            paint(hits, sel, out, *context(sel))
    return out


def sim_surfaces(hits: Hits, env: Environment, salt: int) -> Surfaces:
    """The `sim` renderer's albedo, gloss and see-through of every hit, material by material."""
    if not len(hits.pid):
        return paint_surfaces(hits, {}, None)
    objects = _Objects(hits, salt)
    footprint = hits.footprint()
    return paint_surfaces(hits, _PAINTERS, lambda sel: (objects, footprint[sel], env))


def _asphalt(hits: Hits, s: np.ndarray, out: Surfaces, obj: _Objects, foot: np.ndarray, env: Environment) -> None:
    p = hits.points[s]
    x, z = p[:, 0], p[:, 2]
    base = obj.tint(obj.pick(ASPHALT, 1, s), s, 0.08)
    patches = tx.fbm(x * 0.15 + 50, z * 0.15, 101, octaves=3) - 0.5  # repairs, wear
    grain = (tx.value_noise(x * 12, z * 12, 102) - 0.5) * _detail(0.08, foot)
    # Tyres polish two darker bands in each lane.
    g = hits.pid[s[0]]  # the road's row
    lane_pos = np.mod(np.abs(x) / hits.table.param("lane_width", 3.3)[g], 1.0)
    tracks = (np.abs(lane_pos - 0.25) < 0.08) | (np.abs(lane_pos - 0.75) < 0.08)
    v = 1 + 0.35 * patches + 0.25 * grain - 0.08 * tracks * (np.abs(x) < hits.table.param("road_half", 8)[g])
    albedo = base * v[:, None]
    paint = markings(hits, s)
    worn = tx.value_noise(x * 3, z * 3, 103) * _detail(0.3, foot) + 0.5 * (1 - _detail(0.3, foot))
    yellow = obj.random(5, s) < 0.25  # some streets paint their edge lines yellow
    line = np.where(yellow[:, None], srgb((0.85, 0.7, 0.2)), srgb((0.88, 0.88, 0.86)))
    mix = (paint * (0.45 + 0.55 * worn))[:, None]
    out.albedo[s] = albedo * (1 - mix) + line * mix
    out.albedo[s] *= 1 - 0.5 * env.wet
    out.gloss[s] = 0.02 + 0.5 * env.wet


def _pavement(hits: Hits, s: np.ndarray, out: Surfaces, obj: _Objects, foot: np.ndarray, env: Environment) -> None:
    """Sidewalks as streets pave them: concrete slabs, small pavers, or tarmac (as on many
    British and American pavements, where only the curb tells pavement from road)."""
    p = hits.points[s]
    top = hits.normals[s, 1] > 0.5
    kind = obj.random(8, s)
    tarmac, pavers = kind < 0.3, (kind >= 0.3) & (kind < 0.55)
    base = obj.tint(np.where(tarmac[:, None], obj.pick(TARMAC, 1, s), obj.pick(PAVING, 1, s)), s, 0.08)
    # Slabs or pavers of a per-street size, in stretcher bond on alternate rows; grout between.
    size = np.where(pavers, 0.12 + 0.13 * obj.random(6, s), 0.3 + 0.4 * obj.random(6, s))
    u, w = p[:, 2] / size, p[:, 0] / size
    row = np.floor(w)
    u = u + 0.5 * np.mod(row, 2) * ((obj.random(7, s) < 0.5) | pavers)
    per_slab = tx._lattice(np.floor(u).astype(np.int64), row.astype(np.int64), 111) - 0.5
    grout = ((np.mod(u, 1) < 0.06) | (np.mod(w, 1) < 0.06)).astype(float)
    keep = _detail(size * 0.5, foot) * ~tarmac
    grout = grout * keep + 0.12 * (1 - keep) * ~tarmac
    stains = tx.fbm(p[:, 0] * 0.3, p[:, 2] * 0.3, 112, octaves=2) - 0.5
    grain = (tx.value_noise(p[:, 0] * 12, p[:, 2] * 12, 114) - 0.5) * _detail(0.08, foot) * tarmac
    v = (1 + 0.18 * per_slab * keep + 0.3 * stains + 0.3 * grain) * (1 - 0.35 * grout)
    albedo = base * v[:, None]
    curb = obj.pick(CURB, 3, s) * (0.9 + 0.2 * tx.value_noise(p[:, 2] * 2, p[:, 1] * 8, 113))[:, None]
    out.albedo[s] = np.where(top[:, None], albedo, curb) * (1 - 0.35 * env.wet)
    out.gloss[s] = 0.02 + 0.2 * env.wet


def _facade(hits: Hits, s: np.ndarray, out: Surfaces, obj: _Objects, foot: np.ndarray, env: Environment) -> None:
    local, half = hits.local[s], hits.attr("half", s)
    axis, along, height = tx.box_face(local, half)
    floor, bay = hits.param("floor", 3.0, s), hits.param("bay", 2.5, s)
    tall = 2 * half[:, 1] > 24
    kind = obj.random(1, s)  # plaster, brick, concrete, or a glass curtain wall on tall blocks
    brick, concrete = (kind > 0.5) & (kind <= 0.8), kind > 0.8
    curtain = concrete & tall & (obj.random(9, s) < 0.6)
    base = np.where(brick[:, None], obj.pick(BRICK, 2, s),
                    np.where(concrete[:, None], obj.pick(CONCRETE, 2, s), obj.pick(PLASTER, 2, s)))
    base = obj.tint(base, s, 0.12)
    # Brick courses (7.5 cm) and bricks; they fade to their average beyond a few metres.
    course = np.floor(height / 0.075)
    brick_id = np.floor(along / 0.22 + 0.5 * np.mod(course, 2))
    per_brick = tx._lattice(brick_id.astype(np.int64), course.astype(np.int64), 121) - 0.5
    mortar = (np.mod(height / 0.075, 1) < 0.15).astype(float)
    keep = _detail(0.075, foot)
    brickwork = 1 + (0.25 * per_brick - 0.25 * mortar) * keep - 0.04 * (1 - keep)
    weathering = 0.85 + 0.3 * tx.fbm(along * 0.3 + obj.random(4, s) * 97, height * 0.3, 122, octaves=3)
    v = np.where(brick, brickwork, 1.0) * weathering
    # Floor bands / cornices, a ground floor of another colour on some blocks.
    band = (np.mod(height / floor, 1.0) < 0.05) & (height > floor * 0.9) & (obj.random(10, s) < 0.5)
    albedo = base * v[:, None]
    albedo[band] = albedo[band] * 1.3 + 0.05
    windows, shops = facade_masks(hits, s)[1:]
    frame_w = 0.08 + 0.06 * obj.random(11, s)
    framed = tx.window_mask(along, height, 2 * half[:, 1], floor, bay, hits.param("win_w", 0.5, s) + frame_w,
                            hits.param("win_h", 0.5, s) + frame_w) & ~windows
    frames = obj.pick(FRAMES, 12, s)
    fk = _detail(0.1, foot)[:, None]
    albedo[framed] = (frames * fk + albedo * (1 - fk))[framed]
    # Ground floor: shop fronts with a sign band above them, or doors.
    shop_front = shops & (hits.param("pattern", 0, s) == 0)
    fascia = (hits.param("pattern", 0, s) == 0) & (height > 0.8 * floor) & (height < floor) & (axis != 1)
    albedo[fascia] = obj.pick(SHOP_SIGNS, 13, s)[fascia] * (0.8 + 0.4 * obj.random(14, s)[fascia, None])
    door = (hits.param("pattern", 0, s) != 0) & (height < 2.2) & (np.abs(np.mod(along / (3 * bay), 1) - 0.5) < 0.12)
    albedo[door] = obj.pick(FRAMES, 15, s)[door] * 0.5
    # Glass: windows (a random blind or curtain behind some), shop windows, curtain walls.
    glass = (windows | shop_front) & (axis != 1)
    cell = tx._lattice(np.floor(along / bay).astype(np.int64), np.floor(height / floor).astype(np.int64), 123)
    inside = srgb((0.12, 0.13, 0.15)) * (0.6 + 1.4 * (cell ** 3))[:, None]
    albedo[glass] = inside[glass]
    out.gloss[s[glass]] = 0.9
    grid = (np.mod(along / 1.5, 1) < 0.06) | (np.mod(height / floor, 1) < 0.08)
    cw = curtain & (axis != 1)
    albedo[cw] = np.where(grid[cw, None], srgb((0.3, 0.3, 0.32)), obj.pick(CURTAIN_GLASS, 16, s)[cw] * 0.5)
    out.gloss[s[cw & ~grid]] = 1.0
    roof = axis == 1
    albedo[roof] = srgb((0.25, 0.24, 0.24))
    out.albedo[s] = albedo


def _wall(hits: Hits, s: np.ndarray, out: Surfaces, obj: _Objects, foot: np.ndarray, env: Environment) -> None:
    p = hits.points[s]
    base = obj.tint(obj.pick(WALLS, 1, s), s, 0.1)
    blocks = tx._lattice(np.floor(p[:, 0] / 0.4 + p[:, 2] / 0.4).astype(np.int64),
                         np.floor(p[:, 1] / 0.2).astype(np.int64), 131) - 0.5
    v = 0.9 + 0.3 * tx.fbm((p[:, 0] + p[:, 2]) * 0.7, p[:, 1] * 0.7, 132, octaves=2) + 0.2 * blocks * _detail(0.2, foot)
    out.albedo[s] = base * v[:, None]


def _fence(hits: Hits, s: np.ndarray, out: Surfaces, obj: _Objects, foot: np.ndarray, env: Environment) -> None:
    local = hits.local[s]
    spacing = hits.param("spacing", 0.2, s)
    bars = np.mod(local[:, 2] / spacing, 1.0) < 0.35
    rails = np.abs(local[:, 1]) > hits.attr("half", s)[:, 1] - 0.08
    keep = _detail(spacing, foot)
    solid = (bars | rails) * keep + 0.45 * (1 - keep)
    # What shows between the bars: the garden or yard behind, in shade.
    behind = srgb((0.12, 0.15, 0.1)) * (0.7 + 0.6 * tx.fbm(hits.points[s, 2] * 2, hits.points[s, 1] * 2, 141, 2))[:, None]
    color = obj.tint(obj.pick(FENCES, 1, s), s, 0.1)
    out.albedo[s] = color * solid[:, None] + behind * (1 - solid)[:, None]


def _metal(hits: Hits, s: np.ndarray, out: Surfaces, obj: _Objects, foot: np.ndarray, env: Environment) -> None:
    base = obj.tint(obj.pick(POLES, 1, s), s, 0.1)
    out.albedo[s] = base * (0.85 + 0.3 * tx.value_noise(hits.points[s, 1] * 2, obj.random(3, s) * 50, 151))[:, None]
    out.gloss[s] = 0.15


def _sign(hits: Hits, s: np.ndarray, out: Surfaces, obj: _Objects, foot: np.ndarray, env: Environment) -> None:
    local = hits.local[s]
    front = hits.normals[s, 2] < -0.5
    face = srgb(hits.param("face", (0.6, 0.6, 0.6), s))
    border = np.hypot(local[:, 0], local[:, 1]) > 0.27
    symbol = (np.abs(local[:, 0]) < 0.12) & (np.abs(local[:, 1]) < 0.12)  # a pictogram's worth of contrast
    albedo = np.where(border[:, None], SIGN_BORDER, np.where(symbol[:, None], srgb((0.1, 0.1, 0.1)), face))
    out.albedo[s] = np.where(front[:, None], albedo, srgb((0.45, 0.45, 0.45)))
    out.gloss[s] = 0.1


def _traffic_light(hits: Hits, s: np.ndarray, out: Surfaces, obj: _Objects, foot: np.ndarray,
                   env: Environment) -> None:
    out.albedo[s] = srgb((0.1, 0.1, 0.1))
    out.gloss[s] = 0.2


def _foliage(hits: Hits, s: np.ndarray, out: Surfaces, obj: _Objects, foot: np.ndarray, env: Environment) -> None:
    p, local = hits.points[s], hits.local[s]
    first, second, sparse = FOLIAGE[env.season]
    mix = obj.random(1, s)[:, None]
    base = obj.tint(first * (1 - mix) + second * mix, s, 0.15)
    # Leaf clusters: bright tops, dark hollows; fine detail fades with distance.
    u = (p[:, 0] + p[:, 2]) * 2.0
    clusters = tx.fbm(u, p[:, 1] * 2.0, 161, octaves=3)
    fine = (tx.value_noise(u * 4, p[:, 1] * 8, 162) - 0.5) * _detail(0.15, foot)
    top = np.clip(local[:, 1] / hits.attr("extent", s)[:, 1], -1, 1)
    v = 0.55 + 0.9 * clusters + 0.4 * fine + 0.2 * top
    out.albedo[s] = base * v[:, None]
    # Sparse crowns (autumn, winter) show the sky between twigs; hedges (boxes) are dense.
    # Twigs finer than a pixel blend into an even veil of twig and sky.
    # The crown thins out towards its silhouette, where the view grazes it.
    twigs = np.clip((tx.fbm(u * 3, p[:, 1] * 5, 163, octaves=2) - 0.5) * 3, -1, 1)
    rays = hits.rays.reshape(-1, 3)[hits.flat[s]]
    grazing = 1 - np.abs((rays * hits.normals[s]).sum(1)) / np.sqrt((rays * rays).sum(1))
    through = np.clip(sparse * (0.5 + 1.5 * grazing) * (1 + twigs * _detail(0.25, foot)), 0, 0.95)
    out.through[s] = np.where(_is_crown(hits, s), through, 0.0)


def _is_crown(hits: Hits, s: np.ndarray) -> np.ndarray:
    return hits.attr("kind", s) == ELLIPSOID


def _bark(hits: Hits, s: np.ndarray, out: Surfaces, obj: _Objects, foot: np.ndarray, env: Environment) -> None:
    local = hits.local[s]
    streaks = tx.value_noise(np.arctan2(local[:, 0], local[:, 2]) * 5, hits.points[s, 1] * 1.5, 171)
    out.albedo[s] = obj.pick(BARK, 1, s) * (0.6 + 0.6 * streaks)[:, None]


def _vehicle(hits: Hits, s: np.ndarray, out: Surfaces, obj: _Objects, foot: np.ndarray, env: Environment) -> None:
    """Car bodies and cabins and bus bodies: glossy paint, dark glass, lights front and back."""
    materials = hits.materials[s]
    bus = materials == "bus_body"
    paint = np.where(bus[:, None], obj.pick(BUS_PAINTS, 1, s), obj.pick(CAR_PAINTS, 1, s))
    paint = obj.tint(paint, s, 0.06)
    local, half = hits.local[s], hits.attr("half", s)
    albedo = paint.copy()
    gloss = np.full(len(s), 0.35)
    # Lamps on the body's ends (local z = +-half): white in front, red behind; a dark grille.
    body = materials == "car_paint"
    end = body & (np.abs(local[:, 2]) > half[:, 2] - 1e-3)
    lamp = end & (np.abs(np.abs(local[:, 0]) - 0.7 * half[:, 0]) < 0.18 * half[:, 0]) & (local[:, 1] > 0)
    albedo[lamp] = np.where((local[lamp, 2] > 0)[:, None], srgb((0.9, 0.9, 0.85)), srgb((0.6, 0.05, 0.05)))
    grille = end & ~lamp & (np.abs(local[:, 0]) < 0.45 * half[:, 0]) & (local[:, 1] < 0) & (local[:, 2] > 0)
    albedo[grille] = srgb((0.1, 0.1, 0.1))
    # The sills darken with road dirt and the shade under the body.
    sill = body & (local[:, 1] < -0.6 * half[:, 1])
    albedo[sill] *= 0.6
    glass = glass_mask(hits, s, materials) & ~body
    albedo[glass] = srgb((0.06, 0.07, 0.08))
    gloss[glass] = 0.9
    out.albedo[s], out.gloss[s] = albedo, gloss


def _tyre(hits: Hits, s: np.ndarray, out: Surfaces, obj: _Objects, foot: np.ndarray, env: Environment) -> None:
    local = hits.local[s]
    radius, axis = hits.attr("radius", s), hits.attr("axis", s)
    across = np.sqrt(np.maximum((local * local).sum(1) - np.take_along_axis(local, axis[:, None], 1)[:, 0] ** 2, 0))
    rim = across < 0.6 * radius
    out.albedo[s] = np.where(rim[:, None], srgb((0.5, 0.5, 0.52)), srgb((0.06, 0.06, 0.06)))


def _cloth(hits: Hits, s: np.ndarray, out: Surfaces, obj: _Objects, foot: np.ndarray, env: Environment) -> None:
    p = hits.points[s]
    # Each part of a person (legs, torso) has its own primitive: pick per primitive, not object.
    key = (hits.pid[s] * 7 + 1).astype(np.int64)
    pick = tx._lattice(key, np.full(len(s), obj.salt, dtype=np.int64), 181)
    base = CLOTHES[(pick * len(CLOTHES)).astype(np.int64)]
    folds = 0.8 + 0.4 * tx.value_noise(p[:, 1] * 6, (p[:, 0] + p[:, 2]) * 6, 182)
    out.albedo[s] = base * folds[:, None]


def _skin(hits: Hits, s: np.ndarray, out: Surfaces, obj: _Objects, foot: np.ndarray, env: Environment) -> None:
    local = hits.local[s]
    hair = local[:, 1] > 0.02 + 0.04 * (local[:, 2] > 0)  # hair over the top and back of the head
    out.albedo[s] = np.where(hair[:, None], obj.pick(srgb([(0.1, 0.08, 0.06), (0.3, 0.2, 0.12), (0.55, 0.5, 0.45)]),
                                                     2, s), obj.pick(SKIN, 1, s))


def _distractor(hits: Hits, s: np.ndarray, out: Surfaces, obj: _Objects, foot: np.ndarray, env: Environment) -> None:
    out.albedo[s] = srgb(hits.attr("color", s))


_PAINTERS = {
    "asphalt": _asphalt, "pavement": _pavement, "facade": _facade, "wall": _wall, "fence": _fence, "metal": _metal,
    "sign": _sign, "traffic_light": _traffic_light, "foliage": _foliage, "bark": _bark,
    ("car_paint", "car_cabin", "bus_body"): _vehicle, "tyre": _tyre, "cloth": _cloth, "skin": _skin,
    "distractor": _distractor,
}
