"""The two renderers of the simulator: `sim` (the source domain) and `photo` (the stand-in
for real photos). Both start from the same geometric pass, so for a given scene and camera
their labels and depth are identical; only the pixels differ.

- `sim`: SYNTHIA-RAND-like look: per-class palettes with per-object jitter, Lambertian
  shading from the sun without shadows, a flat sky, no noise.
- `photo`: textured materials, sun with cast shadows, sky gradient and clouds, specular
  paint and glass, depth-dependent haze, and a camera: white balance, exposure and tone
  curve, vignetting, slight blur, sensor noise and JPEG compression.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from spigan.ontology import CLASS_INDEX
from spigan.sim import textures as tx
from spigan.sim.geometry import Camera, Ground, Primitive, cast_primary, cast_shadows
from spigan.sim.scene import Scene

# Depth written for sky pixels (m). It is the largest value SYNTHIA's depth encoding
# (16-bit centimetres) can hold, so exports stay exact. Farther hits are clipped to it.
SKY_DEPTH = 655.35
SKY = CLASS_INDEX["sky"]
DOMAINS = ("sim", "photo")


@dataclass
class Frame:
    rgb: np.ndarray  # (H, W, 3) uint8
    labels: np.ndarray  # (H, W) uint8, 16-class indices (255 = void)
    depth: np.ndarray  # (H, W) float32 z-buffer depth in metres, SKY_DEPTH for sky
    camera: Camera


@dataclass
class Hits:
    """The geometric pass: what each pixel's ray hit, shared by both renderers."""

    prims: list[Primitive]
    camera: Camera
    depth: np.ndarray  # (H, W) ray parameter = z-depth; inf for sky
    rays: np.ndarray  # (H, W, 3)
    flat: np.ndarray  # (n,) flat pixel indices of the hits
    pid: np.ndarray  # (n,) primitive index of each hit
    points: np.ndarray  # (n, 3) world positions
    normals: np.ndarray  # (n, 3) unit world normals
    local: np.ndarray  # (n, 3) positions in the primitive's frame

    def param(self, name: str, default, sel: np.ndarray) -> np.ndarray:
        """Per-hit value of a primitive's style parameter, for the hits selected by `sel`."""
        values = np.asarray([p.style.get(name, default) for p in self.prims])
        return values[self.pid[sel]]

    def attr(self, name: str, sel: np.ndarray) -> np.ndarray:
        values = np.asarray([getattr(p, name, np.zeros(3)) for p in self.prims])
        return values[self.pid[sel]]


def trace(scene: Scene, camera: Camera, height: int, width: int) -> Hits:
    prims = scene.visible_primitives(camera)
    depth, index, rays = cast_primary(camera, prims, height, width)
    flat = np.flatnonzero(index >= 0)
    pid = index.ravel()[flat]
    points = camera.position + depth.ravel()[flat, None] * rays.reshape(-1, 3)[flat]
    normals = np.empty_like(points)
    local = np.empty_like(points)
    order = np.argsort(pid, kind="stable")
    ids, starts = np.unique(pid[order], return_index=True)
    for k, s, e in zip(ids, starts, np.append(starts[1:], len(order))):
        sel = order[s:e]
        local[sel] = prims[k].local(points[sel])
        normals[sel] = prims[k].dir_to_world(prims[k].local_normal(local[sel]))
    return Hits(prims, camera, depth, rays, flat, pid, points, normals, local)


def labels_and_depth(hits: Hits) -> tuple[np.ndarray, np.ndarray]:
    h, w = hits.depth.shape
    labels = np.full(h * w, SKY, dtype=np.uint8)
    labels[hits.flat] = np.asarray([p.label for p in hits.prims], dtype=np.uint8)[hits.pid]
    depth = np.where(np.isfinite(hits.depth), np.minimum(hits.depth, SKY_DEPTH), SKY_DEPTH).astype(np.float32)
    return labels.reshape(h, w), depth


def render(scene: Scene, camera: Camera, height: int, width: int, domain: str, rng: np.random.Generator) -> Frame:
    """Renders `scene` through `camera` with the `sim` or `photo` renderer.

    `rng` drives only the photo camera's random effects (white balance, noise, ...)."""
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}: expected one of {DOMAINS}")
    hits = trace(scene, camera, height, width)
    labels, depth = labels_and_depth(hits)
    if domain == "sim":
        rgb = shade_sim(scene, hits)
    else:
        rgb = shade_photo(scene, hits, rng)
    return Frame(rgb=rgb, labels=labels, depth=depth, camera=camera)


# ---------------------------------------------------------------------------------------
# `sim`: flat palettes
# ---------------------------------------------------------------------------------------

SIM_PALETTE = {
    "asphalt": [(0.45, 0.42, 0.47)],
    "pavement": [(0.66, 0.6, 0.66), (0.7, 0.68, 0.58)],
    "facade": [(0.8, 0.55, 0.45), (0.55, 0.62, 0.75), (0.85, 0.78, 0.5), (0.62, 0.62, 0.62), (0.72, 0.5, 0.65)],
    "wall": [(0.7, 0.65, 0.5)],
    "fence": [(0.6, 0.48, 0.35)],
    "metal": [(0.62, 0.62, 0.68)],
    "sign": [(0.62, 0.62, 0.68)],
    "traffic_light": [(0.25, 0.25, 0.22)],
    "foliage": [(0.3, 0.62, 0.25), (0.4, 0.7, 0.2)],
    "bark": [(0.5, 0.33, 0.2)],
    "car_paint": [(0.85, 0.2, 0.2), (0.2, 0.3, 0.85), (0.92, 0.92, 0.92), (0.22, 0.22, 0.22), (0.92, 0.72, 0.2)],
    "car_cabin": [(0.85, 0.2, 0.2), (0.2, 0.3, 0.85), (0.92, 0.92, 0.92), (0.22, 0.22, 0.22), (0.92, 0.72, 0.2)],
    "tyre": [(0.12, 0.12, 0.12)],
    "bus_body": [(0.95, 0.6, 0.1), (0.2, 0.55, 0.85)],
    "cloth": [(0.75, 0.2, 0.2), (0.2, 0.25, 0.65), (0.3, 0.55, 0.3), (0.85, 0.8, 0.3), (0.35, 0.35, 0.35)],
    "skin": [(0.92, 0.72, 0.6)],
}
SIM_SKY = (0.55, 0.75, 0.97)
SIM_GLASS = np.array([0.28, 0.34, 0.45])


def _object_random(object_ids: np.ndarray, salt: int) -> np.ndarray:
    """A deterministic value in [0, 1) per object id."""
    return tx._lattice(object_ids.astype(np.int64), np.full(len(object_ids), salt, dtype=np.int64), 31337)


def sim_colors(prims: list[Primitive]) -> np.ndarray:
    """(P, 3) palette colour of each primitive: the object picks an entry of its class's
    palette, then gets a small brightness/colour jitter shared by all its parts."""
    oids = np.asarray([p.object_id for p in prims])
    pick = _object_random(oids, 1)
    jitter = np.stack([_object_random(oids, 2 + c) for c in range(3)], axis=1) - 0.5
    bright = 0.85 + 0.3 * _object_random(oids, 5)
    colors = np.empty((len(prims), 3))
    for k, p in enumerate(prims):
        palette = SIM_PALETTE[p.material]
        colors[k] = palette[int(pick[k] * len(palette))]
    return np.clip(colors * bright[:, None] + 0.08 * jitter, 0, 1)


def shade_sim(scene: Scene, hits: Hits) -> np.ndarray:
    h, w = hits.depth.shape
    color = sim_colors(hits.prims)[hits.pid] if len(hits.prims) else np.zeros((0, 3))
    materials = np.asarray([p.material for p in hits.prims])[hits.pid]
    _sim_patterns(hits, materials, color)
    lambert = 0.6 + 0.4 * np.clip(hits.normals @ scene.to_sun, 0, 1)
    lit = color * lambert[:, None]
    emissive = _lamps(hits, materials)
    lit[emissive >= 0] = tx.LAMP_COLORS[emissive[emissive >= 0]]
    image = np.empty((h * w, 3))
    image[:] = SIM_SKY
    image[hits.flat] = lit
    return _to_uint8(image.reshape(h, w, 3))


def _sim_patterns(hits: Hits, materials: np.ndarray, color: np.ndarray) -> None:
    """Flat-colour details: lane markings, windows, glass, sign faces (in place)."""
    sel = np.flatnonzero(materials == "asphalt")
    if sel.size:
        color[sel[_markings(hits, sel)]] = (0.95, 0.95, 0.92)
    sel = np.flatnonzero(materials == "facade")
    if sel.size:
        axis, windows, shops = _facade(hits, sel)
        color[sel[(windows | shops) & (axis != 1)]] = SIM_GLASS
    sel = np.flatnonzero((materials == "car_cabin") | (materials == "bus_body"))
    if sel.size:
        color[sel[_glass(hits, sel, materials[sel])]] = SIM_GLASS
    sel = np.flatnonzero(materials == "sign")
    if sel.size:
        front = hits.normals[sel, 2] < -0.5
        color[sel[front]] = hits.param("face", (0.6, 0.6, 0.6), sel)[front]


def _markings(hits: Hits, sel: np.ndarray) -> np.ndarray:
    p = hits.points[sel]
    g = next(q for q in hits.prims if isinstance(q, Ground))
    return tx.lane_marking_mask(p[:, 0], p[:, 2], g.style["road_half"], g.style["lane_width"], g.style["lanes"],
                                g.style.get("zebra_z", np.nan))


def _facade(hits: Hits, sel: np.ndarray):
    half = hits.attr("half", sel)
    axis, along, height = tx.box_face(hits.local[sel], half)
    floor, bay = hits.param("floor", 3.0, sel), hits.param("bay", 2.5, sel)
    windows = tx.window_mask(along, height, 2 * half[:, 1], floor, bay, hits.param("win_w", 0.5, sel),
                             hits.param("win_h", 0.5, sel))
    shops = tx.shop_mask(along, height, floor, bay) & (hits.param("pattern", 0, sel) == 0)
    return axis, windows, shops


def _glass(hits: Hits, sel: np.ndarray, materials: np.ndarray) -> np.ndarray:
    """Car cabins: glass on the vertical faces below a thin roof line; buses: a band."""
    local, half = hits.local[sel], hits.attr("half", sel)
    vertical = np.abs(hits.normals[sel, 1]) < 0.5
    cabin = vertical & (local[:, 1] < half[:, 1] - 0.06) & (local[:, 1] > -half[:, 1] + 0.04)
    height = local[:, 1] + half[:, 1]
    band = vertical & (height > 0.45 * 2 * half[:, 1]) & (height < 2 * half[:, 1] - 0.3)
    band &= np.mod(local[:, 2] / 1.4, 1.0) > 0.1  # window pillars
    return np.where(materials == "car_cabin", cabin, band)


def _lamps(hits: Hits, materials: np.ndarray) -> np.ndarray:
    """(n,) index of the lit lamp colour for lit traffic-light lamps, -1 elsewhere."""
    out = np.full(len(materials), -1)
    sel = np.flatnonzero(materials == "traffic_light")
    if sel.size:
        lamp = tx.lamp_layout(hits.local[sel], hits.attr("half", sel))
        lit = lamp == hits.param("lit", 0, sel)
        out[sel[lit]] = lamp[lit]
    return out


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)


# ---------------------------------------------------------------------------------------
# `photo`: materials, sun and shadows, sky, haze, camera
# ---------------------------------------------------------------------------------------


def _linear(c) -> np.ndarray:
    return np.asarray(c, dtype=np.float64) ** 2.2


def shade_photo(scene: Scene, hits: Hits, rng: np.random.Generator) -> np.ndarray:
    h, w = hits.depth.shape
    app = scene.appearance
    overcast = app["overcast"] > 0.5
    materials = np.asarray([p.material for p in hits.prims])[hits.pid]
    albedo, gloss = _albedo(hits, materials)

    # Light: the sun (blocked by shadows) plus sky and ground-bounce ambient.
    sun = scene.to_sun
    n = hits.normals
    facing = np.clip(n @ sun, 0, None)
    lit = np.ones(len(n))
    if not overcast:
        # Curbs (pavement boxes) are left out: their shadows are thinner than a pixel.
        casters = [p for p in hits.prims if not isinstance(p, Ground) and p.material != "pavement"]
        cand = np.flatnonzero(facing > 0)
        shadowed = cast_shadows(hits.points[cand] + 0.02 * n[cand], sun, casters)
        lit[cand[shadowed]] = 0.0
    sun_rgb = np.array([1.0, 0.95, 0.85]) * (0.6 if overcast else 2.6)
    sky_amb = np.array([0.55, 0.62, 0.75]) * (1.1 if overcast else 0.6)
    ambient = sky_amb * (0.55 + 0.45 * n[:, 1:2]) + 0.08
    color = albedo * (sun_rgb * (facing * lit)[:, None] + ambient)

    # Specular highlight and sky reflection on paint and glass.
    view = hits.rays.reshape(-1, 3)[hits.flat]
    view = view / np.linalg.norm(view, axis=1, keepdims=True)
    half_vec = sun - view
    half_vec /= np.linalg.norm(half_vec, axis=1, keepdims=True)
    spec = np.clip((n * half_vec).sum(1), 0, 1) ** 60 * lit * (0.2 if overcast else 1.0)
    reflect_up = np.clip((view - 2 * (view * n).sum(1, keepdims=True) * n)[:, 1], 0, 1)
    color += gloss[:, None] * (4.0 * spec[:, None] + 0.35 * reflect_up[:, None] * sky_amb)

    lamps = _lamps(hits, materials)
    color[lamps >= 0] = 3.0 * tx.LAMP_COLORS[lamps[lamps >= 0]]

    # Aerial perspective: distant surfaces fade towards the horizon colour.
    horizon = np.array([0.62, 0.68, 0.75]) if not overcast else np.array([0.6, 0.6, 0.62])
    distance = hits.depth.ravel()[hits.flat] * np.linalg.norm(hits.rays.reshape(-1, 3)[hits.flat], axis=1)
    fade = np.exp(-distance / app["visibility"])[:, None]
    color = color * fade + horizon * (1 - fade)

    image = np.empty((h * w, 3))
    sky = np.ones(h * w, dtype=bool)
    sky[hits.flat] = False
    image[sky] = _sky(scene, hits.rays.reshape(-1, 3)[sky], horizon)
    image[hits.flat] = color
    return _camera_effects(image.reshape(h, w, 3), rng)


def _albedo(hits: Hits, materials: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3) linear albedo and (n,) glossiness of every hit, material by material."""
    n = len(materials)
    albedo = np.empty((n, 3))
    gloss = np.zeros(n)
    base = _linear(np.asarray([p.color for p in hits.prims]))[hits.pid] if n else np.zeros((0, 3))
    p, local = hits.points, hits.local
    oid = np.asarray([q.object_id for q in hits.prims])[hits.pid] if n else np.zeros(0, dtype=np.int64)

    def pick(name):
        return np.flatnonzero(materials == name)

    s = pick("asphalt")
    if s.size:
        x, z = p[s, 0], p[s, 2]
        grain = tx.value_noise(x * 25, z * 25, 3) - 0.5
        patches = tx.fbm(x * 0.25, z * 0.25, 4, octaves=3)
        v = 0.055 + 0.05 * patches + 0.025 * grain
        albedo[s] = v[:, None] * np.array([1.0, 1.0, 1.05])
        paint = _markings(hits, s) & (tx.value_noise(x * 4, z * 4, 5) > 0.25)
        albedo[s[paint]] = 0.5 + 0.1 * grain[paint, None]
    s = pick("pavement")
    if s.size:
        x, z = p[s, 0], p[s, 2]
        top = hits.normals[s, 1] > 0.5
        tile = 0.5
        tx_i, tz_i = np.floor(x / tile).astype(np.int64), np.floor(z / tile).astype(np.int64)
        per_tile = tx._lattice(tx_i, tz_i, 11)
        grout = (np.mod(x / tile, 1) < 0.05) | (np.mod(z / tile, 1) < 0.05)
        v = 0.16 + 0.06 * per_tile - 0.06 * grout + 0.03 * (tx.value_noise(x * 20, z * 20, 12) - 0.5)
        v = np.where(top, v, 0.22 + 0.04 * tx.value_noise(z * 3, p[s, 1] * 3, 13))  # curb stone
        albedo[s] = v[:, None] * np.array([1.0, 0.97, 0.92])
    s = pick("facade")
    if s.size:
        axis, windows, shops = _facade(hits, s)
        half = hits.attr("half", s)
        _, along, height = tx.box_face(local[s], half)
        stain = 0.75 + 0.5 * tx.fbm(along * 0.4 + oid[s], height * 0.4, 21, octaves=3)
        bands = np.where(np.mod(height / hits.param("floor", 3.0, s), 1.0) < 0.06, 0.8, 1.0)
        albedo[s] = base[s] * 0.75 * (stain * bands)[:, None]
        roof = axis == 1
        albedo[s[roof]] = 0.08
        glass = (windows | shops) & ~roof
        reflect = 0.02 + 0.03 * tx.value_noise(along[glass] * 0.7, height[glass] * 0.3 + oid[s][glass], 22)
        albedo[s[glass]] = reflect[:, None] * np.array([0.9, 1.0, 1.15])
        gloss[s[glass]] = 1.0
    s = pick("wall")
    if s.size:
        v = 0.7 + 0.5 * tx.fbm(p[s, 0] * 0.8 + p[s, 2] * 0.8, p[s, 1] * 0.8, 31, octaves=3)
        albedo[s] = base[s] * 0.7 * v[:, None]
    s = pick("fence")
    if s.size:
        along = local[s, 2]
        bars = np.mod(along / hits.param("spacing", 0.2, s), 1.0) < 0.35
        rails = (np.abs(local[s, 1]) > hits.attr("half", s)[:, 1] - 0.08)
        behind = 0.04 + 0.04 * tx.fbm(p[s, 2] * 2, p[s, 1] * 2, 32, octaves=2)  # seen through the gaps
        albedo[s] = np.where((bars | rails)[:, None], base[s] * 0.6, behind[:, None] * np.array([0.8, 1.0, 0.7]))
    s = pick("metal")
    if s.size:
        albedo[s] = base[s] * 0.6 * (0.85 + 0.3 * tx.value_noise(p[s, 1] * 3, oid[s] * 1.0, 41))[:, None]
        gloss[s] = 0.3
    s = pick("sign")
    if s.size:
        front = hits.normals[s, 2] < -0.5
        face = _linear(hits.param("face", (0.6, 0.6, 0.6), s))
        radial = np.hypot(local[s, 0], local[s, 1])
        border = radial > 0.27
        albedo[s] = np.where(front[:, None], np.where(border[:, None], 0.7, face * 0.8), 0.15)
        gloss[s] = 0.2
    s = pick("traffic_light")
    if s.size:
        albedo[s] = 0.02
        gloss[s] = 0.3
    s = pick("foliage")
    if s.size:
        u = p[s, 0] * 2.5 + p[s, 2] * 2.5
        leaves = tx.fbm(u, p[s, 1] * 2.5, 51, octaves=3)
        holes = tx.value_noise(u * 3, p[s, 1] * 7, 52) < 0.25
        v = (0.4 + 0.9 * leaves) * np.where(holes, 0.35, 1.0)
        albedo[s] = base[s] * 0.45 * v[:, None]
    s = pick("bark")
    if s.size:
        streaks = tx.value_noise(np.arctan2(local[s, 0], local[s, 2]) * 6, p[s, 1] * 0.8, 61)
        albedo[s] = base[s] * (0.3 + 0.4 * streaks)[:, None]
    for name in ("car_paint", "car_cabin", "bus_body"):
        s = pick(name)
        if s.size:
            albedo[s] = base[s] * 0.8
            gloss[s] = 0.6
    s = np.flatnonzero((materials == "car_cabin") | (materials == "bus_body"))
    if s.size:
        glass = _glass(hits, s, materials[s])
        albedo[s[glass]] = 0.02
        gloss[s[glass]] = 1.0
    s = pick("tyre")
    if s.size:
        albedo[s] = 0.025
    s = pick("cloth")
    if s.size:
        v = 0.7 + 0.6 * tx.value_noise(p[s, 1] * 6, (p[s, 0] + p[s, 2]) * 6, 71)
        albedo[s] = base[s] * 0.7 * v[:, None]
    s = pick("skin")
    if s.size:
        albedo[s] = base[s] * 0.8
    return albedo, gloss


def _sky(scene: Scene, rays: np.ndarray, horizon: np.ndarray) -> np.ndarray:
    """(N, 3) linear sky radiance along the rays: gradient, clouds, sun glow."""
    app = scene.appearance
    d = rays / np.linalg.norm(rays, axis=1, keepdims=True)
    up = np.clip(d[:, 1], 0, 1)
    if app["overcast"] > 0.5:
        base = np.array([0.55, 0.56, 0.6]) * (0.9 + 0.2 * up[:, None])
        cover, bright = 0.9, 0.62
    else:
        zenith = _linear(app["sky_color"]) * 0.9
        t = up[:, None] ** 0.5
        base = horizon * (1 - t) + zenith * t
        cover, bright = 0.45, 0.95
    with np.errstate(divide="ignore", invalid="ignore"):
        cu, cv = d[:, 0] / np.maximum(d[:, 1], 0.03), d[:, 2] / np.maximum(d[:, 1], 0.03)
    clouds = tx.fbm(cu * 0.8, cv * 0.8, app["cloud_seed"] % 100000, octaves=4)
    amount = np.clip((clouds - (1 - cover)) * 2.5, 0, 1)[:, None] * (up[:, None] > 0.01)
    sky = base * (1 - amount) + bright * amount
    glow = np.clip(d @ scene.to_sun, 0, 1) ** 64 * (0.0 if app["overcast"] > 0.5 else 2.0)
    return sky + glow[:, None] * np.array([1.0, 0.9, 0.7])


def _camera_effects(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Linear radiance (H, W, 3) -> a uint8 photo through a simple camera model."""
    h, w, _ = image.shape
    wb = 1 + rng.normal(0, 0.06, 3)  # white balance error
    exposure = float(rng.uniform(0.8, 1.4))
    yy, xx = np.mgrid[0:h, 0:w]
    r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (w / 2)) ** 2
    vignette = 1 - float(rng.uniform(0.15, 0.4)) * r2
    x = image * wb * exposure * vignette[..., None]
    x = 1 - np.exp(-1.6 * x)  # filmic shoulder
    x = np.clip(x, 0, 1) ** (1 / 2.2)
    contrast = float(rng.uniform(0.9, 1.2))
    x = np.clip(0.5 + (x - 0.5) * contrast, 0, 1).astype(np.float32)
    sigma = float(rng.uniform(0.4, 0.9))
    x = cv2.GaussianBlur(x, (0, 0), sigmaX=sigma)
    noise = rng.normal(0, 1, x.shape).astype(np.float32)
    x = x + noise * (0.008 + 0.02 * np.sqrt(np.clip(x, 0, 1)))
    rgb = _to_uint8(x)
    quality = int(rng.integers(40, 85))
    ok, buf = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok, "OpenCV could not JPEG-encode a frame"
    return np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1])
